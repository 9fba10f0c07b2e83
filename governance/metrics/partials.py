"""Mergeable per-column aggregates: the state of a drift audit, built batch by batch.

A :class:`ColumnPartial` holds what one dataset (reference or current) says about one column:
the dtype it would have if read whole, its row and present-value counts, the count of every
distinct present value, the first and last present values (evidently's test of an object
column), the minimum, maximum, mean and sum of squared deviations of its finite numbers. Two
partials of consecutive parts of a dataset :func:`merge` into the partial of both parts,
exactly: counts add, moments combine by Chan's formula.

Counting every distinct value is what makes the drift statistics exact, and it is bounded: past
``cap`` distinct values the counts are dropped (``overflow``) and the column is then described
by its moments and, in a second pass, by histograms (:mod:`governance.metrics.counted`). The
in-memory engine uses no cap, since it holds the rows anyway.

The same partial comes from a pandas ``Series`` (in-memory frames, CSV chunks), a pyarrow
array (Parquet record batches) or a Spark aggregation, so one code path computes every
statistic from partials, whatever read the data.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

#: Distinct values a streaming or Spark audit counts per column before it falls back to moments
#: and histograms (about 16 MB of counts for a numerical column).
DEFAULT_CAP = 1 << 20
_NONE = object()  # "no present value yet" (None is a value an object column may hold... as missing)


@dataclass
class ColumnPartial:
    """One column of one dataset, aggregated; see the module docstring.

    ``keys``/``counts``: for numerical and boolean dtypes sorted numpy arrays of the distinct
    present values and their counts; for other dtypes a ``{value: count}`` dict in ``keys`` and
    ``counts`` ``None``. Both ``None`` once ``overflow`` is set.
    """

    dtype: str | None = None
    rows: int = 0
    present: int = 0
    keys: Any = None
    counts: np.ndarray | None = None
    overflow: bool = False
    unhashable: bool = False
    first: Any = _NONE
    last: Any = _NONE
    low: float = math.inf
    high: float = -math.inf
    moments: tuple[int, float, float] = (0, 0.0, 0.0)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def n_distinct(self) -> int | None:
        """Distinct present values, ``None`` when more than the cap were seen."""
        if self.overflow:
            return None
        if isinstance(self.keys, dict):
            return len(self.keys)
        return 0 if self.keys is None else int(self.keys.size)

    @property
    def has_first(self) -> bool:
        return self.first is not _NONE

    def value_counts(self) -> tuple[list | np.ndarray, np.ndarray]:
        """``(values, counts)`` in canonical order (sorted; by type and text when unorderable)."""
        if self.overflow:
            raise ValueError("value counts were dropped past the cap")
        if isinstance(self.keys, dict):
            values = canonical_order(list(self.keys))
            return values, np.array([self.keys[v] for v in values], dtype=np.int64)
        if self.keys is None:
            return np.empty(0), np.empty(0, dtype=np.int64)
        return self.keys, self.counts


def canonical_order(values: list) -> list:
    """Values sorted; by (type name, text) when they cannot be compared with each other."""
    try:
        return sorted(values)
    except TypeError:
        return sorted(values, key=lambda v: (type(v).__name__, str(v)))


def is_numeric_dtype(dtype: str | None) -> bool:
    return bool(dtype) and dtype.startswith(("int", "float"))


def join_dtype(a: str | None, b: str | None) -> str | None:
    """The dtype of two parts read together: ``int64`` and ``float64`` give ``float64`` (pandas
    turns integers with missing values into floats), any other difference ``object``."""
    if a is None or a == b:
        return b
    if b is None:
        return a
    if is_numeric_dtype(a) and is_numeric_dtype(b):
        return "float64" if (a.startswith("float") or b.startswith("float")) else "int64"
    return "object"


def from_series(series: pd.Series, cap: int | None = None) -> ColumnPartial:
    """The partial of one pandas column (a whole frame's column, or one chunk of a file)."""
    dtype = series.dtype.name
    part = ColumnPartial(dtype=dtype, rows=int(len(series)))
    if is_numeric_dtype(dtype) or dtype == "bool":
        values = series.to_numpy()
        if dtype != "bool":
            values = values[np.isfinite(values)] if dtype.startswith("float") else values
        return _with_numbers(part, values, cap)
    if dtype.startswith("datetime") or dtype.startswith("timedelta"):
        part.present = int(series.count())
        return part
    try:
        codes, uniques = pd.factorize(series)
    except TypeError:  # lists, dicts: values with no hash cannot be counted as categories
        part.unhashable = True
        part.present = int(series.count())
        return part
    kept = np.flatnonzero(codes >= 0)
    part.present = int(kept.size)
    if kept.size:
        part.first, part.last = series.iloc[kept[0]], series.iloc[kept[-1]]
    counts = np.bincount(codes[kept], minlength=len(uniques))
    seen = np.flatnonzero(counts)
    values = uniques.take(seen)
    values = values.tolist() if hasattr(values, "tolist") else list(values)
    part.keys = dict(zip(values, counts[seen].tolist(), strict=True))
    return _capped(part, cap)


def from_numbers(values: np.ndarray, dtype: str, rows: int, cap: int | None = None,
                 counted: bool = True) -> ColumnPartial:
    """The partial of present numbers or booleans (missing ones already dropped).

    ``counted=False`` skips the value counts (a column already past the cap): moments only.
    """
    part = ColumnPartial(dtype=dtype, rows=int(rows))
    if dtype.startswith("float"):
        values = values[np.isfinite(values)]
    return _with_numbers(part, values, cap, counted)


def from_value_counts(dtype: str, rows: int, values: list, counts: list[int], *, first: Any = _NONE,
                      last: Any = _NONE, cap: int | None = None) -> ColumnPartial:
    """The partial of a column of text or categories from its counted values (Arrow, Spark)."""
    part = ColumnPartial(dtype=dtype, rows=int(rows), present=int(sum(counts)), first=first, last=last)
    part.keys = dict(zip(values, (int(c) for c in counts), strict=True))
    return _capped(part, cap)


def _with_numbers(part: ColumnPartial, values: np.ndarray, cap: int | None, counted: bool = True) -> ColumnPartial:
    part.present = int(values.size)
    if values.size == 0:
        part.keys, part.counts = values[:0], np.empty(0, dtype=np.int64)
        return part
    if part.dtype != "bool":
        floats = values.astype(np.float64, copy=False)
        part.low, part.high = float(floats.min()), float(floats.max())
        mean = float(floats.mean())
        part.moments = (int(values.size), mean, float(np.square(floats - mean).sum()))
    if not counted:
        part.overflow = True
        return part
    keys, counts = _count_numbers(values)
    part.keys, part.counts = keys, counts
    return _capped(part, cap)


def _count_numbers(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    if values.dtype.kind in "iu" and values.size:
        low, high = int(values.min()), int(values.max())
        if high - low < max(values.size, 1 << 16):  # narrow whole numbers: counting beats sorting
            counted = np.bincount((values - low).astype(np.int64), minlength=high - low + 1)
            seen = np.flatnonzero(counted)
            return (seen + low).astype(values.dtype), counted[seen]
    if values.dtype.kind == "f":
        values = values + 0.0  # -0.0 and 0.0 are one value
        low, high = float(values.min()), float(values.max())
        if high - low < max(values.size, 1 << 16) and np.array_equal(values, np.floor(values)):
            counted = np.bincount((values - low).astype(np.int64), minlength=int(high - low) + 1)
            seen = np.flatnonzero(counted)
            return seen + low, counted[seen]
    return np.unique(values, return_counts=True)


def _capped(part: ColumnPartial, cap: int | None) -> ColumnPartial:
    if cap is not None and not part.overflow and (part.n_distinct or 0) > cap:
        part.keys, part.counts, part.overflow = None, None, True
    return part


def merge(a: ColumnPartial, b: ColumnPartial, cap: int | None = None) -> ColumnPartial:
    """The partial of ``a``'s rows followed by ``b``'s (exact; order matters only for ends)."""
    if a.dtype is None:
        return b
    if b.dtype is None:
        return a
    out = ColumnPartial(dtype=join_dtype(a.dtype, b.dtype), rows=a.rows + b.rows, present=a.present + b.present,
                        overflow=a.overflow or b.overflow, unhashable=a.unhashable or b.unhashable,
                        first=a.first if a.has_first else b.first, last=b.last if b.has_first else a.last,
                        low=min(a.low, b.low), high=max(a.high, b.high), moments=_chan(a.moments, b.moments))
    if not (out.overflow or out.unhashable):
        out.keys, out.counts = _merge_counts(a, b, out.dtype)
    return _capped(out, cap)


def _merge_counts(a: ColumnPartial, b: ColumnPartial, dtype: str):
    if isinstance(a.keys, dict) or isinstance(b.keys, dict) or dtype == "object":
        table = dict(_as_dict(a))
        for value, count in _as_dict(b).items():
            table[value] = table.get(value, 0) + count
        return table, None
    keys = np.concatenate([a.keys, b.keys])
    if dtype.startswith("float"):
        keys = keys.astype(np.float64)
    merged, inverse = np.unique(keys, return_inverse=True)
    counts = np.bincount(inverse, weights=np.concatenate([a.counts, b.counts]), minlength=merged.size)
    return merged, counts.astype(np.int64)


def _as_dict(part: ColumnPartial) -> dict:
    if isinstance(part.keys, dict):
        return part.keys
    if part.keys is None:
        return {}
    return dict(zip(part.keys.tolist(), part.counts.tolist(), strict=True))


def _chan(a: tuple[int, float, float], b: tuple[int, float, float]) -> tuple[int, float, float]:
    """Count, mean and sum of squared deviations of two parts together (Chan et al.)."""
    (na, ma, sa), (nb, mb, sb) = a, b
    if na == 0:
        return b
    if nb == 0:
        return a
    n = na + nb
    delta = mb - ma
    return n, ma + delta * nb / n, sa + sb + delta * delta * na * nb / n
