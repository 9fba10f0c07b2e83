"""Column types as evidently 0.7 infers them: numerical, categorical, free text, datetime, unknown.

The rules are evidently's; the drift audit applies them to the *reference* data (evidently looks
at the current data), so a column that is categorical in the reference stays categorical whatever
a current batch holds. By dtype name first: floats are
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
    """:func:`infer_kind` of ``reference`` and, for string columns, the codes of both series.

    The reference decides: a current batch whose categories were all replaced by values never
    seen before has mostly distinct values, and judged on its own would be free text, which is
    not compared. Hashing a million strings is the dearest step of a categorical column; the
    type rule needs the distinct and present counts of ``reference`` and the test needs the
    codes of both series. Values that cannot be hashed (lists, dicts) make the column
    ``unknown`` when the reference holds them; when only ``current`` does, codes are ``None``
    and :func:`factorize_pair` raises later, naming the column.
    """
    dtype = reference.dtype.name
    if dtype not in ("object", "string", "str"):
        return infer_kind(reference), None
    if dtype == "object" and not _strings_at_ends(reference):
        return "unknown", None
    try:
        codes, keys = factorize_pair(reference, current)
    except TypeError:  # unhashable values in current (the reference was checked above)
        try:
            return _text_or_category(reference), None
        except TypeError:
            return "unknown", None
    ref_codes = codes[: len(reference)]
    present = ref_codes[ref_codes >= 0]
    n_distinct = int(np.count_nonzero(np.bincount(present, minlength=len(keys))))
    return _text_or_category_counts(n_distinct, present.size), (codes, keys)


def _strings_at_ends(series: pd.Series) -> bool:
    """evidently's test of an object column: its first and last present values are ``str``."""
    present = np.flatnonzero(series.notna().to_numpy())
    return bool(present.size) and isinstance(series.iloc[present[0]], str) and isinstance(
        series.iloc[present[-1]], str)


def factorize_pair(reference: pd.Series, current: pd.Series) -> tuple[np.ndarray, Any]:
    """``pd.factorize`` of ``reference`` followed by ``current``: codes (-1 when missing) and values."""
    return pd.factorize(pd.concat([reference, current], ignore_index=True))
