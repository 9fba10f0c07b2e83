"""Column types as evidently 0.7 infers them: numerical, categorical, free text, datetime, unknown.

The type of a column is decided on the *current* data, by dtype name first: floats are
numerical; integers are categorical with at most 10 distinct values, else numerical; strings
(object holding ``str``, or the string dtype) are free text when more than half of the present
values are distinct, else categorical; bool and category dtypes are categorical; datetimes are
datetimes; anything else (unsigned or nullable ``Int64``/``Float64`` dtypes, objects that are not
strings) is unknown. Only numerical and categorical columns are tested for drift.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

KIND_WORDS = {"num": "numerical", "cat": "categorical", "text": "free text", "datetime": "a datetime",
              "unknown": "of an unsupported type"}
INTEGER_CATEGORY_MAX_VALUES = 10
TEXT_DISTINCT_SHARE = 0.5


def infer_kind(series: pd.Series) -> str:
    """evidently's column type of ``series``: ``num``, ``cat``, ``text``, ``datetime`` or ``unknown``.

    Decided by the dtype name, as evidently does: nullable ``Int64``/``Float64`` and unsigned
    integer dtypes are therefore ``unknown``.
    """
    dtype = series.dtype.name
    if dtype.startswith("float"):
        return "num"
    if dtype.startswith("int"):
        return "cat" if series.nunique() <= INTEGER_CATEGORY_MAX_VALUES else "num"
    if dtype in ("string", "str"):
        return _text_or_category(series)
    if dtype == "object":
        present = series.dropna()
        if present.empty:
            return "unknown"
        if isinstance(present.iloc[0], str) and isinstance(present.iloc[-1], str):
            return _text_or_category(series)
        return "unknown"
    if dtype in ("bool", "category"):
        return "cat"
    if dtype.startswith("datetime"):
        return "datetime"
    return "unknown"


def _text_or_category(series: pd.Series) -> str:
    return _text_or_category_counts(series.nunique(), series.count())


def _text_or_category_counts(n_distinct: int, n_present: int) -> str:
    return "text" if n_distinct > n_present * TEXT_DISTINCT_SHARE else "cat"


def infer_with_codes(reference: pd.Series, current: pd.Series) -> tuple[str, tuple | None]:
    """:func:`infer_kind` of ``current`` and, for string columns, the codes of both series.

    Hashing a million strings is the dearest step of a categorical column; the type rule needs
    the distinct and present counts of ``current`` and the test needs the codes of both series.
    """
    dtype = current.dtype.name
    if dtype not in ("object", "string", "str"):
        return infer_kind(current), None
    codes, keys = factorize_pair(reference, current)
    cur_codes = codes[len(reference):]
    present = np.flatnonzero(cur_codes >= 0)
    if dtype == "object" and not (
        present.size and isinstance(current.iloc[present[0]], str) and isinstance(current.iloc[present[-1]], str)
    ):
        return "unknown", None
    n_distinct = int(np.count_nonzero(np.bincount(cur_codes[present], minlength=len(keys))))
    return _text_or_category_counts(n_distinct, present.size), (codes, keys)


def factorize_pair(reference: pd.Series, current: pd.Series) -> tuple[np.ndarray, Any]:
    """``pd.factorize`` of ``reference`` followed by ``current``: codes (-1 when missing) and values."""
    return pd.factorize(pd.concat([reference, current], ignore_index=True))
