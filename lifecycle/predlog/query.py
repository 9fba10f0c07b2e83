"""Find logged decisions and prove them; export the log. Reads only.

A proof of one decision (``rai predictions show ID --proof FILE``) chains three links, each
checkable without the workspace:

1. the record's line hashes to leaf ``index`` of its segment, and the RFC 6962 audit path
   leads from that leaf to the segment's Merkle root;
2. that root is in the ``predictions.segment_closed`` event of trail entry ``seq``;
3. the trail's inclusion proof shows that entry in a checkpoint signed by the workspace key.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from governance.errors import UserError
from governance.trail import open_trail
from governance.trail.blobs import BlobStore
from governance.trail.errors import TrailIntegrityError
from governance.trail.merkle import inclusion_path, leaf_hash, verify_inclusion
from governance.workspace import Workspace
from lifecycle.predlog.log import CLOSED, log_dir
from lifecycle.predlog.segment import SUFFIX, Parsed, parse_segment
from lifecycle.predlog.verify import check_committed

PROOF_FORMAT = "rai.prediction-proof/v1"


@dataclass
class Segment:
    """A committed segment (``seq`` of its closing event) or an open one (``seq`` None)."""

    name: str
    seq: int | None
    payload: dict[str, Any] | None
    parsed: Parsed


def iter_segments(ws: Workspace, blobs_ok_only: bool = True) -> Iterator[Segment]:
    """Committed segments in trail order (their content checked first), then open ones.

    A committed segment that does not verify raises :class:`TrailIntegrityError` (exit 1)
    naming the problem: nothing read from it could be trusted.
    """
    store = BlobStore(ws.blobs)
    with open_trail(ws, create=False) as trail:
        closed = trail.events(kind=CLOSED)
    for event in closed:
        problems = check_committed(store, event.seq, event.payload) if blobs_ok_only else []
        if problems:
            raise TrailIntegrityError(f"{problems[0].message}; run `rai predictions verify`")
        parsed = parse_segment(store.path(event.payload["segment_blob"]).read_bytes())
        yield Segment(str(event.payload["segment"]), event.seq, event.payload, parsed)
    directory = log_dir(ws)
    for path in sorted(directory.glob(f"*{SUFFIX}")) if directory.is_dir() else []:
        try:
            parsed = parse_segment(path.read_bytes())
        except FileNotFoundError:
            continue  # committed meanwhile; a fresh listing finds it among the committed
        yield Segment(path.name[: -len(SUFFIX)], None, None, parsed)


def find_decisions(ws: Workspace, request_id: str) -> list[dict[str, Any]]:
    """Every logged row of request ``request_id`` (or ``client_request_id``), each with its proof."""
    found = []
    for segment in iter_segments(ws):
        for index, record in enumerate(segment.parsed.records()):
            if record is not None and request_id in (record.get("request_id"), record.get("client_request_id")):
                found.append(_with_proof(ws, segment, index, record))
    return found


def decision_summary(record: dict[str, Any]) -> str:
    """A logged decision in words, for each task's record layout (see :mod:`lifecycle.predlog`):
    a regression's prediction, a class with its probability (and every class's, in the model's
    class order), or a binary score and label."""
    if "probabilities" in record:
        return (f"label {json.dumps(record.get('label'))}  score {record.get('score')}  "
                f"probabilities {json.dumps(record.get('probabilities'))} (in the model's class order)")
    if record.get("label") is None:
        return f"prediction {record.get('score')}"
    return f"score {record.get('score')}  label {record.get('label')}"


def _with_proof(ws: Workspace, segment: Segment, index: int, record: dict[str, Any]) -> dict[str, Any]:
    line = segment.parsed.lines[index]
    out: dict[str, Any] = {"record": record, "segment": segment.name, "line": index + 1,
                           "committed": segment.seq is not None}
    if segment.seq is None:
        out["proof"] = None
        out["note"] = "in an open segment: provable once the segment is committed"
        return out
    proof = {"format": PROOF_FORMAT, "record_line": line.decode("ascii"), "leaf_index": index,
             "segment_records": len(segment.parsed.lines), "merkle_root": segment.payload["merkle_root"],
             "audit_path": [h.hex() for h in inclusion_path(index, segment.parsed.leaves)],
             "trail_seq": segment.seq, "trail_proof": None}
    with open_trail(ws, create=False) as trail:
        try:
            proof["trail_proof"] = trail.prove(segment.seq)
        except UserError as err:  # no checkpoint covers the entry yet
            out["note"] = str(err)
    out["proof"] = proof
    return out


def check_decision_proof(proof: Any, checkpoint: Any) -> tuple[list[str], dict[str, Any] | None]:
    """Check a decision proof against a trail checkpoint; return (failures, the proven record)."""
    from governance.trail.proofs import check_proof

    if not isinstance(proof, dict) or proof.get("format") != PROOF_FORMAT:
        raise UserError(f"not a rai prediction proof (format must be '{PROOF_FORMAT}')")
    try:
        line = proof["record_line"].encode("ascii")
        index, size = int(proof["leaf_index"]), int(proof["segment_records"])
        path = [bytes.fromhex(h) for h in proof["audit_path"]]
        root = bytes.fromhex(proof["merkle_root"])
        record = json.loads(line)
    except (KeyError, TypeError, ValueError, AttributeError) as err:
        raise UserError(f"malformed prediction proof: {err}") from None
    failures = []
    if not verify_inclusion(index, size, leaf_hash(line), path, root):
        failures.append("the record's audit path does not lead to the segment's Merkle root")
    if not isinstance(proof.get("trail_proof"), dict):
        failures.append("the proof has no trail inclusion proof (no checkpoint covered the segment's entry)")
        return failures, None
    trail_failures, event = check_proof(proof["trail_proof"], checkpoint)
    failures += trail_failures
    payload = (event or {}).get("payload") or {}
    if event is not None and (event.get("kind") != CLOSED or payload.get("merkle_root") != proof["merkle_root"]
                              or payload.get("records") != size or event.get("seq") != proof.get("trail_seq")):
        failures.append("the trail entry is not the commit of a segment with this Merkle root and size")
    return failures, (record if not failures else None)


def export_records(ws: Workspace, output: Path, since: str | None = None, until: str | None = None,
                   model: str | None = None, committed_only: bool = False) -> int:
    """Write the decisions (JSON lines, as logged) in [since, until) to ``output``; return how many."""
    count = 0
    with open(output, "w", encoding="ascii") as out:
        for segment in iter_segments(ws):
            if committed_only and segment.seq is None:
                continue
            for line, record in zip(segment.parsed.lines, segment.parsed.records(), strict=True):
                if record is None or not _selected(record, since, until, model):
                    continue
                out.write(line.decode("ascii") + "\n")
                count += 1
    return count


def _selected(record: dict[str, Any], since: str | None, until: str | None, model: str | None) -> bool:
    time = str(record.get("time"))
    return ((since is None or time >= since) and (until is None or time < until)
            and (model is None or record.get("model") == model))
