"""Any metric of the group-metric table, per sensitive group, from one pass over the rows.

Rows are coded into group ids once (:func:`governance.metrics.fairness.encode_groups`), then
one ``np.bincount`` gives each group's sufficient statistics: the confusion cells ``tn, fp, fn,
tp`` for the count metrics, or the sums of a few per-row terms for the mean metrics. Every
metric is a vectorised function of those statistics, so the same code evaluates one table
(shape ``(G, 4)``) or thousands of bootstrap replicates (``(B, G, 4)``).

The table (:data:`METRICS`; ``docs/policies.md`` documents it):

* binary, from labels: ``selection_rate``, ``accuracy``, ``balanced_accuracy``, ``tpr``,
  ``fpr``, ``fnr``, ``tnr``, ``precision``, ``npv``, ``f1``;
* binary, from scores (probabilities in [0, 1]): ``log_loss`` (scores clipped to
  ``[eps, 1 - eps]`` with the float64 machine epsilon, as scikit-learn does), ``brier_score``,
  ``calibration_gap`` = ``|mean score - mean label|`` of the group (calibration in the large),
  ``mean_score``;
* regression: ``mae``, ``rmse``, ``mean_prediction``, ``mean_target``.

:data:`LABEL_FREE` metrics (``selection_rate``, ``mean_score``, ``mean_prediction``) read the
model's outputs only: they are computed for predictions without labels (live rows whose
outcomes are not known) too; every other metric needs labels.

Each equals fairlearn's ``MetricFrame`` with the scikit-learn function on the group's rows. When
the favourable label of binary predictions is the negative one (``favorable_label``), the
favourable label is the positive one throughout (fairlearn's ``pos_label``, and scores
``1 - y_score``), so ``selection_rate`` is the share given the favourable outcome.
Where scikit-learn returns 0 for a zero denominator (a group without positive labels has
``tpr`` 0), the value here is undefined (``NaN``): callers never decide a rule on it.

Multiclass predictions get the binary metrics one class at a time
(:mod:`governance.metrics.groupwise_classes`); a :class:`GroupMetric` of one class names it
in ``label``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from governance.evidence import Predictions
from governance.evidence_regression import RegressionPredictions
from governance.io import missing_column_message
from governance.metrics.fairness import encode_groups
from governance.vocabulary import DEFAULT_MIN_GROUP_SIZE, closest

TN, FP, FN, TP = range(4)
AGGREGATES = ("difference", "ratio", "min", "max")
_EPS = float(np.finfo(np.float64).eps)

UNKNOWN_METRIC = "unknown metric {name!r}{hint} (metrics: {known})"
WRONG_TASK = "metric {name!r} is a {task} metric, but the predictions are {found}"
NEEDS_SCORES = "metric {name!r} needs prediction scores (predictions.y_score), which were not given"
NOT_PROBABILITIES = ("metric {name!r} needs scores that are probabilities in [0, 1]; y_score ranges "
                     "from {low:.4g} to {high:.4g}")
RATIO_NEEDS_POSITIVE = "a ratio of {name} needs non-negative values; group {group} has {value:.4g}"
NEEDS_LABELS = "metric {name!r} needs labels (predictions.y_true), which the predictions do not carry"
#: Metrics of the model's outputs alone: they need no labels.
LABEL_FREE = ("selection_rate", "mean_score", "mean_prediction")


@dataclass(frozen=True)
class MetricSpec:
    """One row of the metric table.

    ``kind`` is ``count`` (a function of the confusion cells) or ``mean`` (a function of the
    group means of ``terms``, per-row values). ``rate`` names the cells of a proportion's
    numerator and denominator (Wilson intervals apply); ``undefined`` says when a group has no
    value.
    """

    name: str
    task: str
    kind: str
    summary: str
    needs_scores: bool = False
    bounded: bool = True  # values lie in [0, 1]
    nonnegative: bool = True
    rate: tuple[tuple[int, ...], tuple[int, ...]] | None = None
    undefined: str = ""
    value: Callable[[np.ndarray], np.ndarray] | None = None  # count: cells -> values
    terms: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None  # mean: (truth, output) -> (N, k)
    finish: Callable[[np.ndarray], np.ndarray] | None = None  # mean: group means (..., k) -> values


def _div(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """``num / den``, ``NaN`` where ``den`` is 0 (an undefined value, never a 0)."""
    den = np.asarray(den, dtype=float)
    safe = np.where(den > 0, den, 1.0)
    return np.where(den > 0, np.asarray(num, dtype=float) / safe, np.nan)


def _rate_value(num: tuple[int, ...], den: tuple[int, ...]) -> Callable[[np.ndarray], np.ndarray]:
    return lambda cells: _div(cells[..., list(num)].sum(-1), cells[..., list(den)].sum(-1))


def _rate(name: str, num: tuple[int, ...], den: tuple[int, ...], summary: str, undefined: str) -> MetricSpec:
    return MetricSpec(name, "binary", "count", summary, rate=(num, den), undefined=undefined,
                      value=_rate_value(num, den))


def _balanced_accuracy(cells: np.ndarray) -> np.ndarray:
    return (_rate_value((TP,), (TP, FN))(cells) + _rate_value((TN,), (TN, FP))(cells)) / 2


def _f1(cells: np.ndarray) -> np.ndarray:
    tp = cells[..., TP]
    return _div(2 * tp, 2 * tp + cells[..., FP] + cells[..., FN])


def _log_loss_terms(truth: np.ndarray, score: np.ndarray) -> np.ndarray:
    p = np.clip(score, _EPS, 1 - _EPS)
    return -(truth * np.log(p) + (1 - truth) * np.log1p(-p))[:, None]


def _mean(name: str, task: str, summary: str, terms, finish=None, **kw: Any) -> MetricSpec:
    return MetricSpec(name, task, "mean", summary, undefined="no rows", terms=terms,
                      finish=finish or (lambda m: m[..., 0]), **kw)


_ALL = (TN, FP, FN, TP)
_POSITIVES, _NEGATIVES = (TP, FN), (TN, FP)
METRICS: dict[str, MetricSpec] = {spec.name: spec for spec in (
    _rate("selection_rate", (TP, FP), _ALL, "share of rows predicted positive", "no rows"),
    _rate("accuracy", (TP, TN), _ALL, "share of rows predicted right", "no rows"),
    MetricSpec("balanced_accuracy", "binary", "count", "mean of TPR and TNR",
               undefined="needs rows with y_true 1 and rows with y_true 0", value=_balanced_accuracy),
    _rate("tpr", (TP,), _POSITIVES, "true positive rate (recall)", "no rows with y_true 1"),
    _rate("fnr", (FN,), _POSITIVES, "false negative rate", "no rows with y_true 1"),
    _rate("fpr", (FP,), _NEGATIVES, "false positive rate", "no rows with y_true 0"),
    _rate("tnr", (TN,), _NEGATIVES, "true negative rate (specificity)", "no rows with y_true 0"),
    _rate("precision", (TP,), (TP, FP), "share of predicted positives that are positive", "no rows with y_pred 1"),
    _rate("npv", (TN,), (TN, FN), "share of predicted negatives that are negative", "no rows with y_pred 0"),
    MetricSpec("f1", "binary", "count", "harmonic mean of precision and TPR",
               undefined="no rows with y_true 1 or y_pred 1", value=_f1),
    _mean("log_loss", "binary", "mean cross-entropy of the scores", _log_loss_terms,
          needs_scores=True, bounded=False),
    _mean("brier_score", "binary", "mean squared error of the scores",
          lambda y, s: ((s - y) ** 2)[:, None], needs_scores=True),
    _mean("calibration_gap", "binary", "|mean score - mean label| of the group",
          lambda y, s: np.column_stack([s, y]), lambda m: np.abs(m[..., 0] - m[..., 1]), needs_scores=True),
    _mean("mean_score", "binary", "mean score", lambda y, s: s[:, None], needs_scores=True),
    _mean("mae", "regression", "mean absolute error", lambda y, p: np.abs(y - p)[:, None], bounded=False),
    _mean("rmse", "regression", "root mean squared error", lambda y, p: ((y - p) ** 2)[:, None],
          lambda m: np.sqrt(m[..., 0]), bounded=False),
    _mean("mean_prediction", "regression", "mean prediction", lambda y, p: p[:, None],
          bounded=False, nonnegative=False),
    _mean("mean_target", "regression", "mean target", lambda y, p: y[:, None], bounded=False, nonnegative=False),
)}


def metric_problem(name: str) -> str | None:
    """Why ``name`` is no metric of the table (with the closest names), or ``None``."""
    if name in METRICS:
        return None
    return UNKNOWN_METRIC.format(name=name, hint=closest(name, tuple(METRICS)), known=", ".join(METRICS))


def aggregate(values: np.ndarray, how: str) -> np.ndarray:
    """``difference`` (max - min), ``ratio`` (min / max), ``min`` or ``max`` over the last axis.

    ``NaN`` anywhere in a row makes that row's result ``NaN``; a ratio whose max is 0 is ``NaN``.
    """
    if how == "min":
        return values.min(axis=-1)
    if how == "max":
        return values.max(axis=-1)
    low, high = values.min(axis=-1), values.max(axis=-1)
    return high - low if how == "difference" else _div(low, high)


@dataclass(frozen=True)
class GroupMetric:
    """One metric per sensitive group.

    Attributes
    ----------
    spec : the metric's row of :data:`METRICS`
    sensitive_features : names of the sensitive columns; several form intersectional groups
    keys : ``{feature: G values}``, each group's value of every feature
    count : rows per group
    stats : sufficient statistics per group: confusion cells ``(G, 4)`` (count metrics) or
        sums of the terms ``(G, k)`` (mean metrics)
    value : the metric per group, ``NaN`` where undefined
    excluded : groups with fewer than ``min_group_size`` rows (listed, never compared)
    group_id, terms : per-row group ids and terms (mean metrics), for resampling; ``terms`` may
        be a function that makes them, so that many classes' terms are never held at once
    label : multiclass, one-vs-rest metrics: the class the metric is of (``None`` otherwise)
    """

    spec: MetricSpec
    sensitive_features: list[str]
    keys: dict[str, np.ndarray]
    count: np.ndarray
    stats: np.ndarray
    value: np.ndarray
    excluded: np.ndarray
    min_group_size: int
    group_id: np.ndarray
    terms: np.ndarray | Callable[[], np.ndarray] | None = None
    label: Any = None

    @property
    def what(self) -> str:
        """The metric's name, and its class when it is one class's: ``tpr of class 'B'``."""
        return self.spec.name if self.label is None else f"{self.spec.name} of class {class_text(self.label)}"

    @property
    def why_undefined(self) -> str:
        """When a group has no value: ``no rows with y_true 1`` (``'B'`` and ``other than 'B'`` for a class)."""
        if self.label is None:
            return self.spec.undefined
        name = class_text(self.label)
        return re.sub(r"(y_true|y_pred) ([01])",
                      lambda m: f"{m[1]} {name if m[2] == '1' else 'other than ' + name}", self.spec.undefined)

    def row_terms(self) -> np.ndarray:
        """The per-row terms of a mean metric (made now if they were left as a function)."""
        return self.terms() if callable(self.terms) else self.terms

    @property
    def included(self) -> np.ndarray:
        """Indexes of the groups that count in the aggregate."""
        return np.flatnonzero(~self.excluded)

    def group(self, index: int) -> dict[str, Any]:
        """The key of group ``index`` as ``{feature: value}``."""
        return {name: plain(values[index]) for name, values in self.keys.items()}

    def undefined_groups(self) -> list[dict[str, Any]]:
        """Included groups whose metric is undefined (a zero denominator)."""
        return [self.group(i) for i in self.included if np.isnan(self.value[i])]

    def aggregate(self, how: str) -> float:
        """The aggregate over the included groups (``NaN`` if any is undefined or none is left)."""
        values = self.value[self.included]
        return float(aggregate(values, how)) if len(values) else float("nan")


def group_metric(name: str, predictions: Any, sensitive_features: list[str],
                 min_group_size: int = DEFAULT_MIN_GROUP_SIZE) -> GroupMetric:
    """The metric ``name`` per group of ``sensitive_features``; see the module docstring.

    Parameters
    ----------
    name : a metric of :data:`METRICS`
    predictions : :class:`~governance.evidence.Predictions` (binary metrics) or
        :class:`~governance.evidence_regression.RegressionPredictions` (regression metrics)
    sensitive_features : columns of ``predictions.sensitive``
    min_group_size : groups with fewer rows are excluded from aggregates

    Raises
    ------
    ValueError
        Unknown metric, a metric of the other task, scores missing or not probabilities, or a
        sensitive column that does not exist; one line saying which.
    """
    spec = known_metric(name)
    truth, output = _inputs(spec, predictions)
    group_id, keys = groups_of(predictions, sensitive_features)
    return from_rows(spec, truth, output, group_id, keys, sensitive_features, min_group_size)


def known_metric(name: str) -> MetricSpec:
    """The row of :data:`METRICS` named ``name``; raises ``ValueError`` with the closest names."""
    problem = metric_problem(name)
    if problem:
        raise ValueError(problem)
    return METRICS[name]


def groups_of(predictions: Any, sensitive_features: list[str]) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """``(group id per row, {feature: value per group})``; raises naming a column that does not exist."""
    columns = [str(c) for c in predictions.sensitive.columns]
    for feature in sensitive_features:
        if feature not in columns:
            raise ValueError(f"predictions.sensitive: {missing_column_message(feature, columns)}")
    return encode_groups(predictions.sensitive[list(sensitive_features)])


def from_rows(spec: MetricSpec, truth: np.ndarray, output: np.ndarray, group_id: np.ndarray,
              keys: dict[str, np.ndarray], sensitive_features: list[str], min_group_size: int,
              label: Any = None) -> GroupMetric:
    """The metric per group from per-row labels (0/1) and outputs (0/1 predictions, scores or numbers)."""
    n_groups = len(next(iter(keys.values()))) if keys else 0
    count = np.bincount(group_id, minlength=n_groups)
    terms = None
    if spec.kind == "count":
        codes = group_id * 4 + truth * 2 + output
        stats = np.bincount(codes, minlength=4 * n_groups).reshape(n_groups, 4).astype(float)
        value = spec.value(stats)
    else:
        terms = spec.terms(truth, output)
        stats = np.column_stack([np.bincount(group_id, weights=t, minlength=n_groups) for t in terms.T])
        value = spec.finish(_div(stats, count[:, None]))
    return GroupMetric(spec, list(sensitive_features), keys, count, stats, value,
                       count < min_group_size, int(min_group_size), group_id, terms, label)


def _inputs(spec: MetricSpec, predictions: Any) -> tuple[np.ndarray, np.ndarray]:
    """``(truth, output)``: labels and predictions (count), labels and scores, or targets and predictions."""
    if isinstance(predictions, RegressionPredictions):
        task, found = "regression", "regression predictions"
    elif isinstance(predictions, Predictions):  # Predictions(task=...) says what it holds
        task = predictions.task
        found = "regression predictions" if task == "regression" else f"{task} classification predictions"
    else:
        raise ValueError(f"predictions: expected Predictions or RegressionPredictions, got {type(predictions).__name__}")
    if spec.task != task:
        raise ValueError(WRONG_TASK.format(name=spec.name, task=spec.task, found=found))
    labels = predictions.y_true
    if labels is None:  # a label-free metric does not read them: the predictions stand in
        if spec.name not in LABEL_FREE:
            raise ValueError(NEEDS_LABELS.format(name=spec.name))
        labels = predictions.y_pred
    if spec.task == "regression":
        return labels, predictions.y_pred
    truth = np.asarray(labels, dtype=np.int64)
    # With the other label favourable (credit: "no default"), every number is fairlearn's with
    # pos_label set to the favourable label, as in governance.metrics.fairness.fairness_report.
    flip = task == "binary" and getattr(predictions, "favorable_code", None) == 0
    if not spec.needs_scores:
        pred = np.asarray(predictions.y_pred, dtype=np.int64)
        return (1 - truth, 1 - pred) if flip else (truth, pred)
    score = predictions.y_score
    if score is None:
        raise ValueError(NEEDS_SCORES.format(name=spec.name))
    if len(score) and (score.min() < 0 or score.max() > 1):
        raise ValueError(NOT_PROBABILITIES.format(name=spec.name, low=score.min(), high=score.max()))
    truth, score = truth.astype(float), np.asarray(score, dtype=float)
    return (1 - truth, 1 - score) if flip else (truth, score)


def plain(value: Any) -> Any:
    """A numpy scalar as the Python value it holds (JSON and messages show it plainly)."""
    return value.item() if hasattr(value, "item") else value


def class_text(label: Any) -> str:
    """A class as messages show it: ``'B'``, ``3``."""
    return repr(plain(label))
