"""Group metrics of multiclass predictions: accuracy per group, the other metrics class by class.

The binary metrics of the group-metric table (:data:`governance.metrics.groupwise.METRICS`)
apply to multiclass predictions this way:

* ``accuracy``: per group, the share of rows whose predicted class is their class (one number
  per group, a proportion: Wilson intervals apply);
* every other binary metric, one vs rest, for each class ``c``: computed on the labels
  ``y_true == c`` and the predictions ``y_pred == c`` (score metrics on ``y_true == c`` and
  the class's probability column, ``y_score[:, c]``). Each equals fairlearn's ``MetricFrame``
  with the scikit-learn function on those binarised labels.

With a favourable class (``Predictions(favorable_label=...)``), the rates of being given it or
not (:data:`FAVORABLE_ONLY`: selection rate, TPR, FNR, FPR, TNR) are that class's alone, as
the fixed fairness checks' selection rates, TPR and FPR are; the other metrics (how well each
class is predicted) still cover every class. Which class decides a rule is the check's
business (:mod:`governance.checks._group_compare`).

Count metrics take every class's confusion cells from three ``np.bincount`` over
``group * K + class`` (memory groups x classes, no loop over rows); score metrics make a
class's per-row terms only when they are needed, so classes x rows are never held at once.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from governance.evidence import task_of
from governance.evidence_input import canonical
from governance.metrics.fairness_multiclass import one_vs_rest_counts
from governance.metrics.groupwise import (
    FN,
    FP,
    LABEL_FREE,
    NEEDS_LABELS,
    NOT_PROBABILITIES,
    TN,
    TP,
    WRONG_TASK,
    GroupMetric,
    MetricSpec,
    from_rows,
    group_metric,
    groups_of,
    known_metric,
)

#: Rates of being given a class or not: with a favourable class, only that class's count.
FAVORABLE_ONLY = ("selection_rate", "tpr", "fnr", "fpr", "tnr")
NEEDS_PROBABILITIES = ("metric {name!r} of multiclass predictions needs class probabilities "
                       "(predictions.y_score, one column per class), which were not given")
_FOUND = "multiclass classification predictions"


@dataclass(frozen=True)
class ClassMetrics:
    """A metric per group, once per class compared.

    Attributes
    ----------
    task : the predictions' task
    metrics : one :class:`GroupMetric` per class compared, its ``label`` the class; a single
        one with ``label`` ``None`` for multiclass ``accuracy`` and for binary and regression
        predictions
    classes : multiclass: every class of the predictions, in code order (empty otherwise)
    favorable_class : the favourable class when only it is compared, else ``None``
    """

    task: str
    metrics: list[GroupMetric]
    classes: list[Any]
    favorable_class: Any = None

    @property
    def per_class(self) -> bool:
        """Whether the metric is one class's at a time (one-vs-rest)."""
        return self.metrics[0].label is not None


def class_metrics(name: str, predictions: Any, sensitive_features: list[str], min_group_size: int,
                  labels: list[Any] | None = None) -> ClassMetrics:
    """The metric ``name`` per group (and per class, for multiclass predictions); see the module docstring.

    Parameters
    ----------
    name : a metric of the group-metric table
    predictions : ``Predictions`` of any task, or ``RegressionPredictions``
    sensitive_features : columns of ``predictions.sensitive``
    min_group_size : groups with fewer rows are excluded from aggregates
    labels : multiclass: compute these classes only (matched by value; absent ones are left out),
        e.g. the classes of another model's predictions; default: every class, or the favourable
        one for the metrics of :data:`FAVORABLE_ONLY`

    Raises
    ------
    ValueError
        Unknown metric, a regression metric, labels or class probabilities missing, or a
        sensitive column that does not exist; one line saying which.
    """
    task = task_of(predictions)
    if task != "multiclass":
        return ClassMetrics(task, [group_metric(name, predictions, sensitive_features, min_group_size)], [])
    spec = known_metric(name)
    if spec.task != "binary":
        raise ValueError(WRONG_TASK.format(name=name, task=spec.task, found=_FOUND))
    truth, pred = _labels(spec, predictions), np.asarray(predictions.y_pred, dtype=np.int64)
    classes = list(predictions.classes)
    group_id, keys = groups_of(predictions, sensitive_features)
    build = dict(group_id=group_id, keys=keys, sensitive_features=sensitive_features, min_group_size=min_group_size)
    if name == "accuracy":  # a row is right or wrong: binary accuracy of (1, right)
        right = (truth == pred).astype(np.int64)
        return ClassMetrics(task, [from_rows(spec, np.ones_like(right), right, **build)], classes)
    codes, favorable = _compared(name, predictions, labels)
    if spec.kind == "count":
        metrics = _count_metrics(spec, truth, pred, codes, classes, **build)
    else:
        scores = _probabilities(spec, predictions)
        metrics = [_score_metric(spec, truth, scores, c, classes[c], **build) for c in codes]
    return ClassMetrics(task, metrics, classes, favorable)


def _labels(spec: MetricSpec, predictions: Any) -> np.ndarray:
    """The class codes of the labels; without labels, of the predictions (label-free metrics only)."""
    if predictions.y_true is None:
        if spec.name not in LABEL_FREE:
            raise ValueError(NEEDS_LABELS.format(name=spec.name))
        return np.asarray(predictions.y_pred, dtype=np.int64)
    return np.asarray(predictions.y_true, dtype=np.int64)


def _compared(name: str, predictions: Any, labels: list[Any] | None) -> tuple[list[int], Any]:
    """The codes of the classes to compute, and the favourable class when it alone is compared."""
    classes = list(predictions.classes)
    if labels is not None:
        wanted = {canonical(label) for label in labels}
        return [c for c, label in enumerate(classes) if canonical(label) in wanted], None
    favorable = predictions.favorable_code
    if favorable is not None and name in FAVORABLE_ONLY:
        return [int(favorable)], classes[int(favorable)]
    return list(range(len(classes))), None


def _count_metrics(spec: MetricSpec, truth: np.ndarray, pred: np.ndarray, codes: list[int], classes: list[Any],
                   group_id: np.ndarray, keys: dict[str, np.ndarray], sensitive_features: list[str],
                   min_group_size: int) -> list[GroupMetric]:
    """One-vs-rest confusion cells of every group and class at once, then the metric of each class in ``codes``."""
    n_groups, k = len(next(iter(keys.values()))) if keys else 0, len(classes)
    count, tp, fp, fn, tn = one_vs_rest_counts(group_id, truth, pred, n_groups, k)
    cells = np.zeros((n_groups, k, 4))
    cells[..., TP], cells[..., FP], cells[..., FN], cells[..., TN] = tp, fp, fn, tn
    return [GroupMetric(spec, list(sensitive_features), keys, count, cells[:, c, :].copy(),
                        spec.value(cells[:, c, :]), count < min_group_size, int(min_group_size), group_id,
                        label=classes[c]) for c in codes]


def _probabilities(spec: MetricSpec, predictions: Any) -> np.ndarray:
    scores = predictions.y_score
    if scores is None:
        raise ValueError(NEEDS_PROBABILITIES.format(name=spec.name))
    scores = np.asarray(scores, dtype=float)
    if scores.size and (scores.min() < 0 or scores.max() > 1):
        raise ValueError(NOT_PROBABILITIES.format(name=spec.name, low=scores.min(), high=scores.max()))
    return scores


def _score_metric(spec: MetricSpec, truth: np.ndarray, scores: np.ndarray, code: int, label: Any,
                  **build: Any) -> GroupMetric:
    """The metric of class ``code`` on ``(y_true == code, its probability)``; its terms made when resampled."""
    def terms() -> np.ndarray:
        return spec.terms((truth == code).astype(float), scores[:, code])

    metric = from_rows(spec, (truth == code).astype(float), scores[:, code], label=label, **build)
    return replace(metric, terms=terms)
