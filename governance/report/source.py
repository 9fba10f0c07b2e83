"""Reading one run out of the trail: its events, their payloads and the evidence blobs they name.

The report reads only what the trail and its blobs hold (see the EVENT KINDS contract in
:mod:`governance.trail`). Payload fields are read defensively: a missing field becomes ``None``
in the report rather than an exception, because a report of an interrupted or partly-recorded run
is still worth having, and says what is missing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from governance.errors import UserError
from governance.findings import jsonable

NO_SUCH_RUN = "unknown run id '{run_id}' in {where}; known runs: {known}"
NO_RUNS = "the trail in {where} has no runs yet (run `rai run PIPELINE.yaml` first)"


@dataclass
class RecordedRun:
    """One run as the trail recorded it: its events (up to ``upto_seq``) and the blobs they reference.

    Read-only; :class:`governance.recorder.RunRecorder` is what writes those events.
    """

    run_id: str
    events: list[dict[str, Any]]
    trail: Any = field(repr=False, default=None)
    _blobs: dict[str, Any] = field(default_factory=dict, repr=False)

    def of_kind(self, kind: str) -> list[dict[str, Any]]:
        return [e for e in self.events if e["kind"] == kind]

    def first(self, kind: str) -> dict[str, Any] | None:
        found = self.of_kind(kind)
        return found[0] if found else None

    def last(self, kind: str) -> dict[str, Any] | None:
        found = self.of_kind(kind)
        return found[-1] if found else None

    def payload(self, kind: str, last: bool = False) -> dict[str, Any]:
        """Payload of the first (or last) event of ``kind``; empty when there is none."""
        ev = self.last(kind) if last else self.first(kind)
        return dict((ev or {}).get("payload") or {})

    def stage(self, name: str) -> dict[str, Any]:
        """Payload of the last ``stage.completed`` event of stage ``name`` (empty if none)."""
        found = [e for e in self.of_kind("stage.completed") if (e.get("payload") or {}).get("stage") == name]
        return dict(found[-1]["payload"]) if found else {}

    def blob_json(self, digest: str | None) -> Any:
        """A JSON evidence blob by its SHA-256, or ``None`` if absent or not JSON.

        Blobs are cached: a report reads each one once even if several sections use it.
        """
        if not digest or self.trail is None:
            return None
        if digest not in self._blobs:
            try:
                self._blobs[digest] = json.loads(self.trail.get_blob(digest))
            except Exception:  # a missing or non-JSON blob is reported as absent, not fatal
                self._blobs[digest] = None
        return self._blobs[digest]

    def stage_evidence(self, name: str) -> dict[str, Any]:
        """The decoded evidence blob of stage ``name`` (empty dict if none)."""
        blob = self.blob_json(self.stage(name).get("evidence_blob"))
        return blob if isinstance(blob, dict) else {}


def resolve_run_id(trail: Any, run_id: str, where: str) -> str:
    """``run_id`` itself, or the most recent pipeline run for ``latest``; UserError if unknown."""
    runs = list(trail.runs())
    if not runs:
        raise UserError(NO_RUNS.format(where=where))
    if run_id == "latest":  # the latest pipeline run; audits and approvals alone do not count
        started = {e.run_id for e in trail.iter_events(kind="run.started")}
        pipeline_runs = [r for r in runs if r in started]
        return (pipeline_runs or runs)[-1]
    if run_id not in runs:
        known = ", ".join(runs[-5:]) + (" ..." if len(runs) > 5 else "")
        raise UserError(NO_SUCH_RUN.format(run_id=run_id, where=where, known=known))
    return run_id


def load_run(trail: Any, run_id: str, upto_seq: int | None = None) -> RecordedRun:
    """The run's events in seq order (as plain dicts), limited to ``seq <= upto_seq`` when given."""
    events = [jsonable(e.to_dict()) for e in trail.iter_events(run_id=run_id)]
    if upto_seq is not None:
        events = [e for e in events if e["seq"] <= upto_seq]
    return RecordedRun(run_id=run_id, events=events, trail=trail)
