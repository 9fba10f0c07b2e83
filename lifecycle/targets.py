"""The target column, coded for the spec's task; a target that does not fit the task is refused.

``binary``: 1 where the label is ``positive_label``, else 0, and exactly two labels. ``multiclass``:
the index of the label's class, classes in their natural order (numbers numerically, text
alphabetically), at least two and at most :data:`MAX_CLASSES`. ``regression``: the number, as
``float64``. Labels are read as :mod:`lifecycle.labels` keys them, so ``1``, ``1.0`` and ``" 1"``
are one class. Nothing is silently binarised: a 7-class target with ``task: binary`` or a text
target with ``task: regression`` is one line naming the file, the column and the values.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from governance.errors import UserError
from governance.evidence_input import MAX_CLASSES
from lifecycle.labels import label_classes, label_key, label_keys, shown_values

_OTHER_TASK = {"binary": "set data.task: multiclass (or regression for a number)",
               "multiclass": "set data.task: regression for a number"}


def class_order(keys: list[str]) -> list[str]:
    """Label keys in natural order: numbers numerically, then text alphabetically."""
    def rank(key: str) -> tuple[int, float, str]:
        try:
            return (0, float(key), "")
        except ValueError:
            return (1, 0.0, key)
    return sorted(keys, key=rank)


def code_target(labels: pd.Series, path: Path, spec: Any, known: list[str] | None = None) -> pd.Series:
    """The target of one file's labelled rows, coded for ``spec.task`` (``known``: the training classes)."""
    if spec.task == "regression":
        return _numbers(labels, path, spec.target)
    keys = label_keys(labels, spec.label_strip)
    classes = label_classes(keys)
    if known is not None and set(classes) - set(known):
        unseen = ~keys.isin(known).to_numpy()
        raise UserError(f"{path}: target column '{spec.target}' holds labels the training file does not have: "
                        f"{shown_values(labels[unseen])} (training labels: {', '.join(map(repr, known[:5]))}); "
                        "code them alike or set data.label_strip")
    if len(classes) < 2:
        raise UserError(f"{path}: target column '{spec.target}' has a single class {classes[0]!r}; need two")
    limit = 2 if spec.task == "binary" else MAX_CLASSES
    if known is None and len(classes) > limit:
        raise UserError(f"{path}: target column '{spec.target}' has {len(classes)} distinct values "
                        f"({shown_values(labels)}); data.task {spec.task} takes {'two' if limit == 2 else f'at most {limit}'}: "
                        + _OTHER_TASK[spec.task])
    if spec.task == "multiclass":
        order = {key: i for i, key in enumerate(class_order(known or classes))}
        return keys.map(order).astype("int64")
    coded = keys == label_key(spec.positive_label, spec.label_strip)
    if not coded.any():
        shown = ", ".join(repr(c) for c in classes[:10])
        raise UserError(f"{path}: positive_label {spec.positive_label!r} not found in target column "
                        f"'{spec.target}'; values are: {shown}")
    return coded.astype("int64")


def favorable(labels: pd.Series, path: Path, spec: Any, classes: list[str]) -> Any:
    """``data.favorable_label`` as the coded target holds it: 1 or 0 (binary), a class name (multiclass).

    ``None`` when not given (binary: the positive label is favourable; multiclass: every class
    is compared). A value that is no label of the target is refused.
    """
    if spec.favorable_label is None or spec.task == "regression":
        return None
    wanted = label_key(spec.favorable_label, spec.label_strip)
    keys = label_keys(labels, spec.label_strip)
    if spec.task == "binary":
        if wanted == label_key(spec.positive_label, spec.label_strip):
            return 1
        if keys.isin([wanted]).any():
            return 0
    else:
        order = class_order(label_classes(keys))
        if wanted in order:
            return classes[order.index(wanted)]
    raise UserError(f"{path}: favorable_label {spec.favorable_label!r} is not a label of target column "
                    f"'{spec.target}' (labels: {shown_values(labels)})")


def class_names(labels: pd.Series, spec: Any, keys: list[str]) -> list[str]:
    """Readable names of the classes ``keys`` (in that order): each class's first label as written."""
    frame = pd.DataFrame({"key": label_keys(labels, spec.label_strip).to_numpy(), "value": labels.to_numpy()})
    frame = frame.dropna().drop_duplicates("key")
    first = dict(zip(frame["key"], frame["value"], strict=True))
    return [_text(first.get(key, key), spec.label_strip) for key in keys]


def _text(value: Any, strip: str) -> str:
    value = value.item() if hasattr(value, "item") else value
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip()
    return text.strip(strip) if strip else text


def _numbers(labels: pd.Series, path: Path, target: str) -> pd.Series:
    values = pd.to_numeric(labels, errors="coerce").astype("float64")
    text = labels[values.isna() & labels.notna()]
    if len(text):
        raise UserError(f"{path}: target column '{target}' holds values that are not numbers ({shown_values(text)}); "
                        "data.task regression needs a number in every labelled row (class labels need data.task "
                        "binary or multiclass)")
    infinite = ~np.isfinite(values.to_numpy())
    if infinite.any():
        raise UserError(f"{path}: target column '{target}' holds {int(infinite.sum())} infinite value(s); "
                        "data.task regression needs finite numbers")
    return values
