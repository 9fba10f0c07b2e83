"""The fairness report of any task: binary, multiclass or regression predictions.

:func:`report_for` reads :class:`~governance.evidence.Predictions` (or the
:class:`~governance.evidence_regression.RegressionPredictions` of a regression model) and returns
the report of its task. Every report has ``task``, ``sensitive_features``, ``groups``,
``included``, ``excluded``, ``metrics``, ``overall``, ``min_group_size``, ``group_dicts()``,
``spread()`` and ``to_dict()`` (the JSON of ``rai audit fairness --json``).

Predictions without labels (``y_true`` ``None``: live rows whose outcomes are not known) get the
same report with every number that comes from labels left empty (``NaN``, ``null`` in JSON):
selection rates, their parity metrics and predicted levels remain; accuracy, TPR, FPR, the
confusion counts, errors and the metrics built on them do not.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from governance.evidence import task_of
from governance.metrics.fairness import FairnessReport, fairness_report
from governance.metrics.fairness_multiclass import MulticlassFairnessReport, multiclass_fairness_report
from governance.metrics.fairness_regression import RegressionFairnessReport, regression_fairness_report
from governance.vocabulary import DEFAULT_MIN_GROUP_SIZE

AnyFairnessReport = FairnessReport | MulticlassFairnessReport | RegressionFairnessReport
#: Per-group (and per-class) numbers computed from labels, in the reports of every task.
LABEL_VALUES = ("accuracy", "tpr", "fpr", "tp", "fp", "tn", "fn", "mean_target", "mae", "rmse")
#: Disparity metrics computed from labels.
LABEL_METRICS = ("equalized_odds_difference", "equal_opportunity_difference", "mae_difference", "mae_ratio",
                 "rmse_difference")


def report_for(predictions: Any, features: list[str],
               min_group_size: int = DEFAULT_MIN_GROUP_SIZE) -> AnyFairnessReport:
    """The fairness report that fits the predictions' task, grouped by ``features``.

    Binary reports count the favourable label as selected (``Predictions.favorable_label``);
    multiclass reports compare every class, or only the favourable one; regression reports
    compare errors and predicted levels.

    Raises
    ------
    UserError
        A sensitive column holds missing values.
    ValueError
        No sensitive feature, a repeated one, or labels that do not fit the task.
    """
    sensitive = predictions.sensitive[list(features)]
    task = task_of(predictions)
    labelled = predictions.y_true is not None
    # Without labels the predictions stand in for them; every number that reads them is then blanked.
    truth = predictions.y_true if labelled else predictions.y_pred
    if task == "multiclass":
        report = multiclass_fairness_report(truth, predictions.y_pred, predictions.classes, sensitive,
                                            min_group_size, favorable=predictions.favorable_code)
    elif task == "regression":
        report = regression_fairness_report(truth, predictions.y_pred, sensitive, min_group_size)
    else:
        favorable = getattr(predictions, "favorable_code", None)
        report = fairness_report(truth, predictions.y_pred, sensitive, min_group_size,
                                 favorable=1 if favorable is None else favorable)
    return report if labelled else without_labels(report)


def without_labels(report: AnyFairnessReport) -> AnyFairnessReport:
    """``report`` with the numbers computed from labels left empty (``NaN``; ``None`` in ``overall``)."""
    def blank(table: Any) -> Any:
        return table.assign(**{name: float("nan") for name in LABEL_VALUES if name in table.columns})

    def blank_dict(values: Any) -> Any:
        if isinstance(values, list):
            return [blank_dict(v) for v in values]
        if not isinstance(values, dict):
            return values
        return {k: None if k in LABEL_VALUES else blank_dict(v) for k, v in values.items()}

    changes: dict[str, Any] = {
        "groups": blank(report.groups), "overall": blank_dict(report.overall),
        "metrics": {k: float("nan") if k in LABEL_METRICS else v for k, v in report.metrics.items()}}
    if isinstance(report, MulticlassFairnessReport):
        changes["by_class"] = blank(report.by_class)
        changes["worst_class"] = {k: None if k in LABEL_METRICS else v for k, v in report.worst_class.items()}
    return dataclasses.replace(report, **changes)
