"""One way to read a label column, at training and when monitoring a deployed model.

A label's *key* is its text with surrounding spaces and the spec's ``label_strip`` characters
removed; a label that reads as a finite number is keyed by that number, so ``1``, ``1.0`` and
``" 1"`` are one label while ``>50K`` stays text. The positive label is keyed the same way.
Training records the keys it saw (:func:`label_classes`); a monitored batch may hold those
labels only (:func:`code_batch_labels`): a batch coded 0/1 for a model trained on ``<=50K`` and
``>50K``, an unknown label or a missing one is refused, never counted as negative. A multiclass
model's labels become its class names (the schema's ``classes``, in class-index order as
training coded them); a regression model's targets are finite numbers.
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


def task_of_schema(schema: dict[str, Any]) -> str:
    """The registered model's task: ``binary`` (entries that record none), ``multiclass`` or ``regression``."""
    return str(schema.get("task") or "binary")


def favorable_of(schema: dict[str, Any]) -> Any:
    """The favourable outcome as the model's predictions code it: 1 or 0 (binary), a class name
    (multiclass), or ``None`` (none given: the positive label, or every class; regression)."""
    wanted, task = schema.get("favorable_label"), task_of_schema(schema)
    if wanted is None or task == "regression":
        return None
    strip = schema.get("label_strip") or ""
    key = label_key(wanted, strip)
    if task == "binary":
        return 1 if key == label_key(schema["positive_label"], strip) else 0
    from lifecycle.targets import class_order

    return schema["classes"][class_order(list(schema["labels"])).index(key)]


def code_batch_labels(values: pd.Series, schema: dict[str, Any], where: str) -> np.ndarray:
    """Labels of a monitored batch, mapped exactly as the registered model's training data: 0/1
    (binary), class names (multiclass) or finite numbers (regression).

    Parameters
    ----------
    values : the batch's target column as read
    schema : the registry entry's ``schema`` (``target``, ``task``, ``positive_label``,
        ``label_strip``, ``labels``: the training labels' keys, ``classes``)
    where : the batch file, for messages

    Raises
    ------
    UserError
        A missing label, a label the training data did not have, a regression target that is
        not a finite number, or an entry that did not record its training labels.
    """
    column = schema["target"]
    keys = label_keys(values, schema.get("label_strip") or "")
    missing = keys.isna().to_numpy()
    if missing.any():
        raise UserError(f"{where}: column '{column}' has {int(missing.sum())} missing label(s) (first in data row "
                        f"{int(missing.argmax()) + 1}); fill them, or drop the column to monitor without labels")
    if task_of_schema(schema) == "regression":
        return _targets(values, column, where)
    known = schema.get("labels")
    if not known:
        raise UserError(f"{where}: column '{column}' holds labels, but the registered model records no training "
                        "labels to map them to; drop the column to monitor without labels")
    unknown = ~keys.isin(known).to_numpy()
    if unknown.any():
        trained = ", ".join(repr(k) for k in known[:_SHOWN])
        raise UserError(f"{where}: column '{column}' holds labels the model was not trained on: "
                        f"{shown_values(values[unknown])} (training labels: {trained}); code them as in training")
    if task_of_schema(schema) == "multiclass":
        from lifecycle.targets import class_order

        names = dict(zip(class_order(list(known)), schema["classes"], strict=True))
        return keys.map(names).to_numpy(dtype=object)
    positive = label_key(schema["positive_label"], schema.get("label_strip") or "")
    return (keys == positive).to_numpy(dtype=np.int64)


def _targets(values: pd.Series, column: str, where: str) -> np.ndarray:
    """A regression model's targets: finite numbers; text or an infinite value is refused."""
    with np.errstate(all="ignore"):
        numbers = pd.to_numeric(values, errors="coerce").astype("float64")
    bad = ~np.isfinite(numbers.to_numpy())
    if bad.any():
        raise UserError(f"{where}: column '{column}' holds targets that are not finite numbers: "
                        f"{shown_values(values[bad])} (first in data row {int(bad.argmax()) + 1}); the model predicts "
                        "a number, so every label must be one")
    return numbers.to_numpy()
