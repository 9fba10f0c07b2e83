"""From a model's raw outputs to the predictions its gates audit.

One place decides how outputs become decisions: a score at or above :data:`THRESHOLD` is the
positive class. Keras models, LiteRT variants and a user's own model all go through here, so a
variant is judged on exactly the rule its parent was.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from governance.errors import UserError
from governance.evidence import Predictions

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


def variant_predictions(output: Any, parent: Predictions, name: str) -> Predictions:
    """Predictions of a converted model on the rows of ``parent`` (same labels and groups)."""
    scores = positive_scores(output, name)
    return Predictions(parent.y_true, (scores >= THRESHOLD).astype(np.int64), parent.sensitive, y_score=scores)
