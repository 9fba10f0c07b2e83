"""Read models of the trail for the dashboard pages: plain functions, no Streamlit.

Each asks the store only for what its page shows: one page of the event log, one run's events,
one kind of event. Listing runs is :mod:`dashboards.runindex`; one run's view is
:mod:`dashboards.runview`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

from governance.trail import Event

RUN_STATUS_ICON = {"passed": "✅", "blocked": "⛔", "failed": "❌", "awaiting_approval": "⏳", "running": "…",
                   "recorded": "📝"}
#: Event kinds of the trail's contract (see :mod:`governance.trail`), for the log's filter.
LOG_COLUMNS = ["seq", "time", "kind", "run_id", "actor", "summary", "entry_hash"]


# -- one run ------------------------------------------------------------------------------
def run_events_of_kind(trail, run_id: str, kind: str) -> list[Event]:
    """A run's events of one kind (a listing: see :meth:`~governance.trail.trail.Trail.listing`).

    Asked by run id alone, SQLite walks its (run id, seq) index; asked by run id *and* kind, it
    prefers the kind index and reads every event of that kind in the trail. So filter the kind
    here, and decode only the events that match.
    """
    return [Event.from_row(row) for row in trail.listing(run_id=run_id) if row.kind == kind]


# -- the event log --------------------------------------------------------------------------
def matching_seqs(trail, run_id: str | None, kinds: list[str] | None, since: str | None) -> list[int]:
    """Seqs of the events matching the filters, oldest first.

    Read from the trail's listing without decoding the bodies: a tenth of the cost of reading
    events, which matters when a filter matches tens of thousands of them.
    """
    return [row.seq for row in trail.listing(run_id=run_id, kind=kinds or None, since=since)]


def started_run_ids(trail) -> list[str]:
    """Ids of the runs with a ``run.started`` event, newest first (bodies are not decoded)."""
    return [row.run_id for row in trail.listing(kind="run.started")][::-1]


def log_page(trail, page: int, page_size: int, seqs: list[int] | None = None,
             run_id: str | None = None, kinds: list[str] | None = None, since: str | None = None) -> pd.DataFrame:
    """Page ``page`` (1 = newest) of the log, newest first.

    Without filters (``seqs`` is ``None``) pages are seq ranges counted back from the head;
    with filters they are slices of ``seqs`` (see :func:`matching_seqs`).
    """
    if seqs is None:
        head = trail.head()[0]
        first = max(0, head - page * page_size)
        count = min(page_size, head - (page - 1) * page_size)
        events = trail.events(after_seq=first, limit=max(0, count))
    else:
        end = max(0, len(seqs) - (page - 1) * page_size)
        chosen = seqs[max(0, end - page_size):end]
        events = trail.events(run_id=run_id, kind=kinds or None, since=since, after_seq=chosen[0] - 1,
                              limit=len(chosen)) if chosen else []
    rows = [{"seq": e.seq, "time": e.time, "kind": e.kind, "run_id": e.run_id, "actor": e.actor,
             "summary": event_summary(e.kind, e.payload), "entry_hash": e.entry_hash} for e in reversed(events)]
    return pd.DataFrame(rows, columns=LOG_COLUMNS)


def event_summary(kind: str, p: dict[str, Any]) -> str:
    """One line saying what an event recorded."""
    if kind == "stage.completed":
        return f"{p.get('stage')} {p.get('status')}"
    if kind == "gate.decided":
        subject = f" ({p.get('subject')})" if p.get("subject") else ""
        return f"{p.get('stage')}{subject}: {p.get('decision')}, {finding_counts(p.get('findings') or [])}"
    if kind == "run.finished":
        return f"{p.get('decision')}" + (f" at {p.get('blocked_at')}" if p.get("blocked_at") else "")
    if kind == "approval.recorded":
        return f"{p.get('role')}: {p.get('decision')}" + (f" ({p.get('comment')})" if p.get("comment") else "")
    if kind == "run.started":
        spec = f", spec {p['spec_file']}" if p.get("spec_file") else ""
        return f"policy {(p.get('policy') or {}).get('name')}{spec}"
    if kind == "drift.checked":
        model, batch = p.get("model") or {}, p.get("batch") or {}
        return f"{model.get('name')} v{model.get('version')}: {p.get('decision')}, {batch.get('rows')} rows"
    if kind in ("model.registered", "model.deployed"):
        return f"{p.get('name')} v{p.get('version')}"
    if kind == "waiver.applied":
        return f"{p.get('rule')} waived by {p.get('approved_by')} until {p.get('expires')}"
    return json.dumps(p, sort_keys=True, default=str)[:160]


def finding_counts(findings: list[dict]) -> str:
    """``"2 passed, 1 failed"``: findings counted by status."""
    counts: dict[str, int] = {}
    for f in findings:
        counts[str(f.get("status"))] = counts.get(str(f.get("status")), 0) + 1
    return ", ".join(f"{n} {status}" for status, n in sorted(counts.items())) or "no findings"


# -- policies ---------------------------------------------------------------------------------
def recorded_policy(trail, run_id: str) -> dict[str, Any]:
    """The policy as a run recorded it at its start (identity, rules, waivers)."""
    started = run_events_of_kind(trail, run_id, "run.started")
    return dict((started[0].payload.get("policy") or {}) if started else {})


def monitored_policy(trail, run_id: str, model: dict[str, Any], registering: dict[tuple[str, str], str] | None = None,
                     *, checked_seq: int | None = None, recorded: dict[str, dict[str, Any]] | None = None) -> dict[str, Any]:
    """The policy a monitor batch was gated with.

    A monitor batch records only the policy's hash (``policy_sha256`` of its gate decision). The
    run that registered the monitored model recorded that policy in full: when the hashes agree,
    its record is returned; otherwise just ``{"sha256": ...}``. ``registering`` maps
    ``(name, version)`` to the registering run (read from the trail when not given);
    ``checked_seq``, the seq of the batch's ``drift.checked``, lets the gate that follows it be
    read by seq; ``recorded`` caches policies by registering run across calls.
    """
    sha = _monitor_gate_policy(trail, run_id, checked_seq)
    if registering is None:
        registering = registering_runs(trail)
    source_run = registering.get((str(model.get("name")), str(model.get("version"))))
    cache = recorded if recorded is not None else {}
    if source_run and source_run not in cache:
        cache[source_run] = recorded_policy(trail, source_run)
    policy = cache.get(source_run) or {}
    if sha and policy.get("sha256") == sha:
        return policy
    return {"sha256": sha} if sha else {}


def _monitor_gate_policy(trail, run_id: str, checked_seq: int | None) -> str | None:
    # The monitor writes its gate right after drift.checked: one read by seq, not a run scan.
    if checked_seq is not None:
        after = trail.events(after_seq=checked_seq, limit=1)
        if after and after[0].run_id == run_id and after[0].kind == "gate.decided":
            return after[0].payload.get("policy_sha256")
    gates = run_events_of_kind(trail, run_id, "gate.decided")
    return next((g.payload.get("policy_sha256") for g in gates if g.payload.get("policy_sha256")), None)


def registering_runs(trail) -> dict[tuple[str, str], str]:
    """``{(model name, version): run id}`` of every ``model.registered`` event."""
    return {(str(e.payload.get("name")), str(e.payload.get("version"))): e.run_id
            for e in trail.events(kind="model.registered")}


def policy_label(policy: dict[str, Any]) -> str:
    """``eu-ai-act-high-risk 1.0``; a policy known only by its hash as ``sha256 0691a0b1c2d3…``."""
    name = f"{policy.get('name') or policy.get('policy') or ''} {policy.get('version') or ''}".strip()
    if name:
        return name
    return f"sha256 {str(policy['sha256'])[:12]}…" if policy.get("sha256") else ""


def policy_path(source: str, workspace_root: Path) -> Path | None:
    """Where a recorded policy source is now: as recorded, or relative to the workspace's parent."""
    for candidate in (Path(source), workspace_root.parent / source):
        if candidate.is_file():
            return candidate
    return None


def rules_frame(rules: list[dict[str, Any]]) -> pd.DataFrame:
    """Rules as a table (params as JSON text)."""
    return pd.DataFrame([{"id": r.get("id"), "check": r.get("check"), "stage": r.get("stage"),
                          "severity": r.get("severity"), "params": json.dumps(r.get("params") or {}, sort_keys=True),
                          "maps_to": ", ".join(r.get("maps_to") or [])} for r in rules],
                        columns=["id", "check", "stage", "severity", "params", "maps_to"])


# -- models -----------------------------------------------------------------------------------
def registrations(trail) -> pd.DataFrame:
    """Every ``model.registered`` event with whether (and when) that version was deployed."""
    deployed = {(str(e.payload.get("name")), str(e.payload.get("version"))): e
                for e in trail.events(kind="model.deployed")}
    rows = []
    for ev in trail.events(kind="model.registered"):
        p = ev.payload
        dep = deployed.get((str(p.get("name")), str(p.get("version"))))
        rows.append({"name": p.get("name"), "version": str(p.get("version")), "variant": p.get("variant"),
                     "run_id": ev.run_id, "registered": ev.time, "deployed": dep.time if dep else None,
                     "target": (dep.payload.get("target") or dep.payload.get("path")) if dep else None,
                     "model_sha256": p.get("model_sha256"), "manifest_path": p.get("manifest_path"),
                     "manifest_sha256": p.get("manifest_sha256")})
    return pd.DataFrame(rows, columns=["name", "version", "variant", "run_id", "registered", "deployed", "target",
                                       "model_sha256", "manifest_path", "manifest_sha256"])


def entry_dir(manifest_path: str | None, workspace_root: Path) -> Path | None:
    """The registry entry directory of a recorded manifest path (relative ones: to the workspace)."""
    if not manifest_path:
        return None
    path = Path(manifest_path)
    return (path if path.is_absolute() else workspace_root / path).parent


def registry_dirs(registry: Path) -> list[Path]:
    """Entry directories found on disk (``REGISTRY/NAME/VERSION`` holding a manifest)."""
    if not registry.is_dir():
        return []
    return sorted(p.parent for p in registry.glob("*/*/manifest.json") if p.parent.name.isdigit())
