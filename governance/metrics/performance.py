"""Performance metrics of every task, equal to scikit-learn's defaults.

Computed from confusion counts (and, for ROC AUC, one sort of the scores) in numpy:
importing ``sklearn.metrics`` alone costs over a second, which ``rai audit`` does not pay.

Metrics by task (:data:`TASK_METRICS`):

* binary: ``accuracy``, ``balanced_accuracy``, ``precision``, ``recall``, ``f1``, ``roc_auc``,
  ``macro_f1``, ``log_loss`` (positive-class probabilities);
* multiclass: ``accuracy``, ``balanced_accuracy``, ``macro_f1`` (``f1_score(average="macro")``:
  the mean F1 of the classes that occur in the labels or the predictions), ``log_loss`` (class
  probabilities, one column per class);
* regression: ``mae``, ``rmse``, ``r2``.

Conventions follow scikit-learn's default arguments:

* ``precision``, ``recall`` and ``f1`` are ``0.0`` when their denominator is zero
  (``zero_division="warn"`` returns 0);
* ``balanced_accuracy`` averages the recall of the classes present in ``y_true``;
* ``roc_auc`` is the area under the ROC curve with ties between scores counted as half, which
  is the Mann-Whitney U statistic; it is ``NaN`` when ``y_true`` has one class (scikit-learn
  warns and returns ``NaN`` too). Callers that compare it with a bound must treat ``NaN`` as
  undefined, never as passing;
* ``log_loss`` clips probabilities to ``[eps, 1 - eps]`` (float64 machine epsilon);
* one deliberate difference: ``r2`` of constant targets is ``NaN`` (undefined), where
  scikit-learn returns 1.0 or 0.0 by convention; a rule never passes on it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

PERFORMANCE_METRICS = ("accuracy", "balanced_accuracy", "precision", "recall", "f1", "roc_auc")
TASK_METRICS = {
    "binary": (*PERFORMANCE_METRICS, "macro_f1", "log_loss"),
    "multiclass": ("accuracy", "balanced_accuracy", "macro_f1", "log_loss"),
    "regression": ("mae", "rmse", "r2"),
}
#: Metrics where lower is better.
ERROR_METRICS = ("log_loss", "mae", "rmse")
#: Metrics computed from scores (probabilities) rather than labels.
SCORE_METRICS = ("roc_auc", "log_loss")
WRONG_TASK = "metric '{name}' does not apply to {task} predictions (metrics for {task}: {known})"
_EPS = float(np.finfo(np.float64).eps)


def performance_metric(name: str, y_true: Any, y_pred: Any, y_score: Any = None) -> float:
    """The metric ``name`` of 0/1 predictions (or of scores, for ``roc_auc``).

    Parameters
    ----------
    name : one of ``TASK_METRICS["binary"]``
    y_true, y_pred : array-like of 0/1 labels
    y_score : array-like of positive-class scores; required for ``roc_auc`` and ``log_loss`` only

    Raises
    ------
    ValueError
        Unknown metric, labels that are not 0/1, no rows, or missing or NaN scores for ``roc_auc``.
    """
    if name not in TASK_METRICS["binary"]:
        raise ValueError(f"unknown metric '{name}' (expected one of {', '.join(TASK_METRICS['binary'])})")
    truth = binary_labels(y_true, "y_true")
    if not len(truth):
        raise ValueError("no rows to compute a metric on")
    if name in SCORE_METRICS:
        if y_score is None:
            raise ValueError(f"{name} needs prediction scores (y_score)")
        if name == "log_loss":
            score = _probabilities(y_score, truth.shape)
            return log_loss(truth, np.column_stack([1 - score, score]))
        return roc_auc(truth, y_score)
    pred = binary_labels(y_pred, "y_pred")
    if len(pred) != len(truth):
        raise ValueError(f"y_true has {len(truth)} rows but y_pred has {len(pred)}")
    tn, fp, fn, tp = np.bincount(truth * 2 + pred, minlength=4).tolist()
    if name == "accuracy":
        return (tp + tn) / len(truth)
    if name == "balanced_accuracy":
        # Mean recall of the classes present in y_true, as scikit-learn averages it.
        recalls = [hits / support for hits, support in ((tn, tn + fp), (tp, tp + fn)) if support]
        return float(np.mean(recalls))
    if name == "precision":
        return tp / (tp + fp) if tp + fp else 0.0
    if name == "recall":
        return tp / (tp + fn) if tp + fn else 0.0
    if name == "macro_f1":
        return _macro_f1(np.array([tn, tp]), np.array([tn + fp, tp + fn]), np.array([tn + fn, tp + fp]))
    return 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 0.0  # f1


def multiclass_metric(name: str, y_true: Any, y_pred: Any, n_classes: int, y_score: Any = None) -> float:
    """The metric ``name`` of class codes ``0..n_classes-1`` (or of class probabilities, for ``log_loss``).

    Raises
    ------
    ValueError
        A metric of another task, no rows, codes out of range, or ``log_loss`` without scores.
    """
    _known(name, "multiclass")
    truth, pred = np.asarray(y_true, dtype=np.int64), np.asarray(y_pred, dtype=np.int64)
    if not len(truth):
        raise ValueError("no rows to compute a metric on")
    if name == "log_loss":
        if y_score is None:
            raise ValueError("log_loss needs prediction scores (y_score, one column per class)")
        return log_loss(truth, _probabilities(y_score, (len(truth), n_classes)))
    support = np.bincount(truth, minlength=n_classes)
    predicted = np.bincount(pred, minlength=n_classes)
    hits = np.bincount(truth[truth == pred], minlength=n_classes)
    if name == "accuracy":
        return float(hits.sum() / len(truth))
    if name == "balanced_accuracy":  # mean recall of the classes present in y_true
        present = support > 0
        return float(np.mean(hits[present] / support[present]))
    return _macro_f1(hits, support, predicted)


def regression_metric(name: str, y_true: Any, y_pred: Any) -> float:
    """``mae``, ``rmse`` or ``r2`` of finite targets and predictions (``r2`` is ``NaN`` for constant targets)."""
    _known(name, "regression")
    truth, pred = np.asarray(y_true, dtype=float), np.asarray(y_pred, dtype=float)
    if not len(truth):
        raise ValueError("no rows to compute a metric on")
    error = truth - pred
    if name == "mae":
        return float(np.mean(np.abs(error)))
    if name == "rmse":
        return float(np.sqrt(np.mean(error ** 2)))
    total = float(np.sum((truth - truth.mean()) ** 2))
    return 1.0 - float(np.sum(error ** 2)) / total if total > 0 else float("nan")


def predictions_metric(name: str, predictions: Any) -> float:
    """The metric ``name`` of a :class:`~governance.evidence.Predictions`, for its task.

    Raises
    ------
    ValueError
        The metric does not apply to the predictions' task (naming the ones that do), or the
        metric needs scores that were not given.
    """
    from governance.evidence import task_of

    task = task_of(predictions)
    _known(name, task)
    if task == "regression":
        return regression_metric(name, predictions.y_true, predictions.y_pred)
    if task == "multiclass":
        return multiclass_metric(name, predictions.y_true, predictions.y_pred, len(predictions.classes),
                                 predictions.y_score)
    return performance_metric(name, predictions.y_true, predictions.y_pred, predictions.y_score)


def task_metrics(predictions: Any) -> dict[str, float | None]:
    """Every metric of the predictions' task; ``None`` where undefined or where scores are missing."""
    from governance.evidence import task_of

    out: dict[str, float | None] = {}
    for name in TASK_METRICS[task_of(predictions)]:
        if name in SCORE_METRICS and predictions.y_score is None:
            continue
        try:
            value = float(predictions_metric(name, predictions))
        except ValueError:
            value = None
        out[name] = value if value is not None and np.isfinite(value) else None
    return out


def log_loss(y_true: np.ndarray, proba: np.ndarray) -> float:
    """Mean cross-entropy of class codes under class probabilities ``(N, K)``, clipped as scikit-learn does."""
    chosen = np.clip(proba, _EPS, 1 - _EPS)[np.arange(len(y_true)), y_true]
    return float(-np.mean(np.log(chosen)))


def _probabilities(values: Any, shape: tuple[int, ...]) -> np.ndarray:
    score = np.asarray(values, dtype=float)
    if score.shape != shape:
        raise ValueError(f"y_score has shape {score.shape}, expected {shape}")
    if not np.isfinite(score).all():
        raise ValueError("y_score contains NaN or infinite values")
    if score.size and (score.min() < 0 or score.max() > 1):
        raise ValueError(f"log_loss needs probabilities in [0, 1]; y_score ranges from {score.min():.4g} "
                         f"to {score.max():.4g}")
    return score


def _macro_f1(hits: np.ndarray, support: np.ndarray, predicted: np.ndarray) -> float:
    """Mean F1 over the classes that occur in the labels or the predictions, as scikit-learn's macro average."""
    present = (support + predicted) > 0
    return float(np.mean(2 * hits[present] / (support[present] + predicted[present])))


def _known(name: str, task: str) -> None:
    if task not in TASK_METRICS:
        raise ValueError(f"unknown task '{task}' (tasks: {', '.join(TASK_METRICS)})")
    if name not in TASK_METRICS[task]:
        raise ValueError(WRONG_TASK.format(name=name, task=task, known=", ".join(TASK_METRICS[task])))


def roc_auc(y_true: Any, y_score: Any) -> float:
    """Area under the ROC curve of ``y_score`` for 0/1 labels ``y_true`` (scikit-learn's value)."""
    truth = binary_labels(y_true, "y_true")
    score = np.asarray(y_score, dtype=float)
    if score.shape != truth.shape:
        raise ValueError(f"y_score has shape {score.shape} but y_true has {truth.shape}")
    if not np.isfinite(score).all():
        raise ValueError("y_score contains NaN or infinite values")
    positives = int(truth.sum())
    negatives = len(truth) - positives
    if positives == 0 or negatives == 0:
        return float("nan")  # undefined with one class, as scikit-learn returns it
    order = np.argsort(score, kind="mergesort")
    sorted_score, sorted_truth = score[order], truth[order]
    # Tied scores share the average of their ranks (1-based), so a tie counts half.
    starts = np.flatnonzero(np.r_[True, sorted_score[1:] != sorted_score[:-1]])
    ends = np.r_[starts[1:], len(score)]
    mean_rank = (starts + 1 + ends) / 2.0
    positives_per_tie = np.add.reduceat(sorted_truth, starts)
    rank_sum = float(np.dot(mean_rank, positives_per_tie))
    return (rank_sum - positives * (positives + 1) / 2.0) / (positives * negatives)


def binary_labels(labels: Any, name: str) -> np.ndarray:
    """0/1 (or bool) labels as int64, ready for ``np.bincount``; ``ValueError`` otherwise."""
    arr = np.asarray(labels)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {arr.shape}")
    if arr.dtype == bool:
        return arr.astype(np.int64)
    if arr.dtype.kind not in "iuf":
        raise ValueError(f"{name} must hold 0/1 labels, got dtype {arr.dtype}")
    bad = (arr != 0) & (arr != 1)
    if bad.any():
        first = int(bad.argmax())
        raise ValueError(f"{name} must hold 0/1 labels, found {arr[first]!r} at row {first}")
    return arr.astype(np.int64)
