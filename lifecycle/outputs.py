"""From a model's raw outputs to the predictions its gates audit, for every task.

One place decides how outputs become decisions: a binary score at or above :data:`THRESHOLD` is
the positive class; a multiclass model predicts its most probable class; a regression model's
output is its prediction. Keras models, LiteRT variants and a user's own model all go through
here, so a variant is judged by exactly the rule its parent was.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from governance.errors import UserError
from governance.evidence import Predictions, task_of

#: Scores at or above this are predicted positive.
THRESHOLD = 0.5


def positive_scores(output: Any, name: str) -> np.ndarray:
    """Positive-class scores from a model's output: ``(n,)``, ``(n, 1)`` or two softmax columns."""
    array = np.asarray(output, dtype=float)
    if array.ndim == 2 and array.shape[1] == 2:
        array = array[:, 1]
    array = array.reshape(len(array), -1)
    if array.shape[1] != 1:
        raise UserError(f"{name}: the model outputs {array.shape[1]} values per row; a binary model outputs "
                        "one probability (or two softmax columns)")
    scores = array[:, 0]
    if not np.isfinite(scores).all():
        raise UserError(f"{name}: the model produced non-finite scores")
    return scores


def class_probabilities(output: Any, classes: int, name: str) -> np.ndarray:
    """Class probabilities ``(n, classes)``, renormalised so each row sums to 1.

    A quantized softmax (LiteRT int8) rounds each probability to its output scale, so its rows
    sum to 1 only approximately; renormalising keeps them probabilities without changing which
    class is the most probable.
    """
    array = np.asarray(output, dtype=float)
    array = array.reshape(len(array), -1)
    if array.shape[1] != classes:
        raise UserError(f"{name}: the model outputs {array.shape[1]} values per row; a multiclass model with "
                        f"{classes} classes outputs one probability per class")
    if not np.isfinite(array).all():
        raise UserError(f"{name}: the model produced non-finite class probabilities")
    array = np.clip(array, 0.0, 1.0)
    total = array.sum(axis=1, keepdims=True)
    if (total <= 0).any():
        raise UserError(f"{name}: the model produced a row whose class probabilities are all 0")
    return array / total


def predicted_numbers(output: Any, name: str) -> np.ndarray:
    """A regression model's predictions: one finite number per row."""
    array = np.asarray(output, dtype=float)
    array = array.reshape(len(array), -1)
    if array.shape[1] != 1:
        raise UserError(f"{name}: the model outputs {array.shape[1]} values per row; a regression model outputs one")
    if not np.isfinite(array).all():
        raise UserError(f"{name}: the model produced non-finite predictions")
    return array[:, 0]


def predictions_from(output: Any, *, task: str, y_true: Any, sensitive: Any, classes: list[str] | None = None,
                     favorable_label: Any = None, name: str = "model") -> Predictions:
    """The :class:`~governance.evidence.Predictions` of a model's outputs on labelled rows.

    ``y_true`` is coded as ingest codes it (0/1, class indexes into ``classes``, or numbers).
    """
    if task == "regression":
        return Predictions(y_true, predicted_numbers(output, name), sensitive, task="regression")
    if task == "multiclass":
        names = np.asarray(classes, dtype=object)
        proba = class_probabilities(output, len(names), name)
        return Predictions(names[np.asarray(y_true, dtype=np.int64)], names[proba.argmax(axis=1)], sensitive,
                           y_score=proba, task="multiclass", classes=list(names), favorable_label=favorable_label)
    scores = positive_scores(output, name)
    return Predictions(y_true, (scores >= THRESHOLD).astype(np.int64), sensitive, y_score=scores,
                       favorable_label=favorable_label)


def variant_predictions(output: Any, parent: Predictions, name: str) -> Predictions:
    """Predictions of a converted model on the rows of ``parent`` (same labels, groups and task)."""
    task = task_of(parent)
    if task == "regression":
        return parent.with_outputs(predicted_numbers(output, name))
    if task == "multiclass":
        proba = class_probabilities(output, len(parent.classes), name)
        return parent.with_outputs(proba.argmax(axis=1), proba)
    scores = positive_scores(output, name)
    return parent.with_outputs((scores >= THRESHOLD).astype(np.int64), scores)
