"""Read models of the trail for the dashboard pages: plain functions, no Streamlit.

Every query asks the store for one kind or one run at a time (paged where it can grow), so the
pages stay responsive on a trail of 100,000+ events.
"""

from __future__ import annotations

import json
from typing import Any

import pandas as pd

RUN_STATUS_ICON = {"passed": "✅", "blocked": "⛔", "failed": "❌", "awaiting_approval": "⏳", "running": "…"}


def run_summaries(trail) -> pd.DataFrame:
    """One row per pipeline run or recorded audit, newest first."""
    started = {e.run_id: e for e in trail.events(kind="run.started")}
    finished = {e.run_id: e for e in trail.events(kind="run.finished")}
    rows = [_run_row(run_id, ev, finished.get(run_id)) for run_id, ev in started.items()]
    for ev in trail.events(kind="audit.completed"):
        rows.append({
            "run_id": ev.run_id or f"audit-{ev.seq}", "kind": f"audit {ev.payload.get('kind', '')}",
            "model": "", "policy": _policy_name(ev.payload.get("policy")),
            "decision": ev.payload.get("decision") or "recorded", "started": ev.time,
            "finished": ev.time, "actor": ev.actor,
        })
    frame = pd.DataFrame(rows, columns=["run_id", "kind", "model", "policy", "decision", "started",
                                        "finished", "actor"])
    return frame.sort_values("started", ascending=False, ignore_index=True)


def _run_row(run_id: str, start, finish) -> dict[str, Any]:
    spec = start.payload.get("pipeline") or {}
    model = (spec.get("deploy") or {}).get("model_name") or spec.get("name") or ""
    return {
        "run_id": run_id, "kind": "pipeline", "model": model,
        "policy": _policy_name(start.payload.get("policy")),
        "decision": finish.payload.get("decision") if finish else "running",
        "started": start.time, "finished": finish.time if finish else None, "actor": start.actor,
    }


def _policy_name(policy: Any) -> str:
    if isinstance(policy, dict):
        return f"{policy.get('name', '')} {policy.get('version', '')}".strip()
    return str(policy or "")


def run_events(trail, run_id: str) -> list:
    """Every event of one run, in trail order."""
    return list(trail.events(run_id=run_id))


def stage_timeline(events: list) -> pd.DataFrame:
    """Stages completed and gate decisions of a run, in order."""
    rows = []
    for ev in events:
        if ev.kind == "stage.completed":
            rows.append({"seq": ev.seq, "time": ev.time, "stage": ev.payload.get("stage"),
                         "event": "stage", "status": ev.payload.get("status"),
                         "detail": _metrics_text(ev.payload.get("metrics"))})
        elif ev.kind == "gate.decided":
            subject = ev.payload.get("subject")
            rows.append({"seq": ev.seq, "time": ev.time, "stage": ev.payload.get("stage"),
                         "event": "gate" + (f" ({subject})" if subject else ""),
                         "status": ev.payload.get("decision"),
                         "detail": _finding_counts(ev.payload.get("findings") or [])})
    return pd.DataFrame(rows, columns=["seq", "time", "stage", "event", "status", "detail"])


def _metrics_text(metrics: dict | None) -> str:
    if not metrics:
        return ""
    parts = [f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in metrics.items()
             if isinstance(v, (int, float, str))]
    return ", ".join(parts[:6])


def _finding_counts(findings: list[dict]) -> str:
    counts: dict[str, int] = {}
    for f in findings:
        counts[f.get("status", "?")] = counts.get(f.get("status", "?"), 0) + 1
    return ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))


def findings(events: list) -> list[dict]:
    """Every finding of a run's gates, flattened, with the gate's stage and subject."""
    out = []
    for ev in events:
        if ev.kind in ("gate.decided", "audit.completed"):
            for f in ev.payload.get("findings") or []:
                out.append({**f, "seq": ev.seq, "subject": f.get("subject") or ev.payload.get("subject")})
    return out


def findings_frame(items: list[dict]) -> pd.DataFrame:
    cols = ["seq", "stage", "subject", "rule_id", "check", "severity", "status", "observed", "threshold", "message"]
    frame = pd.DataFrame([{c: _cell(f.get(c)) for c in cols} for f in items], columns=cols)
    return frame


def _cell(value: Any) -> Any:
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True)
    return value


def group_table(finding: dict) -> pd.DataFrame | None:
    """The per-group fairness table carried in a finding's evidence, if any."""
    ev = finding.get("evidence") or {}
    report = ev.get("report") if isinstance(ev.get("report"), dict) else ev
    groups = report.get("groups") if isinstance(report, dict) else None
    if not groups:
        return None
    rows = []
    for g in groups:
        label = " × ".join(f"{k}={v}" for k, v in (g.get("group") or {}).items())
        rows.append({"group": label, **{k: g.get(k) for k in
                                         ("count", "selection_rate", "accuracy", "tpr", "fpr", "excluded")}})
    return pd.DataFrame(rows)


def drift_table(finding: dict) -> pd.DataFrame | None:
    """The per-column drift rows carried in a finding's evidence, if any."""
    ev = finding.get("evidence") or {}
    report = ev.get("report") if isinstance(ev.get("report"), dict) else ev
    columns = report.get("columns") if isinstance(report, dict) else None
    if not columns or not isinstance(columns[0], dict) or "method" not in columns[0]:
        return None
    return pd.DataFrame(columns)


def privacy_record(events: list) -> dict | None:
    """The DP-SGD record of a run (from its train stage or its final summary)."""
    for ev in reversed(events):
        if ev.kind == "run.finished" and (ev.payload.get("summary") or {}).get("privacy"):
            return ev.payload["summary"]["privacy"]
    for ev in events:
        if ev.kind == "stage.completed" and ev.payload.get("stage") == "train":
            record = (ev.payload.get("metrics") or {}).get("privacy") or ev.payload.get("privacy")
            if record:
                return record
    return None


def epsilon_limit(events: list) -> float | None:
    """The tightest ``max_epsilon`` any privacy finding of the run was held to."""
    limits = [f.get("threshold") for f in findings(events) if f.get("check") == "privacy.epsilon_budget"]
    numbers = []
    for t in limits:
        if isinstance(t, dict):
            t = t.get("max_epsilon")
        if isinstance(t, (int, float)):
            numbers.append(float(t))
    return min(numbers) if numbers else None


def variants(events: list) -> pd.DataFrame | None:
    """LiteRT variants next to the parent model, from the run's final summary."""
    for ev in reversed(events):
        if ev.kind == "run.finished":
            rows = (ev.payload.get("summary") or {}).get("variants")
            if rows:
                return pd.DataFrame([{k: _cell(v) for k, v in r.items()} for r in rows])
    return None


def events_page(trail, page: int, page_size: int, run_id: str | None = None,
                kind: str | None = None) -> tuple[pd.DataFrame, int]:
    """One page (1-based) of the event log, newest last, and the number of matching events."""
    total = trail.count(run_id=run_id, kind=kind)
    page = max(1, page)
    if run_id is None and kind is None:
        # seq is contiguous from 1: page by seq range without scanning the head of the log
        evs = trail.events(after_seq=(page - 1) * page_size, limit=page_size)
    else:
        evs = trail.events(run_id=run_id, kind=kind)[(page - 1) * page_size: page * page_size]
    rows = [{"seq": e.seq, "time": e.time, "kind": e.kind, "run_id": e.run_id, "actor": e.actor,
             "entry_hash": e.entry_hash[:16] + "…", "payload": json.dumps(e.payload, sort_keys=True)[:200]}
            for e in evs]
    return pd.DataFrame(rows, columns=["seq", "time", "kind", "run_id", "actor", "entry_hash", "payload"]), total


def pending_approvals(trail) -> pd.DataFrame:
    """Runs whose last decision is ``awaiting_approval``, with the roles their policy requires."""
    rows = []
    for ev in trail.events(kind="run.finished"):
        if ev.payload.get("decision") != "awaiting_approval":
            continue
        roles = sorted({r for f in ev.payload.get("findings", []) or [] for r in
                        ((f.get("threshold") or {}).get("roles", []) if isinstance(f.get("threshold"), dict) else [])})
        rows.append({"run_id": ev.run_id, "since": ev.time,
                     "waiting_for": ", ".join(roles) or ", ".join(ev.payload.get("reasons") or [])})
    latest = {}
    for ev in trail.events(kind="run.finished"):
        latest[ev.run_id] = ev.payload.get("decision")
    rows = [r for r in rows if latest.get(r["run_id"]) == "awaiting_approval"]
    return pd.DataFrame(rows, columns=["run_id", "since", "waiting_for"]).drop_duplicates("run_id", keep="last")
