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

import pandas as pd

from governance.metrics.partials import ColumnPartial

KIND_WORDS = {"num": "numerical", "cat": "categorical", "text": "free text", "datetime": "a datetime",
              "unknown": "of an unsupported type",
              "uncounted": "too varied to count in bounded memory"}
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


def kind_of_partial(part: ColumnPartial, cap: int | None = None) -> str:
    """:func:`infer_kind` of a column from its aggregate (:mod:`governance.metrics.partials`).

    The same rules on the same facts: the dtype the column has when read whole, its number of
    distinct present values and, for object columns, whether its first and last present values
    are text. A text column with more distinct values than the engine counted (``cap``) is free
    text when the cap already exceeds half of its values, else ``uncounted``: too varied to
    tell in bounded memory.
    """
    dtype = part.dtype or "object"
    if dtype.startswith("float"):
        return "num"
    if dtype.startswith("int"):
        n = part.n_distinct
        return "cat" if n is not None and n <= INTEGER_CATEGORY_MAX_VALUES else "num"
    if dtype == "object":
        if part.present == 0 or part.unhashable or not (isinstance(part.first, str) and isinstance(part.last, str)):
            return "unknown"
        return _text_or_category_partial(part, cap)
    if dtype in ("string", "str"):
        return _text_or_category_partial(part, cap)
    if dtype in ("bool", "category"):
        return "cat"
    if dtype.startswith("datetime"):
        return "datetime"
    return "unknown"


def _text_or_category_partial(part: ColumnPartial, cap: int | None) -> str:
    if part.n_distinct is not None:
        return _text_or_category_counts(part.n_distinct, part.present)
    if cap is not None and cap >= part.present * TEXT_DISTINCT_SHARE:
        return "text"  # more than ``cap`` distinct values, and ``cap`` is past half of them
    return "uncounted"
