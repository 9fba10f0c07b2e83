"""Turning what a user's code holds (numpy, lists, pandas, pyarrow) into typed evidence.

Every function raises :class:`~governance.errors.UserError` with one line naming the field, so
``rai.Predictions(...)`` and ``rai.audit(...)`` fail like the CLI does: clearly, before any check
runs. Values a check cannot trust (missing or non-finite labels and scores, labels that do not
fit the task) are refused here rather than counted as one class: a 7-class or a numeric target
is never silently turned into "one value against the rest".
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from governance.errors import UserError

_SHOWN = 5  # distinct bad values quoted in a message
#: More distinct labels than this is no classification target (an amount, an id, a free text).
MAX_CLASSES = 1000
#: Rows of a multiclass score matrix are probabilities: they sum to 1 within this (float32 softmax).
ROW_SUM_TOLERANCE = 1e-3
NOT_BINARY_HINT = "; a target that is not binary needs task multiclass or regression"


def as_array(values: Any, field: str) -> np.ndarray:
    """A 1-D numpy array from a list, numpy, pandas or pyarrow object."""
    if hasattr(values, "to_numpy") and not hasattr(values, "columns"):  # pandas Series, pyarrow Array
        try:
            values = values.to_numpy(zero_copy_only=False)
        except TypeError:
            values = values.to_numpy()
    elif hasattr(values, "columns") or isinstance(values, (str, bytes, Mapping)) or np.isscalar(values):
        raise UserError(f"{field}: expected a 1-D array-like of values, got {type(values).__name__}")
    array = np.asarray(values)
    if array.ndim != 1:
        raise UserError(f"{field}: expected a 1-D array-like of values, got shape {array.shape}")
    return array


def as_binary(values: Any, field: str, pos_label: Any = None) -> np.ndarray:
    """0/1 ``int64`` labels; text or other labels need ``pos_label`` (compared exactly)."""
    array = as_array(values, field)
    if pos_label is not None:
        present = _distinct(array)
        if _has_missing(array):
            raise UserError(f"{field}: {_count_missing(array)} missing label(s); labels must all be present")
        if pos_label not in present:
            raise UserError(f"{field}: pos_label {pos_label!r} does not occur (labels: {_show(present)})")
        if len(present) > 2:
            raise UserError(f"{field}: more than two labels ({_show(present)}); binary labels are expected"
                            + NOT_BINARY_HINT)
        return (array == pos_label).astype(np.int64)
    if array.dtype.kind == "b":
        return array.astype(np.int64)
    if array.dtype.kind in "iu":
        bad = array[(array != 0) & (array != 1)]
        if bad.size:
            raise UserError(f"{field}: labels must be 0/1, got {_show(np.unique(bad))}; pass pos_label to say "
                            f"which value is positive{NOT_BINARY_HINT}")
        return array.astype(np.int64)
    if array.dtype.kind == "f":
        if not np.isfinite(array).all():
            raise UserError(f"{field}: {int((~np.isfinite(array)).sum())} missing or non-finite label(s)")
        bad = array[(array != 0) & (array != 1)]
        if bad.size:
            raise UserError(f"{field}: labels must be 0/1, got {_show(np.unique(bad))}; pass pos_label to say "
                            f"which value is positive{NOT_BINARY_HINT}")
        return array.astype(np.int64)
    present = _distinct(array)
    raise UserError(f"{field}: labels {_show(present)} are not 0/1: pass pos_label to say which value is positive")


def as_scores(values: Any, field: str) -> np.ndarray:
    """Finite ``float64`` scores."""
    array = as_array(values, field)
    if array.dtype.kind not in "iufb":
        raise UserError(f"{field}: scores must be numbers, got {array.dtype}")
    array = array.astype(np.float64)
    bad = ~np.isfinite(array)
    if bad.any():
        raise UserError(f"{field}: {int(bad.sum())} missing or non-finite score(s) (first at row {int(np.argmax(bad))})")
    return array


def as_frame(values: Any, field: str, default_name: str = "sensitive"):
    """A ``DataFrame`` with a fresh ``RangeIndex`` and unique string column names."""
    import pandas as pd

    if isinstance(values, pd.DataFrame):
        frame = values
    elif isinstance(values, pd.Series):
        frame = values.to_frame(name=values.name if values.name is not None else default_name)
    elif hasattr(values, "to_pandas") and hasattr(values, "column_names"):  # pyarrow Table / RecordBatch
        frame = values.to_pandas()
    elif isinstance(values, Mapping):
        if not values:
            raise UserError(f"{field}: no columns given")
        frame = pd.DataFrame({str(k): as_array(v, f"{field}[{k!r}]") for k, v in values.items()})
    else:
        array = as_array(values, field) if hasattr(values, "to_numpy") else np.asarray(values, dtype=object)
        if array.ndim == 1:
            frame = pd.DataFrame({default_name: array})
        elif array.ndim == 2:
            frame = pd.DataFrame(array, columns=[f"{default_name}_{j}" for j in range(array.shape[1])])
        else:
            raise UserError(f"{field}: expected a table or a 1-D array-like, got {type(values).__name__}")
    names = [str(c) for c in frame.columns]
    if len(set(names)) != len(names):
        raise UserError(f"{field}: column names repeat ({', '.join(names)})")
    frame = frame.reset_index(drop=True)
    frame.columns = names
    return frame


def as_sensitive(values: Any, field: str = "sensitive"):
    """:func:`as_frame` of sensitive columns, which may hold no missing value.

    One rule wherever groups are formed (``rai audit``, pipelines, monitoring, the API): a row
    whose group is unknown cannot be counted in any group, and silently dropping or pooling it
    would change every rate; the user fills it (with a value such as ``unknown``) or drops it.
    """
    frame = as_frame(values, field)
    for name in frame.columns:
        missing = frame[name].isna().to_numpy()
        if missing.any():
            raise UserError(f"{field}: column '{name}' has {int(missing.sum())} missing value(s) (first at row "
                            f"{int(missing.argmax())}); every row needs a known group: fill or drop them first")
    return frame


def binary_favorable(y_true: Any, y_pred: Any, pos_label: Any, favorable_label: Any) -> int:
    """The coded label (1 positive, 0 the other) that ``favorable_label`` names; 1 when it is ``None``.

    ``y_true`` and ``y_pred`` are the labels as given (before coding); the other label must
    occur in them, unless labels are 0/1 (or booleans) without ``pos_label``.
    """
    if favorable_label is None:
        return 1
    positive = 1 if pos_label is None else pos_label
    if canonical(favorable_label) == canonical(positive):
        return 1
    if pos_label is None:
        if canonical(favorable_label) == "0":
            return 0
        raise UserError(f"favorable_label: {favorable_label!r} is not a label (labels: 0, 1)")
    labels = _distinct(np.concatenate([as_array(y_true, "y_true").astype(object),
                                       as_array(y_pred, "y_pred").astype(object)]))
    others = [v for v in labels if canonical(v) != canonical(pos_label)]
    if any(canonical(v) == canonical(favorable_label) for v in others):
        return 0
    raise UserError(f"favorable_label: {favorable_label!r} is neither pos_label {pos_label!r} nor the other "
                    f"label (labels: {_show(labels)})")


def as_multiclass(y_true: Any, y_pred: Any, classes: Any = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Class codes of ``y_true`` and ``y_pred`` (``int64``, indexes into ``classes``) and the classes.

    ``y_true`` may be ``None`` (rows without labels): its codes are then ``None`` too.

    Without ``classes`` they are the distinct labels of both, sorted (first-seen order for labels
    of mixed types). Labels must be classes: text, integers, booleans or whole numbers; a
    number with a fraction, a missing label, a label outside ``classes`` or more than
    :data:`MAX_CLASSES` distinct labels is refused.
    """
    import pandas as pd

    pred = _class_labels(as_array(y_pred, "y_pred"), "y_pred")
    truth = pred if y_true is None else _class_labels(as_array(y_true, "y_true"), "y_true")
    if classes is None:
        both = np.concatenate([truth, pred]) if truth.dtype == pred.dtype else np.concatenate(
            [truth.astype(object), pred.astype(object)])
        try:
            known = pd.Index(pd.unique(both)).sort_values()
        except TypeError:  # labels of mixed types cannot be sorted; keep first-seen order
            known = pd.Index(pd.unique(both))
    else:
        known = pd.Index(_class_labels(as_array(classes, "classes"), "classes"))
        if not known.is_unique:
            raise UserError(f"classes: labels repeat ({_show(known[known.duplicated()].unique())})")
    if len(known) > MAX_CLASSES:
        raise UserError(f"y_true, y_pred: {len(known)} distinct labels; a multiclass target has at most "
                        f"{MAX_CLASSES} classes (a numeric target needs task regression)")
    codes: dict[str, np.ndarray] = {}
    for field, labels in (("y_true", truth), ("y_pred", pred)):
        if field == "y_true" and y_true is None:
            continue
        code = known.get_indexer(labels)
        if (code < 0).any():
            unknown = _distinct(labels[code < 0])
            raise UserError(f"{field}: labels {_show(unknown)} are not among classes ({_show(list(known))})")
        codes[field] = code.astype(np.int64, copy=False)
    return codes.get("y_true"), codes["y_pred"], known.to_numpy()


def as_regression(values: Any, field: str) -> np.ndarray:
    """Finite ``float64`` targets or predictions; text, booleans and missing values are refused."""
    array = as_array(values, field)
    if array.dtype.kind not in "iuf":
        present = _distinct(array)
        raise UserError(f"{field}: regression values must be numbers, got {_show(present)} ({array.dtype}); "
                        "class labels need task binary or multiclass")
    array = array.astype(np.float64)
    bad = ~np.isfinite(array)
    if bad.any():
        raise UserError(f"{field}: {int(bad.sum())} missing or non-finite value(s) (first at row {int(np.argmax(bad))})")
    return array


def as_score_matrix(values: Any, field: str, n_classes: int) -> np.ndarray:
    """Class probabilities, one row per row and one column per class: ``float64`` of shape (N, K)."""
    array = np.asarray(values.to_numpy() if hasattr(values, "to_numpy") else values)
    if array.ndim != 2 or array.shape[1] != n_classes:
        raise UserError(f"{field}: expected one column of probabilities per class ({n_classes}), got shape {array.shape}")
    if array.dtype.kind not in "iuf":
        raise UserError(f"{field}: scores must be numbers, got {array.dtype}")
    array = array.astype(np.float64)
    bad = ~np.isfinite(array).all(axis=1)
    if bad.any():
        raise UserError(f"{field}: {int(bad.sum())} row(s) with missing or non-finite scores (first at row {int(np.argmax(bad))})")
    outside = ((array < 0) | (array > 1)).any(axis=1)
    if outside.any():
        raise UserError(f"{field}: scores must be probabilities in [0, 1]; row {int(np.argmax(outside))} is not")
    off = np.abs(array.sum(axis=1) - 1) > ROW_SUM_TOLERANCE
    if off.any():
        row = int(np.argmax(off))
        raise UserError(f"{field}: each row's probabilities must sum to 1; row {row} sums to {array[row].sum():.6g}")
    return array


def canonical(value: Any) -> str:
    """One text per value, so that ``1``, ``1.0``, ``"1"``, ``np.int64(1)`` and ``True`` name the same label.

    Booleans (and the texts ``true``/``false``) are 1 and 0, as binary labels code them.
    """
    if isinstance(value, (bool, np.bool_)):
        return "1" if value else "0"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        number = float(value)
        if number.is_integer() and abs(number) < 1e15:
            return str(int(number))
        return repr(number)
    text = str(value).strip()
    try:
        number = float(text)
    except ValueError:
        return {"true": "1", "false": "0"}.get(text.lower(), text)
    return canonical(number) if np.isfinite(number) else text


def show(values: Any) -> str:
    """Up to five values for a message: ``'a', 'b', 3 ...``."""
    return _show(list(values))


def _class_labels(array: np.ndarray, field: str) -> np.ndarray:
    """Labels that can be classes; whole-number floats become integers."""
    if _has_missing(array):
        raise UserError(f"{field}: {_count_missing(array)} missing label(s); labels must all be present")
    if array.dtype.kind == "f":
        if not np.isfinite(array).all():
            raise UserError(f"{field}: {int((~np.isfinite(array)).sum())} missing or non-finite label(s)")
        fraction = array != np.floor(array)
        if fraction.any():
            raise UserError(f"{field}: multiclass labels must be classes, got numbers with a fraction "
                            f"({_show(_distinct(array[fraction]))}); a numeric target needs task regression")
        return array.astype(np.int64)
    return array


def _has_missing(array: np.ndarray) -> bool:
    return _count_missing(array) > 0


def _count_missing(array: np.ndarray) -> int:
    import pandas as pd

    return int(pd.isna(array).sum())


def _distinct(array: np.ndarray) -> list:
    import pandas as pd

    return list(pd.unique(array[~pd.isna(array)]))


def _show(values) -> str:
    values = list(values)
    shown = [v.item() if hasattr(v, "item") else v for v in values[:_SHOWN]]
    more = " ..." if len(values) > _SHOWN else ""
    return ", ".join(repr(v) for v in shown) + more
