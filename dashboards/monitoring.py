"""Monitoring windows read from the trail: one row per window that ``rai monitor --log`` audited.

Each window is a monitor run whose ``drift.checked`` payload carries a ``window`` (start, end,
rows, labelled rows) and the window's ``numbers``, and whose ``gate.decided`` holds the findings
with their thresholds. This module turns them into a table the Monitoring page charts; it reads
only.

A window is read in its model's task's terms (:data:`SERIES`): the largest selection-rate gap
between groups (multiclass: of the worst class) and accuracy for classifiers, the largest gap in
mean prediction and MAE for regression. A rule's threshold belongs to a chart when the finding's
evidence says it bounds that number: the metric a ``performance.*`` rule measured, the metric and
aggregate of a ``fairness.group_metric`` rule.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

#: The numbers charted for each task, in the order of the page: drift, the label-free gap between
#: groups, performance on the windows with outcomes.
SERIES = {"binary": ("drift_share", "selection_rate_gap", "accuracy"),
          "multiclass": ("drift_share", "selection_rate_gap", "accuracy"),
          "regression": ("drift_share", "mean_prediction_gap", "mae")}
COLUMNS = ["model", "task", "start", "end", "rows", "labelled", "drift_share", "prediction_drift", "accuracy",
           "selection_rate_gap", "mae", "mean_prediction_gap", "decision", "run_id"]
LIMIT_COLUMNS = ["run_id", "start", "rule_id", "check", "metric", "threshold", "status"]
#: Which column a performance rule's metric is charted on.
_PERFORMANCE = {"accuracy": "accuracy", "mae": "mae"}
#: Which column a ``fairness.group_metric`` rule is charted on, by its (metric, aggregate).
_GROUP_METRIC = {("selection_rate", "difference"): "selection_rate_gap",
                 ("mean_prediction", "difference"): "mean_prediction_gap"}


def windows(trail: Any) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Every audited window of the prediction log, and the thresholds of the rules that judged it.

    Parameters
    ----------
    trail : governance.trail store
        An open trail; only read.

    Returns
    -------
    (pandas.DataFrame, pandas.DataFrame)
        A row per window, oldest first (:data:`COLUMNS`; a number another task does not have is
        missing), and a row per finding of each window (:data:`LIMIT_COLUMNS`), ``metric`` naming
        the column its ``threshold`` is comparable with, or missing.
    """
    rows, limits = [], []
    gates: dict[str, list[dict[str, Any]]] = {}
    for event in trail.iter_events(kind=["drift.checked", "gate.decided"]):
        if not str(event.run_id or "").startswith("monitor-"):
            continue
        if event.kind == "gate.decided":
            found = event.payload.get("findings")
            gates[event.run_id] = [f for f in found if isinstance(f, dict)] if isinstance(found, list) else []
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
    return table, pd.DataFrame(limits, columns=LIMIT_COLUMNS)


def _row(run_id: str, payload: dict[str, Any], window: dict[str, Any]) -> dict[str, Any]:
    numbers = _dict(payload.get("numbers"))
    drift = _dict(numbers.get("drift"))
    performance = _dict(numbers.get("performance"))
    model = _dict(payload.get("model"))
    return {"model": f"{model.get('name')} v{model.get('version')}", "task": task_of_numbers(numbers),
            "start": window.get("start"), "end": window.get("end"), "rows": window.get("rows"),
            "labelled": window.get("labelled"), "drift_share": _number(_dict(drift.get("data")).get("drifted_share")),
            "prediction_drift": bool(_dict(drift.get("prediction")).get("drifted")) if drift.get("prediction") else None,
            "accuracy": _number(performance.get("accuracy")), "selection_rate_gap": _largest(numbers.get("selection_rate_gaps")),
            "mae": _number(performance.get("mae")), "mean_prediction_gap": _largest(numbers.get("mean_prediction_gaps")),
            "decision": payload.get("decision"), "run_id": run_id}


def task_of_numbers(numbers: dict[str, Any]) -> str:
    """The model's task as a window's numbers show it: regression windows record the mean
    prediction, multiclass ones the class shares, binary ones the mean score."""
    if "mean_prediction" in numbers or "mean_prediction_gaps" in numbers:
        return "regression"
    if "class_shares" in numbers:
        return "multiclass"
    return "binary"


def _largest(gaps: Any) -> float | None:
    """The largest measured gap of a window's per-column gaps (``None`` where a column had too few groups)."""
    values = [_number(v) for v in (gaps or {}).values()] if isinstance(gaps, dict) else []
    measured = [v for v in values if v is not None]
    return max(measured) if measured else None


def _metric(finding: dict[str, Any]) -> str | None:
    """The column a rule's threshold is comparable with, read from its finding's evidence: the
    metric of a performance rule, the metric and aggregate of a group-metric rule; ``None`` when
    the finding does not say (a rule that needed labels, an error) or bounds something not charted."""
    check = str(finding.get("check") or "")
    evidence = _dict(finding.get("evidence"))
    if check == "drift.dataset":
        return "drift_share"
    if check == "fairness.demographic_parity_difference":
        return "selection_rate_gap"
    if check in ("performance.metric", "performance.error"):
        return _PERFORMANCE.get(str(evidence.get("metric")))
    if check == "fairness.group_metric":
        return _GROUP_METRIC.get((str(evidence.get("metric")), str(evidence.get("aggregate"))))
    return None


def _threshold(value: Any) -> float | None:
    """A finding's threshold as one number: itself, or the bound of ``{"min": x}`` / ``{"max": x}``."""
    if isinstance(value, dict):
        bounds = [_number(value.get(k)) for k in ("min", "max") if _number(value.get(k)) is not None]
        return bounds[0] if len(bounds) == 1 else None
    return _number(value)


def _dict(value: Any) -> dict[str, Any]:
    """A recorded object, or an empty one where something else was recorded."""
    return value if isinstance(value, dict) else {}


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None
