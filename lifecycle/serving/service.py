"""The serving logic, free of HTTP: parse a request body, validate, score, log, answer.

:meth:`Service.predict` takes the raw body and returns ``(status, JSON bytes)``. Every answer
is valid JSON (scores are checked finite before anything is sent), every decision is in the
prediction log before its answer exists, and a server whose entry stopped verifying answers
503 instead of deciding.

``predict`` is two steps, which the server also runs apart: :meth:`Service.admit` parses and
validates one body into a :class:`Ticket`; :meth:`Service.decide` scores the rows of several
tickets together (one model call), decides each, writes all their log lines in one write and
fills in each ticket's answer. Requests that arrive together are so answered together, at the
cost of one model call and one log write instead of one each.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import os
import random
import secrets
import sys
import time
from typing import Any

from governance.errors import UserError
from governance.trail import open_trail
from governance.workspace import Workspace
from lifecycle.predlog import PredictionLog, PredictionLogError
from lifecycle.serve import VerifiedEntry
from lifecycle.serving.decisions import NoDecision, task_of
from lifecycle.serving.integrity import entry_checks, first_problem
from lifecycle.serving.metrics import Metrics
from lifecycle.serving.openapi import build_openapi
from lifecycle.serving.profile import derived_profile, profile_from_manifest
from lifecycle.serving.rows import HugeNumber, RowError, RowValidator, ValidRows
from lifecycle.serving.scoring import OutputMismatch, build_scorer
from lifecycle.serving.settings import ServeSettings

REFUSED = "serving.refused"
_MAX_INT_DIGITS = 40  # longer JSON integers are no feature value; parsed as a marker, refused by field


class BadRequest(ValueError):
    """A request that cannot be answered with a decision: ``status`` and one-line message."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


def _parse_int(text: str) -> int | HugeNumber:
    return int(text) if len(text) <= _MAX_INT_DIGITS else HugeNumber(len(text.lstrip("-")))


_DECODER = json.JSONDecoder(parse_int=_parse_int)
_BODY_KEYS = frozenset({"rows", "row", "model", "version"})
_STRICT = json.JSONEncoder(allow_nan=False, ensure_ascii=True, separators=(",", ":"))
_CANONICAL = json.JSONEncoder(sort_keys=True, allow_nan=False, ensure_ascii=True, separators=(",", ":"))


def dumps(value: Any) -> bytes:
    """Strict JSON (no NaN, no infinity): what every response body is."""
    return _STRICT.encode(value).encode("ascii")


def error_body(message: str, request_id: str | None = None) -> bytes:
    return dumps({"error": message} if request_id is None else {"error": message, "request_id": request_id})


class Ticket:
    """One request on its way through :meth:`Service.admit` and :meth:`Service.decide`: its ids,
    validated rows and, once answered, ``status`` (0 until then) and ``payload``."""

    __slots__ = ("request_id", "client_id", "where", "valid", "decided", "status", "payload")

    def __init__(self, request_id: str, client_id: str | None):
        self.request_id, self.client_id, self.where = request_id, client_id, "rows"
        self.valid: Any = None
        self.decided: Any = None
        self.status, self.payload = 0, b""

    def answered(self, status: int, message: str) -> Ticket:
        """Answer with an error (no decision made)."""
        self.status, self.payload = status, error_body(message, self.request_id)
        return self


class Service:
    """One verified entry, served: validator, scorer, prediction log, metrics, integrity state."""

    def __init__(self, verified: VerifiedEntry, settings: ServeSettings, reference: bytes | None = None):
        entry, schema = verified.entry, verified.entry.body["schema"]
        self.entry, self.settings, self.ws = entry, settings, Workspace.at(settings.workspace)
        manifest = entry.dir / "manifest.json"
        self.task = task_of(entry.body, str(manifest))
        try:
            self.scorer = build_scorer(entry.body["format"], verified.files, schema["numeric"], schema["categorical"],
                                       self.task.outputs)
        except OutputMismatch as err:
            raise UserError(f"{manifest}: refusing to serve {entry.name} v{entry.version}: {err}") from None
        self.profile = profile_from_manifest(schema) or derived_profile(schema, self.scorer.encoder, reference)
        features = set(schema["numeric"]) | set(schema["categorical"])
        extra = [c for c in schema.get("sensitive") or [] if c not in features]
        self.validator = RowValidator(self.scorer.numeric, self.scorer.categorical, extra, self.profile,
                                      schema.get("na_values") or [], settings.unseen)
        self.identity = {"name": entry.name, "version": entry.version, "model_sha256": entry.body["model_sha256"]}
        self._answer_model = f'"model":{_STRICT.encode(entry.name)},"version":{int(entry.version)}'
        self._record_tail = (f'"model":{_CANONICAL.encode(entry.name)},"model_sha256":{_CANONICAL.encode(entry.body["model_sha256"])},',
                             f'"version":{int(entry.version)}}}')
        self.manifest_bytes = json.dumps(verified.document, sort_keys=True).encode("utf-8")
        self.openapi_bytes = dumps(build_openapi(entry, self.validator, self.profile, settings,
                                                   self.task.decision_schema()))
        self.metrics = Metrics(entry.name, entry.version, self.task.metric_labels)
        self.checks = entry_checks(self.ws)
        self.refused: str | None = None
        self.log: PredictionLog | None = None

    # -- life cycle ---------------------------------------------------------------------
    def start(self) -> None:
        """Open the prediction log (committing segments of servers that died first)."""
        if self.settings.prediction_log:
            s = self.settings
            self.log = PredictionLog(self.ws, self.identity, {"log_inputs": s.log_inputs, "unseen": s.unseen},
                                     segment_records=s.segment_records, segment_seconds=s.segment_seconds,
                                     sync_seconds=s.sync_seconds)
            self.log.start()

    def stop(self) -> None:
        """Commit the open segment; the service takes no more decisions."""
        log, self.log = self.log, None
        if log is not None:
            log.stop()

    def recheck(self) -> str | None:
        """Run the integrity checks; on the first failure refuse from now on and record why."""
        if self.refused:
            return self.refused
        reason = first_problem(self.entry, self.checks)
        if reason:
            self.refused = f"{self.entry.name} v{self.entry.version} no longer verifies: {reason}"
            self.metrics.verified(False)
            print(f"error: {self.refused}; refusing to serve", file=sys.stderr, flush=True)
            try:
                with open_trail(self.ws.ensure()) as trail:
                    trail.append(REFUSED, payload={"model": self.identity, "reason": reason, "pid": os.getpid()},
                                 subjects={"model": self.identity["model_sha256"]})
            except Exception as err:  # refusing matters more than recording it
                print(f"warning: could not record the refusal in the trail: {err}", file=sys.stderr)
        return self.refused

    # -- requests -----------------------------------------------------------------------
    def health(self) -> tuple[int, bytes]:
        body = {"status": "refused" if self.refused else "ok", "model": self.entry.name, "version": self.entry.version,
                "model_sha256": self.identity["model_sha256"], "prediction_log": self.log is not None}
        if self.refused:
            body["reason"] = self.refused
        return (503 if self.refused else 200), dumps(body)

    def predict(self, body: bytes, client_id: str | None = None) -> tuple[int, bytes]:
        """Answer one ``POST /predict`` body: ``(HTTP status, JSON bytes)``."""
        ticket = self.admit(body, client_id)
        self.decide([ticket])
        return ticket.status, ticket.payload

    def admit(self, body: bytes, client_id: str | None = None) -> Ticket:
        """Parse and validate a body; a ticket whose ``status`` is already set is refused."""
        ticket = Ticket(new_request_id(), client_id)
        if self.refused:
            return ticket.answered(503, f"{self.refused}; no decision made")
        if self.log is None and self.settings.prediction_log:  # not started yet, or stopped
            return ticket.answered(503, "the prediction log is closed; no decision made")
        try:
            rows, ticket.where = self._rows(body)
            ticket.valid = self.validator.validate(rows, ticket.where)
        except BadRequest as err:
            return ticket.answered(err.status, str(err))
        except RowError as err:
            return ticket.answered(400, str(err))
        return ticket

    def decide(self, tickets: list[Ticket]) -> None:
        """Score the admitted tickets' rows (in one model call when they are few and the scorer
        computes rows apart: the scores are those of separate calls), decide, log all decisions
        in one write, and set every ticket's ``status`` and ``payload``."""
        admitted = [t for t in tickets if t.status == 0]
        if not admitted:
            return
        if len(admitted) == 1 or sum(t.valid.rows for t in admitted) > self.scorer.shared_rows:
            outputs = [self.scorer(t.valid) for t in admitted]
        else:
            joined = self.scorer(ValidRows.join([t.valid for t in admitted]))
            ends = list(itertools.accumulate(t.valid.rows for t in admitted))
            outputs = [joined[end - t.valid.rows:end] for t, end in zip(admitted, ends, strict=True)]
        made = []
        for ticket, output in zip(admitted, outputs, strict=True):
            try:
                ticket.decided = self.task.decide(output, ticket.valid.rows)
            except NoDecision as err:
                ticket.answered(500, f"{ticket.where}[{err.row}]: the model gave no finite score; no decision made")
            else:
                made.append(ticket)
        if made and self.log is not None:
            try:
                self.log.append(self._log_lines(made))
            except PredictionLogError as err:
                for ticket in made:
                    ticket.answered(503, f"the prediction log cannot record decisions ({err}); no decision made")
                return
        for ticket in made:
            valid = ticket.valid
            self.metrics.decided(ticket.decided.counted, valid.rows, valid.flags, self.log is not None)
            ticket.status = 200
            ticket.payload = self._answer(ticket.request_id, ticket.client_id,
                                          self.task.answers(ticket.decided, valid.flags))

    def _answer(self, request_id: str, client_id: str | None, decisions: str) -> bytes:
        """The 200 body, written out (every piece is a number, a validated id or JSON-encoded)."""
        client = f',"client_request_id":"{client_id}"' if client_id is not None else ""
        return (f'{{"request_id":"{request_id}"{client},{self._answer_model},"predictions":[{decisions}]}}'
                .encode("ascii"))

    def _rows(self, body: bytes) -> tuple[list[Any], str]:
        if not body:
            raise BadRequest(400, 'empty body; send {"rows": [{column: value, ...}, ...]} or {"row": {...}}')
        try:
            data = _DECODER.decode(body.decode("utf-8"))
        except RecursionError:
            raise BadRequest(400, "body: JSON nested too deeply") from None
        except UnicodeDecodeError as err:
            raise BadRequest(400, f"body is not UTF-8 text (byte {err.start})") from None
        except ValueError as err:
            raise BadRequest(400, f"body is not valid JSON: {str(err)[:120]}") from None
        if isinstance(data, list):
            rows, where = data, "rows"
        elif isinstance(data, dict):
            keys = data.keys()
            if not keys <= _BODY_KEYS or ("rows" in data) == ("row" in data):
                self._check_model(data)
                unknown = sorted(set(keys) - _BODY_KEYS)
                raise BadRequest(400, 'body must be {"rows": [...]} or {"row": {...}} (optionally with "model", '
                                      f'"version"){"; unknown key " + repr(unknown[0])[:40] if unknown else ""}')
            if "model" in data or "version" in data:
                self._check_model(data)
            rows, where = (data["rows"], "rows") if "rows" in data else ([data["row"]], "row")
        else:
            raise BadRequest(400, 'body must be {"rows": [ {column: value, ...}, ... ]} or {"row": {...}}')
        if not isinstance(rows, list) or not rows:
            raise BadRequest(400, 'rows: must be a non-empty array of {column: value} objects')
        if len(rows) > self.settings.max_rows:
            raise BadRequest(413, f"rows: at most {self.settings.max_rows} rows per request, got {len(rows)}")
        return rows, where

    def _check_model(self, data: dict[str, Any]) -> None:
        name, version = data.get("model", self.entry.name), data.get("version", self.entry.version)
        if name != self.entry.name or version != self.entry.version or type(version) is not int:
            raise BadRequest(404, f"model {str(name)[:60]!r} version {str(version)[:20]} is not served here; "
                                  f"this server serves {self.entry.name} version {self.entry.version}")

    def _log_lines(self, tickets: list[Ticket]) -> list[bytes]:
        """The log lines of the decided tickets, written out in canonical form (sorted keys, as
        :func:`encode_record` would: every piece is a number, null, a validated id or time, or
        JSON-encoded here). Decided together, they share their time."""
        keep, (model, version) = self.settings.log_inputs, self._record_tail
        end, sha256, flags_json = f',"time":"{record_time()}",{version}', hashlib.sha256, _CANONICAL.encode
        lines = []
        for ticket in tickets:
            head = f'{{"client_request_id":"{ticket.client_id}",' if ticket.client_id is not None else "{"
            middle = f'"request_id":"{ticket.request_id}","row":'
            scores, labels, probabilities = ticket.decided.scores, ticket.decided.labels, ticket.decided.probabilities
            all_flags = ticket.valid.flags
            for i, canonical in enumerate(ticket.valid.inputs):
                flags = all_flags[i]
                kept = f'"inputs":{canonical},' if keep else ""
                # "probabilities" sorts between "model_sha256" (the end of model) and "request_id"
                listed = f'"probabilities":[{",".join(probabilities[i])}],' if probabilities is not None else ""
                lines.append(f'{head}"flags":{flags_json(flags) if flags else "[]"},"input_sha256":'
                             f'"{sha256(canonical.encode("ascii")).hexdigest()}",{kept}"label":{labels[i]},'
                             f'{model}{listed}{middle}{i},"score":{scores[i]}{end}'.encode("ascii"))
        return lines


_RANDOM = random.Random(secrets.randbits(128))  # uniqueness, not secrecy: no system call per request


def new_request_id() -> str:
    """28 hex digits: milliseconds since the epoch (12), then 64 random bits; sortable by time."""
    return f"{time.time_ns() // 1_000_000:012x}{_RANDOM.getrandbits(64):016x}"


_second: list[Any] = [None, ""]


def record_time() -> str:
    """Now, as the trail writes times (RFC 3339 UTC, microseconds), cheaply."""
    now = time.time()
    whole = math.floor(now)
    if _second[0] != whole:
        _second[0], _second[1] = whole, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole))
    return f"{_second[1]}.{int((now - whole) * 1_000_000):06d}Z"
