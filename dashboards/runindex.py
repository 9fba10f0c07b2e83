"""The list of runs, kept up to date incrementally as the trail grows.

Listing runs means reading every ``run.started`` and ``run.finished`` event, about a second
for a trail of 100,000 events. The index reads them once, then on each page load only the
events appended since, so a growing trail costs a page only its new events.
It is a view, not a verdict: integrity comes from verification (:mod:`dashboards.integrity`),
and an edit that does not append (the database's stamp changes, the head does not) makes the
index read everything again.
"""

from __future__ import annotations

import threading
from typing import Any

import pandas as pd

from dashboards.state import TrailKey

#: The events that create or end a run (pipeline runs, monitor batches, recorded audits).
RUN_KINDS = ("run.started", "run.finished", "drift.checked", "audit.completed")
COLUMNS = ["run_id", "kind", "model", "policy", "decision", "blocked_at", "started", "finished", "duration_s",
           "actor", "events_from", "policy_sha256", "policy_source"]
#: Gate decisions as run decisions, for monitor batches and audits.
_GATE_TO_RUN = {"pass": "passed", "block": "blocked", None: "recorded"}


class RunIndex:
    """Runs of one workspace's trail; :meth:`refresh` brings it up to date with an open trail."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._runs: dict[str, dict[str, Any]] = {}
        self._key: TrailKey | None = None
        self._frame = pd.DataFrame(columns=COLUMNS)

    def refresh(self, trail, key: TrailKey) -> pd.DataFrame:
        """Runs newest first (a copy the caller may change), reading only what is new."""
        with self._lock:
            if key != self._key:
                after = self._unchanged_prefix(trail, key)
                if after == 0:
                    self._runs = {}
                for ev in trail.iter_events(kind=RUN_KINDS, after_seq=after):
                    self._add(ev)
                self._key, self._frame = key, self._build()
            return self._frame.copy()

    def _unchanged_prefix(self, trail, key: TrailKey) -> int:
        """The seq up to which what was read still stands (0: read everything again)."""
        if self._key is None or key[1] <= self._key[1]:
            return 0  # first read, or same size or shorter with a new stamp: an edit in place
        last = trail.events(after_seq=self._key[1] - 1, limit=1)
        if not last or last[0].seq != self._key[1] or last[0].entry_hash != self._key[2]:
            return 0
        return self._key[1]

    def _add(self, ev) -> None:
        p = ev.payload
        if ev.kind == "audit.completed":
            run_id = ev.run_id or f"audit #{ev.seq}"
            self._runs[run_id] = _row(run_id, f"audit {p.get('kind') or ''}".strip(), ev,
                                      decision=_GATE_TO_RUN.get(p.get("decision"), p.get("decision")),
                                      policy=_policy_label(p.get("policy")), finished=ev.time)
        elif ev.kind == "drift.checked":
            model = p.get("model") or {}
            self._runs[ev.run_id] = _row(ev.run_id, "monitor", ev, finished=ev.time,
                                         model=f"{model.get('name', '')} v{model.get('version', '')}",
                                         decision=_GATE_TO_RUN.get(p.get("decision"), p.get("decision")))
        elif ev.kind == "run.started":
            spec, policy = p.get("spec") or {}, p.get("policy") or {}
            self._runs[ev.run_id] = _row(
                ev.run_id, "pipeline", ev, decision="running", policy=_policy_label(policy),
                model=(spec.get("deploy") or {}).get("model_name") or spec.get("name") or p.get("spec_file") or "",
                policy_sha256=policy.get("sha256"), policy_source=policy.get("source"))
        elif ev.kind == "run.finished":
            row = self._runs.setdefault(ev.run_id, _row(ev.run_id, "pipeline", ev))
            row.update(decision=p.get("decision"), blocked_at=p.get("blocked_at"), finished=ev.time)

    def _build(self) -> pd.DataFrame:
        frame = pd.DataFrame(list(self._runs.values()), columns=COLUMNS)
        for column in ("started", "finished"):
            frame[column] = pd.to_datetime(frame[column], utc=True, format="ISO8601")
        frame["duration_s"] = (frame["finished"] - frame["started"]).dt.total_seconds()
        return frame.sort_values(["started", "events_from"], ascending=False, ignore_index=True)


def _row(run_id: str, kind: str, ev, **fields: Any) -> dict[str, Any]:
    row = dict.fromkeys(COLUMNS)
    row.update(run_id=run_id, kind=kind, started=ev.time, actor=ev.actor, events_from=ev.seq, model="", policy="")
    row.update(fields)
    return row


def _policy_label(policy: Any) -> str:
    if isinstance(policy, dict):
        return f"{policy.get('name') or policy.get('policy') or ''} {policy.get('version') or ''}".strip()
    return str(policy or "")
