"""A user's own Keras model inside a governed run: its inputs, its scores, its LiteRT variants.

:meth:`lifecycle.session.Run.optimize` and :meth:`~lifecycle.session.Run.register` use these.
The model is any single-input Keras model whose output fits the run's task (the task of the
predictions gated at ``evaluate``): the positive-class probability (one sigmoid unit, or two
softmax units of which the second is positive), one probability per class (a softmax), or one
number. Its variants are built by :func:`lifecycle.variants.litert_variants`, exactly as the
pipeline builds its own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from governance.errors import UserError
from governance.evidence import Predictions, task_of
from governance.findings import GateResult
from lifecycle.outputs import THRESHOLD, positive_scores, predicted_numbers

__all__ = ["NOT_THE_TASK", "THRESHOLD", "Variant", "as_features", "keras_scores", "parent_predictions",
           "positive_scores"]


@dataclass
class Variant:
    """One LiteRT conversion of a model, scored and gated.

    Attributes
    ----------
    mode : ``float32``, ``dynamic_range``, ``float16`` or ``int8``
    path : the ``.tflite`` file (a run artifact, hashed in the trail)
    sha256, size_bytes, latency_ms : what the optimize rules compare with the parent
    accuracy : on the evaluation data
    result : the variant's optimize gate (``optimize`` and ``evaluate`` rules)
    row : its summary row, as the optimize stage recorded it
    """

    mode: str
    path: Path
    sha256: str
    size_bytes: int
    latency_ms: float | None
    accuracy: float | None
    predictions: Predictions = field(repr=False)
    result: GateResult | None = field(default=None, repr=False)
    evidence: Any = field(default=None, repr=False)
    row: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def blocked(self) -> bool:
        return bool(self.result is not None and self.result.blocked)


def as_features(x: Any, name: str) -> np.ndarray:
    """A 2-D float32 matrix of model inputs (one row per example)."""
    try:
        array = np.asarray(x.to_numpy() if hasattr(x, "to_numpy") else x, dtype=np.float32)
    except (TypeError, ValueError) as err:
        raise UserError(f"{name}: expected numeric model inputs, got {type(x).__name__} ({err})") from None
    if array.ndim == 1:
        array = array.reshape(-1, 1)
    if array.ndim != 2 or not len(array):
        raise UserError(f"{name}: expected a non-empty 2-D array of model inputs, got shape {array.shape}")
    if not np.isfinite(array).all():
        raise UserError(f"{name}: {int((~np.isfinite(array)).sum())} non-finite input value(s)")
    return array


def keras_scores(model: Any, x: np.ndarray) -> np.ndarray:
    """The Keras model's positive-class scores on ``x``."""
    return positive_scores(model.predict(x, verbose=0, batch_size=4096), "model")


#: A model whose output does not fit the run's task: one line naming both.
NOT_THE_TASK = "optimize: the model outputs {got}, but this run is {task}, {source}: {expected}"
_EXPECTED = {
    "binary": "a binary model outputs the positive-class probability (one sigmoid unit, or two softmax units); "
              "a multiclass or regression run gates evaluate with rai.Predictions(..., task=...) first",
    "multiclass": "a multiclass model outputs one probability per class, in the order of the classes (a softmax)",
    "regression": "a regression model outputs one number per row",
}
_SUM_TOLERANCE = 1e-3  # a float32 softmax row sums to 1 within about 1e-6


def parent_predictions(output: Any, y_true: Any, sensitive: Any, evaluated: Any) -> Predictions:
    """The Keras model's :class:`~governance.evidence.Predictions` on the evaluation rows.

    The task, and how labels and groups read, are those of ``evaluated`` (the predictions gated
    at ``evaluate`` in the run; ``None``: binary, as given).

    Raises
    ------
    UserError
        An output that does not fit the task (:data:`NOT_THE_TASK`), labels that are not the
        task's, or misaligned rows.
    """
    task = "binary" if evaluated is None else task_of(evaluated)
    array = np.asarray(output, dtype=float)
    array = array.reshape(len(array), -1)
    _fits(array, task, evaluated)
    if task == "binary":
        scores = positive_scores(array, "model")
        return Predictions(y_true, (scores >= THRESHOLD).astype(np.int64), sensitive, y_score=scores)
    groups = {"value_labels": getattr(evaluated, "value_labels", None), "bins": getattr(evaluated, "bins", None)}
    if task == "regression":
        return Predictions(y_true, predicted_numbers(array, "model"), sensitive, task="regression", **groups)
    classes = np.asarray(evaluated.classes, dtype=object)
    return Predictions(y_true, classes[array.argmax(axis=1)], sensitive, y_score=array, task="multiclass",
                       classes=list(classes), favorable_label=evaluated.favorable_label, **groups)


def _fits(array: Any, task: str, evaluated: Any) -> None:
    """Refuse an output of another task's shape, or scores that are not probabilities."""
    from governance.evidence_input import show

    classes = len(evaluated.classes) if task == "multiclass" else 0
    got = _misfit(array, task, classes)
    if got is not None:
        source = "as no predictions were gated at evaluate" if evaluated is None else \
            "from the predictions gated at evaluate"
        run = f"multiclass with {classes} classes ({show(evaluated.classes)})" if classes else task
        raise UserError(NOT_THE_TASK.format(got=got, task=run, source=source, expected=_EXPECTED[task]))


def _misfit(array: Any, task: str, classes: int) -> str | None:
    """What is wrong with ``array`` (rows x outputs) as the output of a ``task`` model, or None."""
    width = array.shape[1]
    if not np.isfinite(array).all():
        return f"{int((~np.isfinite(array)).sum())} non-finite value(s)"
    wanted = {"binary": (1, 2), "regression": (1,), "multiclass": (classes,)}[task]
    if width not in wanted:
        return f"{width} value{'s' if width != 1 else ''} per row"
    low, high = (float(array.min()), float(array.max())) if array.size else (0.0, 0.0)
    if task == "binary" and (low < 0 or high > 1):
        return f"values from {low:.4g} to {high:.4g}, not probabilities"
    if task == "multiclass":
        sums = array.sum(axis=1)
        if low < 0 or high > 1 or (np.abs(sums - 1) > _SUM_TOLERANCE).any():
            return (f"rows that are not class probabilities (values from {low:.4g} to {high:.4g}, row sums "
                    f"from {float(sums.min()):.4g} to {float(sums.max()):.4g})")
    return None
