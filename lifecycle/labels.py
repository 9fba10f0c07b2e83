"""One way to read a label column, at training and when monitoring a deployed model.

A label's *key* is its text with surrounding spaces and the spec's ``label_strip`` characters
removed; a label that reads as a finite number is keyed by that number, so ``1``, ``1.0`` and
``" 1"`` are one label while ``>50K`` stays text. The positive label is keyed the same way.
Training records the keys it saw (:func:`label_classes`); a monitored batch may hold those
labels only (:func:`code_batch_labels`): a batch coded 0/1 for a model trained on ``<=50K`` and
``>50K``, an unknown label or a missing one is refused, never counted as negative.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from governance.errors import UserError

_SHOWN = 5


def label_keys(values: pd.Series, label_strip: str = "") -> pd.Series:
    """The key of every label in ``values`` (object dtype), missing where the label is missing."""
    text = values.astype(str).str.strip()
    if label_strip:
        text = text.str.strip(label_strip)
    with np.errstate(all="ignore"):
        numbers = pd.to_numeric(text, errors="coerce").astype("float64")
    numeric = np.isfinite(numbers.to_numpy())
    keys = text.astype(object)
    keys[numeric] = [repr(float(x)) for x in numbers[numeric]]
    return keys.mask(values.isna().to_numpy())


def label_key(label: Any, label_strip: str = "") -> str:
    """The key of one label (the spec's ``positive_label``)."""
    return str(label_keys(pd.Series([label], dtype=object), label_strip).iloc[0])


def label_classes(keys: pd.Series) -> list[str]:
    """The distinct keys present, sorted (what a registry entry records as the training labels)."""
    return sorted(str(k) for k in keys.dropna().unique())


def shown_values(values: pd.Series) -> str:
    """Up to five distinct values as written (``0, 1`` or ``'<=50K', '>50K'``), for messages."""
    distinct = list(dict.fromkeys(v.item() if hasattr(v, "item") else v for v in values))
    shown = ", ".join(repr(v) for v in distinct[:_SHOWN])
    return shown + (f", ... ({len(distinct) - _SHOWN} more)" if len(distinct) > _SHOWN else "")


def code_batch_labels(values: pd.Series, schema: dict[str, Any], where: str) -> np.ndarray:
    """0/1 labels of a monitored batch, mapped exactly as the registered model's training data.

    Parameters
    ----------
    values : the batch's target column as read
    schema : the registry entry's ``schema`` (``target``, ``positive_label``, ``label_strip``,
        ``labels``: the training labels' keys)
    where : the batch file, for messages

    Raises
    ------
    UserError
        A missing label, a label the training data did not have, or an entry that did not
        record its training labels.
    """
    column = schema["target"]
    keys = label_keys(values, schema.get("label_strip") or "")
    missing = keys.isna().to_numpy()
    if missing.any():
        raise UserError(f"{where}: column '{column}' has {int(missing.sum())} missing label(s) (first in data row "
                        f"{int(missing.argmax()) + 1}); fill them, or drop the column to monitor without labels")
    known = schema.get("labels")
    if not known:
        raise UserError(f"{where}: column '{column}' holds labels, but the registered model records no training "
                        "labels to map them to; drop the column to monitor without labels")
    unknown = ~keys.isin(known).to_numpy()
    if unknown.any():
        trained = ", ".join(repr(k) for k in known[:_SHOWN])
        raise UserError(f"{where}: column '{column}' holds labels the model was not trained on: "
                        f"{shown_values(values[unknown])} (training labels: {trained}); code them as in training")
    positive = label_key(schema["positive_label"], schema.get("label_strip") or "")
    return (keys == positive).to_numpy(dtype=np.int64)
