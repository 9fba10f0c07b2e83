"""Reading the user's tabular files (CSV, gzipped CSV, Parquet) with one-line errors.

Shared by the ``rai audit`` commands and the pipeline's ingest, so that one file reads as the
same values and the same missing values everywhere (see :func:`read_table`). Every problem a user
can fix (a missing file, an unknown format, a misspelt column, missing values) raises
:class:`~governance.errors.UserError` naming the file and, where it applies, the column.
"""

from __future__ import annotations

import csv
import difflib
import warnings
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from governance import csvoptions
from governance.csvoptions import CsvOptions
from governance.errors import UserError

CSV_SUFFIXES = (".csv", ".csv.gz", ".csv.bz2", ".csv.zip", ".csv.xz", ".tsv", ".tsv.gz")
PARQUET_SUFFIXES = (".parquet", ".pq", ".parq")
_SHOWN_COLUMNS = 20  # a file with hundreds of columns must still give a one-line error


def file_format(path: str | Path) -> str:
    """``"csv"`` or ``"parquet"`` from the file name; :class:`UserError` for anything else."""
    name = str(path).lower()
    if name.endswith(CSV_SUFFIXES):
        return "csv"
    if name.endswith(PARQUET_SUFFIXES):
        return "parquet"
    allowed = ", ".join(CSV_SUFFIXES + PARQUET_SUFFIXES)
    raise UserError(f"{path}: unknown file type (expected one of {allowed})")


def read_columns(path: str | Path, csv_options: CsvOptions | None = None) -> list[str]:
    """The column names of a CSV or Parquet file, reading only its header or schema.

    ``csv_options`` (default: those of the enclosing :func:`governance.csvoptions.using`, else a
    plain comma-separated UTF-8 file) say how a CSV file is written.

    Raises
    ------
    UserError
        The file cannot be read, or two columns have the same name (pandas would rename the
        second ``a.1`` and a reader by name would silently use the first).
    """
    fmt = check_readable(path)
    try:
        if fmt == "parquet":
            import pyarrow.parquet as pq

            names = list(pq.read_schema(path).names)
            refuse_duplicates(names, f"{path}", "schema")
            return names
        dialect = (csv_options or csvoptions.current()).pandas(path)
        raw = pd.read_csv(path, header=None, nrows=1, dtype=str, keep_default_na=False, skipinitialspace=True,
                          **dialect).iloc[0].tolist()
        refuse_duplicates(raw, f"{path}:1", "header")
        return list(pd.read_csv(path, nrows=0, skipinitialspace=True, **dialect).columns)
    except UserError:
        raise
    except pd.errors.EmptyDataError:
        raise UserError(f"{path}: data file is empty") from None
    except Exception as err:  # noqa: BLE001  (any parser failure is the file's problem)
        raise UserError(f"{path}: cannot read as {fmt.upper()}: {first_line(err)}") from None


def refuse_duplicates(names: list[str], where: str, part: str) -> None:
    seen: dict[str, int] = {}
    for i, name in enumerate(names):
        if name == "":  # pandas names each blank header "Unnamed: i": no clash
            continue
        if name in seen:
            raise UserError(f"{where}: column '{name}' is named twice in the {part} (columns {seen[name] + 1} "
                            f"and {i + 1}); rename one, so that every column has its own name")
        seen[name] = i


def read_table(
    path: str | Path, columns: Sequence[str] | None = None, categorical: Iterable[str] = (),
    csv_options: CsvOptions | None = None, na_values: Iterable[str] = (),
) -> pd.DataFrame:
    """Read ``columns`` (all when ``None``, else in the order given) of a CSV or Parquet file.

    CSV values may be separated by ``", "`` (the space is skipped); ``csv_options`` give another
    separator, encoding, decimal mark or quote character (default: as for :func:`read_columns`).
    Missing are: empty fields and pandas' usual markers (``NA``, ``N/A``, ``NaN``, ``null``, ...),
    Parquet nulls, and any text equal to one of ``na_values`` (a pipeline's ``data.na_values``,
    such as Adult's ``?``; after the space that follows a separator), in CSV and Parquet files
    alike. Anything else is a value.
    Columns in ``categorical`` are read as pandas categoricals with sorted categories, which keeps
    grouping fast on millions of rows.

    Raises
    ------
    UserError
        The file is missing, unreadable, of an unknown type, or lacks one of ``columns``; two
        columns share a name; a CSV row has more fields than the header (which would shift its
        values into the wrong columns); a requested Parquet column holds lists or structs.
    """
    fmt = check_readable(path)
    csv_options = csv_options or csvoptions.current()
    available = read_columns(path, csv_options)  # also refuses duplicate column names
    if columns is not None:
        columns = list(dict.fromkeys(columns))
        require_columns(available, columns, path)
    categorical = [c for c in dict.fromkeys(categorical) if columns is None or c in columns]
    markers = list(dict.fromkeys(str(v) for v in na_values))
    try:
        frame = _read_parquet(path, columns, categorical, markers) if fmt == "parquet" else _read_csv(
            path, columns, categorical, csv_options, markers
        )
    except UserError:
        raise
    except Exception as err:  # noqa: BLE001
        raise UserError(f"{path}: cannot read as {fmt.upper()}: {first_line(err)}") from None
    if columns is not None and list(frame.columns) != columns:
        frame = frame[columns]  # CSV readers keep the file's order; callers get theirs
    for name in categorical:
        frame[name] = _sorted_categories(frame[name])
    return frame


def require_columns(available: Sequence[str], wanted: Iterable[str], path: str | Path) -> None:
    """Raise :class:`UserError` naming the first column of ``wanted`` missing from ``available``."""
    available = [str(c) for c in available]
    for name in wanted:
        if name not in available:
            raise UserError(f"{path}: {missing_column_message(name, available)}{_separator_hint(available)}")


def _separator_hint(available: Sequence[str]) -> str:
    """A header read as one column that holds another separator: say which option reads it."""
    if len(available) != 1:
        return ""
    found = next((sep for sep in (";", "\t", "|") if sep in available[0]), None)
    shown = "\\t" if found == "\t" else found
    return f"; the file seems separated by {shown!r}: give the separator (--sep, or data.csv.sep in a spec)" if found else ""


def missing_column_message(name: str, available: Sequence[str]) -> str:
    """``no column 'sexx' (columns: age, sex, ...; did you mean 'sex'?)``."""
    shown = ", ".join(available[:_SHOWN_COLUMNS])
    if len(available) > _SHOWN_COLUMNS:
        shown += f", ... ({len(available) - _SHOWN_COLUMNS} more)"
    close = difflib.get_close_matches(name, available, n=1, cutoff=0.6)
    if not close:  # case slips ("Sex" for "sex") score low with difflib
        close = [c for c in available if c.lower() == name.lower()][:1]
    hint = f"; did you mean '{close[0]}'?" if close else ""
    return f"no column '{name}' (columns: {shown or 'none'}{hint})"


def require_no_missing(frame: pd.DataFrame, columns: Iterable[str], path: str | Path) -> None:
    """Raise :class:`UserError` if any of ``columns`` holds missing values (NaN, None, empty)."""
    for name in columns:
        missing = frame[name].isna().to_numpy()
        if missing.any():
            first = int(missing.argmax())
            raise UserError(
                f"{path}: column '{name}' has {int(missing.sum())} missing value(s) "
                f"(first in data row {first + 1}); fill or drop them first"
            )


def encode_binary(values: pd.Series, column: str, pos_label: str | None, path: str | Path) -> np.ndarray:
    """Code a label column as 0/1 (``int64``), 1 where the value is ``pos_label``.

    Without ``pos_label`` the column must already hold 0/1 (or true/false). With it, a value
    matches when its text (or, for numbers, its value) equals ``pos_label``; a column that holds
    only 0/1 while ``pos_label`` is not a number (say ``>50K``) is taken as already coded, so
    string labels can be audited against 0/1 predictions.

    Raises
    ------
    UserError
        Missing values, more than two labels, or a two-label column without ``pos_label``.
    """
    codes, uniques = pd.factorize(values)
    if (codes < 0).any():
        require_no_missing(values.to_frame(column), [column], path)
    coding = binary_coding(list(uniques), column, pos_label, path)
    positive = [i for i, label in enumerate(uniques) if coding[label] == 1]
    if not positive:  # one class, and not the positive one
        return np.zeros(len(codes), dtype=np.int64)
    return (codes == positive[0]).astype(np.int64)


def binary_coding(labels: list, column: str, pos_label: str | None, path: str | Path) -> dict:
    """``{label: 0 or 1}`` for the distinct labels of a whole column (see :func:`encode_binary`).

    Streaming audits call it once with the labels seen in every batch, so a label is coded
    from the whole column, never from one batch.

    Raises
    ------
    UserError
        More than two labels, or a two-label column without ``pos_label`` (or without it).
    """
    shown = ", ".join(repr(_plain(v)) for v in labels[:5]) + (", ..." if len(labels) > 5 else "")
    if len(labels) > 2:
        raise UserError(f"{path}: column '{column}' has {len(labels)} distinct labels ({shown}); "
                        "a binary audit needs two")
    positive = _positive_index(labels, pos_label)
    if positive is None and pos_label is None and not _is_01(labels):
        raise UserError(f"{path}: column '{column}' holds labels {shown}; "
                        "pass --pos-label with the positive one")
    if positive is None and pos_label is not None and len(labels) == 2:
        raise UserError(f"{path}: --pos-label {pos_label!r} is not a label of column '{column}' "
                        f"(labels: {shown})")
    return {label: int(i == positive) for i, label in enumerate(labels)}


def _positive_index(labels: list, pos_label: str | None) -> int | None:
    if pos_label is not None:
        for i, label in enumerate(labels):
            if _same_label(label, pos_label):
                return i
    if (pos_label is None or _number(pos_label) is None) and _is_01(labels):
        return next((i for i, label in enumerate(labels) if label == 1), None)
    return None


def _same_label(label, pos_label: str) -> bool:
    if isinstance(label, (bool, np.bool_)):
        return str(bool(label)).lower() == pos_label.strip().lower()
    if isinstance(label, (int, float, np.integer, np.floating)):
        return _number(pos_label) == float(label)
    return str(label).strip() == pos_label.strip()


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _is_01(labels: list) -> bool:
    return all(
        isinstance(v, (bool, int, float, np.bool_, np.integer, np.floating)) and v in (0, 1) for v in labels
    )


def _plain(value):
    return value.item() if hasattr(value, "item") else value


def check_readable(path: str | Path) -> str:
    fmt = file_format(path)
    p = Path(path)
    if not p.exists():
        raise UserError(f"{path}: no such file")
    if not p.is_file():
        raise UserError(f"{path}: not a file")
    return fmt


def csv_separator(path: str | Path, csv_options: CsvOptions | None = None) -> str:
    """The field separator of ``path``: the options' (default: the current ones), a tab for .tsv, or a comma."""
    return (csv_options or csvoptions.current()).separator(path)


def _read_csv(path, columns, categorical, csv_options: CsvOptions, markers: list[str]) -> pd.DataFrame:
    dtype = {name: "category" for name in categorical}
    # Every column is parsed, not only ``columns``: pandas counts the fields of a row only when
    # it reads all of them, and a row with one field too many must not shift into the groups.
    # index_col=False stops pandas from taking such a first row's extra field as an index.
    with warnings.catch_warnings():
        warnings.simplefilter("error", pd.errors.ParserWarning)
        try:
            frame = pd.read_csv(path, skipinitialspace=True, dtype=dtype or None, low_memory=False, index_col=False,
                                na_values=markers or None, **csv_options.pandas(path))
        except (pd.errors.ParserError, pd.errors.ParserWarning) as err:
            raise UserError(extra_field_message(path, csv_options)
                            or f"{path}: cannot read as CSV: {first_line(err)}") from None
    return frame if columns is None else frame[columns]


def extra_field_message(path, csv_options: CsvOptions | None = None) -> str | None:
    """``FILE:LINE: ...`` for the first row with more fields than the header, if there is one."""
    from pandas.io.common import get_handle

    dialect = csv_options or csvoptions.current()
    try:
        with get_handle(path, "r", compression="infer", encoding=dialect.encoding, errors="replace") as handles:
            reader = csv.reader(handles.handle, delimiter=dialect.separator(path), skipinitialspace=True,
                                quotechar=dialect.quotechar)
            header = next(reader, [])
            for row in reader:
                if header and len(row) > len(header):
                    extra = row[len(header)] if len(row[len(header)]) <= 40 else row[len(header)][:37] + "..."
                    return (f"{path}:{reader.line_num}: {len(row)} fields where the header has {len(header)}; "
                            f"the value '{extra}' after column '{header[-1]}' is in no column "
                            "(quote values that contain the separator)")
    except (csv.Error, OSError, ValueError):  # the parser's own message is then the best we have
        return None
    return None


def _read_parquet(path, columns, categorical, markers: list[str]) -> pd.DataFrame:
    import pyarrow.parquet as pq

    table = pq.read_table(path, columns=columns)
    for name in dict.fromkeys([*(columns or []), *categorical]):
        refuse_nested(table.schema.field(name).type, name, path)
    # Dictionary-encoding string columns in Arrow avoids building a Python object per row.
    for name in categorical:
        i = table.schema.get_field_index(name)
        if i >= 0 and _is_string(table.schema.field(i).type):
            table = table.set_column(i, name, table.column(i).dictionary_encode())
    frame = table.to_pandas()
    if markers:  # as a CSV reader would: a text cell equal to a marker is missing
        for name in frame.columns:
            column = frame[name]
            if not pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column):
                frame[name] = column.mask(column.isin(markers))
    return frame


def refuse_nested(arrow_type, name: str, path) -> None:
    import pyarrow as pa

    value_type = arrow_type.value_type if pa.types.is_dictionary(arrow_type) else arrow_type
    if pa.types.is_nested(value_type):
        raise UserError(f"{path}: column '{name}' holds nested values (Arrow type {value_type}); "
                        "an audit needs one plain value (text, number, boolean) per row")


def _is_string(arrow_type) -> bool:
    import pyarrow as pa

    return pa.types.is_string(arrow_type) or pa.types.is_large_string(arrow_type)


def _sorted_categories(series: pd.Series) -> pd.Series:
    """Categories in sorted order (file order otherwise), unless the file declares an order."""
    if not isinstance(series.dtype, pd.CategoricalDtype):
        return series
    if series.cat.ordered:
        return series
    try:
        order = sorted(series.cat.categories)
    except TypeError:  # mixed types cannot be sorted; keep the file's order
        return series
    return series.cat.reorder_categories(order)


def first_line(err: Exception) -> str:
    text = str(err).strip() or type(err).__name__
    return text.splitlines()[0]
