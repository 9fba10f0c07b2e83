"""One column of a record batch (pyarrow) or chunk (pandas) turned into codes, numbers or partials.

What a batch holds must give the numbers the whole file would: a Parquet integer column with a
missing value becomes floats when pandas reads the whole file, a boolean one objects, so a
column's dtype is the one pandas gives the whole dataset (:func:`pandas_dtypes`), adjusted for
the missing values each batch shows. Text columns are counted by Arrow's hash tables, never as
one Python string per row.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from governance.metrics.partials import (
    ColumnPartial,
    from_numbers,
    from_series,
    from_value_counts,
    is_numeric_dtype,
)


def pandas_dtypes(schema) -> dict[str, str]:
    """The pandas dtype name of each column of an Arrow schema (its pandas metadata applied),
    as ``read_table`` would give it for a file without missing values."""
    empty = schema.empty_table().to_pandas()
    return {name: empty[name].dtype.name for name in empty.columns}


def batch_dtype(base: str, null_count: int) -> str:
    """The dtype pandas gives a column of dtype ``base`` once it holds a missing value."""
    if null_count and (base.startswith(("int", "uint"))):
        return "float64"
    if null_count and base == "bool":
        return "object"
    return base


def is_arrow(column: Any) -> bool:
    return not isinstance(column, (pd.Series, np.ndarray))


def partial_of(column: Any, base_dtype: str | None, cap: int | None, counted: bool = True) -> ColumnPartial:
    """The :class:`ColumnPartial` of one batch's column (pyarrow array or pandas Series).

    ``counted=False``: the column is already past the cap; numbers are not counted again.
    """
    if not is_arrow(column):
        return from_series(column, cap)
    import pyarrow as pa
    import pyarrow.compute as pc

    dtype = batch_dtype(base_dtype, column.null_count)
    kind = column.type.value_type if pa.types.is_dictionary(column.type) else column.type
    if is_numeric_dtype(dtype) and (pa.types.is_integer(kind) or pa.types.is_floating(kind)):
        values = column.to_numpy(zero_copy_only=False)
        if column.null_count and values.dtype.kind in "iu":
            values = values.astype(np.float64)
        return from_numbers(values, dtype, len(column), cap, counted)
    if dtype == "bool" and pa.types.is_boolean(kind):
        return from_numbers(column.to_numpy(zero_copy_only=False), dtype, len(column), cap)
    if (pa.types.is_string(kind) or pa.types.is_large_string(kind)) and dtype in ("object", "category"):
        present = column.drop_null()
        counted = pc.value_counts(present)
        values, counts = counted.field("values"), counted.field("counts")
        if pa.types.is_dictionary(values.type):
            values = values.cast(kind)
        first = present[0].as_py() if len(present) else None
        last = present[-1].as_py() if len(present) else None
        ends = {"first": first, "last": last} if len(present) else {}
        return from_value_counts(dtype, len(column), values.to_pylist(), counts.to_pylist(), cap=cap, **ends)
    series = column.to_pandas()
    part = from_series(series, cap)
    part.dtype = dtype
    return part


def factorize(column: Any) -> tuple[np.ndarray, list, bool]:
    """Integer codes (-1 where missing), the value of each code in first-seen order, and whether
    any value is missing."""
    if not is_arrow(column):
        codes, uniques = pd.factorize(column)
        values = uniques.tolist() if hasattr(uniques, "tolist") else list(uniques)
        return codes.astype(np.int64, copy=False), values, bool((codes < 0).any())
    import pyarrow as pa
    import pyarrow.compute as pc

    if pa.types.is_string(column.type) or pa.types.is_large_string(column.type) or pa.types.is_binary(column.type):
        column = pc.dictionary_encode(column)
    if pa.types.is_dictionary(column.type):
        indices = column.indices
        if indices.null_count:
            return indices.fill_null(-1).to_numpy().astype(np.int64), column.dictionary.to_pylist(), True
        return indices.to_numpy(zero_copy_only=False), column.dictionary.to_pylist(), False
    if not column.null_count and (pa.types.is_integer(column.type) or pa.types.is_boolean(column.type)):
        values = column.to_numpy(zero_copy_only=False)
        as_bool = values.dtype == np.bool_
        values = values.view(np.uint8) if as_bool else values
        high = int(values.max()) if values.size else 0
        if values.size and int(values.min()) >= 0 and high <= _SMALL:  # labels 0/1, small categories
            # The values are their own codes: no hashing, no copy (unused codes never form a cell).
            return values, [bool(v) for v in range(high + 1)] if as_bool else list(range(high + 1)), False
    codes, uniques = pd.factorize(column.to_pandas())
    return codes.astype(np.int64, copy=False), uniques.tolist(), bool((codes < 0).any())


_SMALL = 1 << 16  # whole numbers up to this are used as codes directly


def numbers(column: Any) -> tuple[np.ndarray, str]:
    """A column's values as ``float64`` (NaN where missing) and its dtype kind (``iufb`` or other)."""
    if not is_arrow(column):
        kind = column.dtype.kind
        values = column.to_numpy(dtype=np.float64, na_value=np.nan) if kind in "iufb" else None
        return values, kind
    import pyarrow as pa

    if not (pa.types.is_integer(column.type) or pa.types.is_floating(column.type) or pa.types.is_boolean(column.type)):
        return None, "O"
    values = column.to_numpy(zero_copy_only=False)
    return values.astype(np.float64), values.dtype.kind if not column.null_count else "f"


def declared_order(schema, name: str) -> bool:
    """Whether a Parquet column is a categorical with a declared order."""
    import pyarrow as pa

    field = schema.field(name)
    return pa.types.is_dictionary(field.type) and field.type.ordered
