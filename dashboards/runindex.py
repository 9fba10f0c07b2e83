"""The list of runs, kept up to date incrementally as the trail grows.

Decoding an event costs about as much as its body is long, and ``run.started`` bodies are long
(the whole pipeline spec and policy): decoding all of them takes about a second on a trail of
100,000 events (8,500 runs). So the index has two parts:

* the *list* of runs: every run id in the order of its first event (one indexed query, nothing
  decoded), with the outcome recorded by ``run.finished``, ``drift.checked`` and
  ``audit.completed``, whose bodies are short;
* run *details* (start time, actor, model, policy, required approvals) decoded from
  ``run.started`` only for the runs a page shows, then kept.

Both read, on each page load, only the events appended since the last one. The index is a view,
not a verdict: integrity comes from verification (:mod:`dashboards.integrity`), and an edit that
does not append (the database changes, the head does not) makes the index read everything again.
"""

from __future__ import annotations

import threading
from typing import Any

import pandas as pd

from dashboards.queries import monitored_policy, policy_label, registering_runs, run_events_of_kind
from dashboards.state import TrailKey

COLUMNS = ["run_id", "kind", "model", "decision", "blocked_at", "started", "finished", "actor", "order"]
DETAIL_COLUMNS = ["run_id", "model", "policy", "started", "actor", "policy_sha256", "policy_source",
                  "approvals_needed"]
#: Asking details of more runs than this decodes all ``run.started`` events in one pass instead
#: of querying run by run.
ONE_PASS_FROM = 500
APPROVAL_CHECK = "accountability.approvals"
#: Gate decisions as run decisions, for monitor batches and audits.
_GATE_TO_RUN = {"pass": "passed", "block": "blocked", "passed": "passed", "blocked": "blocked", None: "recorded"}


class RunIndex:
    """Runs of one workspace's trail; :meth:`refresh` brings it up to date with an open trail."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._runs: dict[str, dict[str, Any]] = {}
        self._details: dict[str, dict[str, Any]] = {}
        self._key: TrailKey | None = None
        self._frame = pd.DataFrame(columns=COLUMNS)

    def refresh(self, trail, key: TrailKey) -> pd.DataFrame:
        """Runs newest first (a copy the caller may change), reading only what is new."""
        with self._lock:
            if key != self._key:
                after = self._unchanged_prefix(trail, key)
                if after == 0:
                    self._runs, self._details = {}, {}
                self._read(trail, after)
                self._key, self._frame = key, self._build()
            return self._frame.copy()

    def details(self, trail, run_ids: list[str]) -> pd.DataFrame:
        """Model, policy and required approvals of ``run_ids`` (after :meth:`refresh`)."""
        with self._lock:
            missing = [r for r in run_ids if r not in self._details and self._runs.get(r, {}).get("kind") == "pipeline"]
            if len(missing) >= ONE_PASS_FROM:
                for ev in trail.iter_events(kind="run.started"):
                    self._details[ev.run_id] = _details(ev)
            else:
                for run_id in missing:
                    for ev in run_events_of_kind(trail, run_id, "run.started")[:1]:
                        self._details[run_id] = _details(ev)
            monitors = [r for r in run_ids if r not in self._details and self._runs.get(r, {}).get("kind") == "monitor"]
            registering, recorded = (registering_runs(trail) if monitors else {}), {}
            for run_id in monitors:  # a batch records its policy's hash only: name it from the registering run
                run = self._runs[run_id]
                policy = monitored_policy(trail, run_id, run.get("monitored") or {}, registering,
                                          checked_seq=run.get("checked_seq"), recorded=recorded)
                self._details[run_id] = {**_no_details(run), "policy": policy_label(policy),
                                         "policy_sha256": policy.get("sha256"), "policy_source": policy.get("source")}
            rows = [self._details.get(r) or _no_details(self._runs.get(r) or {"run_id": r}) for r in run_ids]
        frame = pd.DataFrame(rows, columns=DETAIL_COLUMNS)
        frame["started"] = pd.to_datetime(frame["started"], utc=True, format="ISO8601")
        return frame

    def _unchanged_prefix(self, trail, key: TrailKey) -> int:
        """The seq up to which what was read still stands (0: read everything again)."""
        if self._key is None or key[1] <= self._key[1]:
            return 0  # first read, or same size or shorter with a new stamp: an edit in place
        last = trail.events(after_seq=self._key[1] - 1, limit=1)
        if not last or last[0].seq != self._key[1] or last[0].entry_hash != self._key[2]:
            return 0
        return self._key[1]

    def _read(self, trail, after: int) -> None:
        # Only the runs' order comes from every row; only short bodies are decoded, one kind at a
        # time (so that the store walks its (kind, seq) index instead of sorting rows).
        for order, run_id in enumerate(trail.runs()):
            self._runs.setdefault(run_id, _row(run_id, "pipeline", decision="running"))["order"] = order
        for ev in trail.iter_events(kind="run.finished", after_seq=after):
            run = self._runs.setdefault(ev.run_id, _row(ev.run_id, "pipeline"))
            if run["finished"] is None or ev.time >= run["finished"]:  # a resumed run finishes again
                run.update(decision=ev.payload.get("decision"), blocked_at=ev.payload.get("blocked_at"),
                           finished=ev.time)
        for ev in trail.iter_events(kind="drift.checked", after_seq=after):
            model = ev.payload.get("model") or {}
            self._runs.setdefault(ev.run_id, _row(ev.run_id, "monitor")).update(kind="monitor", started=ev.time, finished=ev.time, actor=ev.actor,
                                         model=f"{model.get('name', '')} v{model.get('version', '')}", monitored=model,
                                         checked_seq=ev.seq,
                                         decision=_GATE_TO_RUN.get(ev.payload.get("decision"), "recorded"))
        for ev in trail.iter_events(kind="audit.completed", after_seq=after):
            run_id = ev.run_id or f"audit #{ev.seq}"
            run = self._runs.setdefault(run_id, _row(run_id, "audit", order=ev.seq))
            run.update(kind=f"audit {ev.payload.get('kind') or ''}".strip(), started=ev.time, finished=ev.time,
                       actor=ev.actor, decision=_GATE_TO_RUN.get(ev.payload.get("decision"), "recorded"))

    def _build(self) -> pd.DataFrame:
        frame = pd.DataFrame(list(self._runs.values()), columns=COLUMNS)
        for column in ("started", "finished"):
            frame[column] = pd.to_datetime(frame[column], utc=True, format="ISO8601")
        return frame.sort_values("order", ascending=False, ignore_index=True)


def _row(run_id: str, kind: str, **fields: Any) -> dict[str, Any]:
    row = dict.fromkeys(COLUMNS)
    row.update(run_id=run_id, kind=kind, model="", order=-1)
    row.update(fields)
    return row


def _no_details(run: dict[str, Any]) -> dict[str, Any]:
    """A run without ``run.started``: what the list knows (monitor batches, audits)."""
    return {"run_id": run["run_id"], "model": run.get("model") or "", "policy": "", "started": run.get("started"),
            "actor": run.get("actor"), "approvals_needed": ()}


def _details(started) -> dict[str, Any]:
    p = started.payload
    spec, policy = p.get("spec") or {}, p.get("policy") or {}
    return {"run_id": started.run_id, "started": started.time, "actor": started.actor,
            "model": (spec.get("deploy") or {}).get("model_name") or spec.get("name") or p.get("spec_file") or "",
            "policy": policy_label(policy),
            "policy_sha256": policy.get("sha256"), "policy_source": policy.get("source"),
            "approvals_needed": approvals_needed(policy)}


def approvals_needed(policy: dict[str, Any]) -> tuple[tuple[str, int], ...]:
    """``((role, how many approvals), ...)`` the policy's approval rules require."""
    needed = []
    for rule in policy.get("rules") or []:
        if rule.get("check") == APPROVAL_CHECK:
            params = rule.get("params") or {}
            needed += [(str(role), int(params.get("min_approvals") or 1)) for role in params.get("roles") or []]
    return tuple(needed)
