"""The fairness report of any task: binary, multiclass or regression predictions.

:func:`report_for` reads :class:`~governance.evidence.Predictions` (or the
:class:`~governance.evidence_regression.RegressionPredictions` of a regression model) and returns
the report of its task. Every report has ``task``, ``sensitive_features``, ``groups``,
``included``, ``excluded``, ``metrics``, ``overall``, ``min_group_size``, ``group_dicts()``,
``spread()`` and ``to_dict()`` (the JSON of ``rai audit fairness --json``).
"""

from __future__ import annotations

from typing import Any

from governance.evidence import task_of
from governance.metrics.fairness import FairnessReport, fairness_report
from governance.metrics.fairness_multiclass import MulticlassFairnessReport, multiclass_fairness_report
from governance.metrics.fairness_regression import RegressionFairnessReport, regression_fairness_report
from governance.vocabulary import DEFAULT_MIN_GROUP_SIZE

AnyFairnessReport = FairnessReport | MulticlassFairnessReport | RegressionFairnessReport


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
    if task == "multiclass":
        return multiclass_fairness_report(predictions.y_true, predictions.y_pred, predictions.classes, sensitive,
                                          min_group_size, favorable=predictions.favorable_code)
    if task == "regression":
        return regression_fairness_report(predictions.y_true, predictions.y_pred, sensitive, min_group_size)
    favorable = getattr(predictions, "favorable_code", None)
    return fairness_report(predictions.y_true, predictions.y_pred, sensitive, min_group_size,
                           favorable=1 if favorable is None else favorable)
