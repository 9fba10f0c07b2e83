"""Evaluate: a model's test-set scores and decisions, as the evidence the checks audit.

Works for any scorer of raw rows: a Keras model from :mod:`lifecycle.model` or a callable such
as a LiteRT core paired with the Keras preprocessing (see :mod:`lifecycle.optimize`), so the
parent model and its compressed variants are judged on exactly the same rows and rule
(:mod:`lifecycle.outputs`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from governance.evidence import Predictions
from lifecycle.data import Dataset
from lifecycle.outputs import THRESHOLD


def predict(model: Any, df: pd.DataFrame, threshold: float = THRESHOLD) -> tuple[np.ndarray, np.ndarray]:
    """Positive-class scores and 0/1 decisions of ``model`` on raw rows.

    Parameters
    ----------
    model : a Keras model from :func:`lifecycle.model.build_model`, or any callable taking the
        raw frame and returning one score per row
    df : rows with (at least) the model's feature columns
    threshold : decision threshold on the score

    Returns
    -------
    y_score : float array, shape ``(n,)``
    y_pred : int array of 0/1, shape ``(n,)``
    """
    if hasattr(model, "get_layer"):  # a Keras model: run its own preprocessing on the raw rows
        from lifecycle.model import score

        y_score = score(model, df)
    else:
        y_score = np.asarray(model(df), dtype=np.float64).reshape(-1)
    if len(y_score) != len(df):
        raise ValueError(f"model returned {len(y_score)} scores for {len(df)} rows")
    return y_score.astype(np.float64), (y_score >= threshold).astype(np.int64)


def evaluate_model(model: Any, dataset: Dataset) -> Predictions:
    """Predictions of ``model`` on ``dataset.test`` with its labels and sensitive columns, for the data's task.

    The result is the ``predictions`` evidence for performance and fairness checks (and, at
    ``optimize``, for a variant next to its parent's ``parent_predictions``). The sensitive
    columns are the audited ones (value labels and bins applied); the favourable label is the
    spec's.
    """
    from lifecycle.model import score
    from lifecycle.outputs import predictions_from

    test = dataset.test
    output = score(model, test) if hasattr(model, "get_layer") else np.asarray(model(test), dtype=np.float64)
    if len(output) != len(test):
        raise ValueError(f"model returned {len(output)} outputs for {len(test)} rows")
    sensitive = dataset.groups.get("test")
    if sensitive is None:
        sensitive = test[dataset.sensitive_features].reset_index(drop=True)
    y_true = test[dataset.target].to_numpy(dtype=np.float64 if dataset.task == "regression" else np.int64)
    return predictions_from(output, task=dataset.task, y_true=y_true, sensitive=sensitive,
                            classes=dataset.classes, favorable_label=dataset.favorable)


def accuracy(predictions: Predictions) -> float:
    """Share of correct decisions, with the governance metric the checks use."""
    from governance.metrics.performance import performance_metric

    return float(performance_metric("accuracy", predictions.y_true, predictions.y_pred))
