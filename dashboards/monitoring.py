"""Monitoring windows read from the trail: one row per window that ``rai monitor --log`` audited.

Each window is a monitor run whose ``drift.checked`` payload carries a ``window`` (start, end,
rows, labelled rows) and whose ``gate.decided`` holds the findings with their thresholds. This
module turns them into a table the Monitoring page charts; it reads only.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

COLUMNS = ["model", "start", "end", "rows", "labelled", "drift_share", "prediction_drift", "accuracy",
           "selection_rate_gap", "decision", "run_id"]


def windows(trail: Any) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(windows, thresholds): a row per audited window, oldest first, and the rules' thresholds
    per window (``run_id``, ``rule_id``, ``check``, ``metric``, ``threshold``, ``status``)."""
    rows, limits = [], []
    gates: dict[str, list[dict[str, Any]]] = {}
    for event in trail.iter_events(kind=["drift.checked", "gate.decided"]):
        if not str(event.run_id or "").startswith("monitor-"):
            continue
        if event.kind == "gate.decided":
            gates[event.run_id] = list(event.payload.get("findings") or [])
            continue
        window = event.payload.get("window")
        if isinstance(window, dict) and window.get("source") == "prediction_log":
            rows.append(_row(event.run_id, event.payload, window))
    for row in rows:
        for f in gates.get(row["run_id"], []):
            limits.append({"run_id": row["run_id"], "start": row["start"], "rule_id": f.get("rule_id"),
                           "check": f.get("check"), "metric": _metric(f), "threshold": _threshold(f.get("threshold")),
                           "status": f.get("status")})
    table = pd.DataFrame(rows, columns=COLUMNS)
    if not table.empty:
        table["start"] = pd.to_datetime(table["start"], utc=True)
        table["end"] = pd.to_datetime(table["end"], utc=True)
        table = table.sort_values("start", kind="stable").reset_index(drop=True)
    return table, pd.DataFrame(limits, columns=["run_id", "start", "rule_id", "check", "metric", "threshold", "status"])


def _row(run_id: str, payload: dict[str, Any], window: dict[str, Any]) -> dict[str, Any]:
    numbers = payload.get("numbers") or {}
    drift = numbers.get("drift") or {}
    gaps = [v for v in (numbers.get("selection_rate_gaps") or {}).values() if _number(v) is not None]
    model = payload.get("model") or {}
    return {"model": f"{model.get('name')} v{model.get('version')}", "start": window.get("start"), "end": window.get("end"),
            "rows": window.get("rows"), "labelled": window.get("labelled"),
            "drift_share": _number((drift.get("data") or {}).get("drifted_share")),
            "prediction_drift": bool((drift.get("prediction") or {}).get("drifted")) if drift.get("prediction") else None,
            "accuracy": _number((numbers.get("performance") or {}).get("accuracy")),
            "selection_rate_gap": max(gaps) if gaps else None, "decision": payload.get("decision"), "run_id": run_id}


def _metric(finding: dict[str, Any]) -> str | None:
    """What a rule's threshold is comparable with on the charts: drift share, accuracy or a gap."""
    check = str(finding.get("check") or "")
    if check == "drift.dataset":
        return "drift_share"
    if check == "performance.metric" and "accuracy" in str(finding.get("message") or ""):
        return "accuracy"
    if check.startswith("fairness.demographic_parity"):
        return "selection_rate_gap"
    return None


def _threshold(value: Any) -> float | None:
    """A finding's threshold as one number: itself, or the bound of ``{"min": x}`` / ``{"max": x}``."""
    if isinstance(value, dict):
        bounds = [_number(value.get(k)) for k in ("min", "max") if _number(value.get(k)) is not None]
        return bounds[0] if len(bounds) == 1 else None
    return _number(value)


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None
