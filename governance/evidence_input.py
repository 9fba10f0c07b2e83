"""Turning what a user's code holds (numpy, lists, pandas, pyarrow) into typed evidence.

Every function raises :class:`~governance.errors.UserError` with one line naming the field, so
``rai.Predictions(...)`` and ``rai.audit(...)`` fail like the CLI does: clearly, before any check
runs. Values a check cannot trust (missing or non-finite labels and scores, labels that are not
binary) are refused here rather than counted as one class.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from governance.errors import UserError

_SHOWN = 5  # distinct bad values quoted in a message


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
            raise UserError(f"{field}: more than two labels ({_show(present)}); binary labels are expected")
        return (array == pos_label).astype(np.int64)
    if array.dtype.kind == "b":
        return array.astype(np.int64)
    if array.dtype.kind in "iu":
        bad = array[(array != 0) & (array != 1)]
        if bad.size:
            raise UserError(f"{field}: labels must be 0/1, got {_show(np.unique(bad))}; pass pos_label to say which value is positive")
        return array.astype(np.int64)
    if array.dtype.kind == "f":
        if not np.isfinite(array).all():
            raise UserError(f"{field}: {int((~np.isfinite(array)).sum())} missing or non-finite label(s)")
        bad = array[(array != 0) & (array != 1)]
        if bad.size:
            raise UserError(f"{field}: labels must be 0/1, got {_show(np.unique(bad))}; pass pos_label to say which value is positive")
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


def _has_missing(array: np.ndarray) -> bool:
    return _count_missing(array) > 0


def _count_missing(array: np.ndarray) -> int:
    import pandas as pd

    return int(pd.isna(array).sum())


def _distinct(array: np.ndarray) -> list:
    import pandas as pd

    return list(pd.unique(array[~pd.isna(array)]))


def _show(values) -> str:
    shown = [v.item() if hasattr(v, "item") else v for v in list(values)[:_SHOWN]]
    more = " ..." if len(values) > _SHOWN else ""
    return ", ".join(repr(v) for v in shown) + more
