"""Numbers the pipeline reports about a model's predictions: metrics, group gaps, summaries.

These are descriptive (what the summary table, the ``--json`` object and the evidence blobs
show); what *blocks* is decided by the policy's checks, which compute their own numbers from
the same :class:`~governance.evidence.Predictions` with the same metric functions.
"""

from __future__ import annotations

import math
from typing import Any

from governance.evidence import Predictions, task_of
from governance.findings import Finding
from governance.metrics.performance import PERFORMANCE_METRICS, performance_metric, task_metrics
from governance.vocabulary import DEFAULT_MIN_GROUP_SIZE

#: Disparities listed per sensitive feature as "group gaps", by task (multiclass: the worst class).
GAP_METRICS = {"binary": ("demographic_parity_difference", "equalized_odds_difference"),
               "multiclass": ("demographic_parity_difference", "equalized_odds_difference"),
               "regression": ("mae_difference", "mean_prediction_difference")}
#: Groups smaller than this are left out of the gaps (their rates are noise): the one default.
MIN_GROUP_SIZE = DEFAULT_MIN_GROUP_SIZE


def performance(predictions: Predictions) -> dict[str, float | None]:
    """Binary: accuracy, balanced accuracy, precision, recall, F1 and (with scores) ROC AUC; other
    tasks: their metrics (multiclass accuracy, balanced accuracy, macro F1, log loss; regression
    MAE, RMSE, R2)."""
    if task_of(predictions) != "binary":
        return task_metrics(predictions)
    out: dict[str, float | None] = {}
    for name in PERFORMANCE_METRICS:
        if name == "roc_auc" and predictions.y_score is None:
            continue
        try:
            out[name] = float(performance_metric(name, predictions.y_true, predictions.y_pred, predictions.y_score))
        except ValueError:  # e.g. roc_auc on a single-class slice: undefined, not an error
            out[name] = None
    return out


def group_gaps(predictions: Predictions, features: list[str]) -> dict[str, float | None]:
    """``{"sex.demographic_parity_difference": 0.18, ...}`` for each sensitive feature on its own
    (regression: ``sex.mae_difference`` and ``sex.mean_prediction_difference``).

    A gap compares groups: with fewer than two groups of at least :data:`MIN_GROUP_SIZE` rows it
    was not measured and is ``None`` (never 0, which would read as perfect parity).
    """
    gaps: dict[str, float | None] = {}
    for feature, report in _reports(predictions, features).items():
        measured = len(report.included) >= 2
        for metric in GAP_METRICS[task_of(predictions)]:
            value = report.metrics.get(metric)
            finite = isinstance(value, (int, float)) and math.isfinite(value)
            gaps[f"{feature}.{metric}"] = float(value) if measured and finite else None
    return gaps


def fairness_reports(predictions: Predictions, features: list[str]) -> dict[str, dict[str, Any]]:
    """The per-group fairness table of each sensitive feature (JSON, see ``docs/audit.md``)."""
    return {feature: report.to_dict() for feature, report in _reports(predictions, features).items()}


def _reports(predictions: Predictions, features: list[str]) -> dict[str, Any]:
    """Each feature's fairness report for the predictions' task (groups are never missing:
    :func:`governance.evidence_input.as_sensitive`)."""
    from governance.metrics.fairness_tasks import report_for

    return {feature: report_for(predictions, [feature], MIN_GROUP_SIZE)
            for feature in features if feature in predictions.sensitive.columns}


def finding_brief(finding: Finding) -> dict[str, Any]:
    """A finding without its evidence tables: what a summary line or ``--json`` needs."""
    full = finding.to_dict()
    brief = {k: full.get(k) for k in ("rule_id", "check", "stage", "subject", "severity", "status",
                                      "message", "observed", "threshold")}
    if "on_inconclusive" in full:  # only inconclusive findings carry it: whether they block
        brief["on_inconclusive"] = full["on_inconclusive"]
    return brief


def reasons(findings: list[Finding]) -> list[str]:
    """One line per blocking finding: ``rule-id (check): message``."""
    return [f"{f.rule_id} ({f.check}{', ' + f.subject if f.subject else ''}): {f.message}"
            for f in findings if f.blocks]
