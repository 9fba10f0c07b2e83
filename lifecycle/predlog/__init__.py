"""The prediction log: every decision a server makes, append-only, committed to the audit trail.

Record (one JSON line per scored row; canonical: keys sorted, ASCII)::

    {"request_id": "0193a4...", "row": 0, "time": "2025-01-31T09:30:00.123Z",
     "model": "adult-income", "version": 1, "model_sha256": "...",
     "input_sha256": "...",              # SHA-256 of the canonical JSON of "inputs"
     "inputs": {"age": 39, ...},         # left out when the server runs with --no-log-inputs
     "score": 0.12, "label": 0, "flags": ["age:out_of_range"],
     "client_request_id": "..."}         # only when the client sent X-Request-ID

``score`` and ``label`` depend on the model's task (``schema.task`` of its manifest): a binary
model's positive-class score and 0/1 label; a multiclass model's class (``label``, as the
schema's ``classes`` name it), its probability (``score``) and ``"probabilities"``, every class's
probability in ``classes`` order; a regression model's prediction (``score``), ``label`` null.

Segments (:mod:`lifecycle.predlog.segment`) are written by one process each and committed to
the trail when closed (:mod:`lifecycle.predlog.log`): the segment's bytes and its Merkle leaves
become trail blobs, and a ``predictions.segment_closed`` event records the Merkle root. So
``rai trail verify`` finds an edited or deleted closed segment (its blob no longer matches or
is gone, located at the event), and ``rai predictions verify``
(:mod:`lifecycle.predlog.verify`) also finds the edited line, and segments announced but
neither committed nor open. ``rai predictions show`` (:mod:`lifecycle.predlog.query`) finds a
decision by request id and proves it: record → segment root (RFC 6962 inclusion path) → trail
entry (inclusion proof against a signed checkpoint).
"""

from lifecycle.predlog.log import CLOSED, OPENED, PredictionLog, commit_segment, log_dir, recover_orphans
from lifecycle.predlog.segment import PredictionLogError, encode_record

__all__ = ["CLOSED", "OPENED", "PredictionLog", "PredictionLogError", "commit_segment", "encode_record",
           "log_dir", "recover_orphans"]
