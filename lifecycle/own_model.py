"""A user's own Keras model inside a governed run: its inputs, its scores, its LiteRT variants.

:meth:`lifecycle.session.Run.optimize` and :meth:`~lifecycle.session.Run.register` use these.
The model is any single-input Keras model whose output is the positive-class probability (one
sigmoid unit, or two softmax units of which the second is positive). Its variants are built by
:func:`lifecycle.variants.litert_variants`, exactly as the pipeline builds its own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from governance.errors import UserError
from governance.evidence import Predictions
from governance.findings import GateResult
from lifecycle.outputs import THRESHOLD, positive_scores

__all__ = ["THRESHOLD", "Variant", "as_features", "keras_scores", "positive_scores"]


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
