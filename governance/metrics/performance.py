"""Binary-classification performance metrics, equal to scikit-learn's defaults.

Computed from the four confusion counts (and, for ROC AUC, one sort of the scores) in numpy:
importing ``sklearn.metrics`` alone costs over a second, which ``rai audit`` does not pay.

Conventions follow scikit-learn's default arguments:

* ``precision``, ``recall`` and ``f1`` are ``0.0`` when their denominator is zero
  (``zero_division="warn"`` returns 0);
* ``balanced_accuracy`` averages the recall of the classes present in ``y_true``;
* ``roc_auc`` is the area under the ROC curve with ties between scores counted as half, which
  is the Mann-Whitney U statistic; it is ``NaN`` when ``y_true`` has one class (scikit-learn
  warns and returns ``NaN`` too). Callers that compare it with a bound must treat ``NaN`` as
  undefined, never as passing.
"""

from __future__ import annotations

from typing import Any

import numpy as np

PERFORMANCE_METRICS = ("accuracy", "balanced_accuracy", "precision", "recall", "f1", "roc_auc")


def performance_metric(name: str, y_true: Any, y_pred: Any, y_score: Any = None) -> float:
    """The metric ``name`` of 0/1 predictions (or of scores, for ``roc_auc``).

    Parameters
    ----------
    name : one of :data:`PERFORMANCE_METRICS`
    y_true, y_pred : array-like of 0/1 labels
    y_score : array-like of positive-class scores; required for ``roc_auc`` only

    Raises
    ------
    ValueError
        Unknown metric, labels that are not 0/1, no rows, or missing or NaN scores for ``roc_auc``.
    """
    if name not in PERFORMANCE_METRICS:
        raise ValueError(f"unknown metric '{name}' (expected one of {', '.join(PERFORMANCE_METRICS)})")
    truth = binary_labels(y_true, "y_true")
    if not len(truth):
        raise ValueError("no rows to compute a metric on")
    if name == "roc_auc":
        if y_score is None:
            raise ValueError("roc_auc needs prediction scores (y_score)")
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
    return 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 0.0  # f1


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
