"""Datasets read in record batches: one file, a directory of files or a glob, in bounded memory.

A dataset is every CSV or Parquet file its name designates: the file itself, the files under a
directory (hidden files and Spark's ``_SUCCESS``-style markers skipped), or the files a glob
matches, in sorted order. Every file must have the same columns (names, order and, for Parquet,
types): a dataset whose files disagree is refused with one line naming the file and the
column, before anything is computed.

Parquet files are read with pyarrow, record batch by record batch, only the needed columns;
CSV files with pandas in chunks, parsing every field of every row as :mod:`governance.io` does
(a row with a field too many is refused, naming its line), with the dataset's CSV dialect
(separator, encoding, decimal mark, quote character). A dataset's missing values are those of
:func:`governance.io.read_table`: empty fields, pandas' usual markers, Parquet nulls, and any
text equal to one of its ``na_values``. Memory is bounded by the batch size
(and a Parquet file's row group), never by the number of rows.
"""

from __future__ import annotations

import glob
import os
import sys
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from governance import csvoptions
from governance.csvoptions import CsvOptions
from governance.errors import UserError
from governance.io import (
    check_readable,
    extra_field_message,
    file_format,
    first_line,
    read_columns,
    refuse_duplicates,
    refuse_nested,
    require_columns,
)

#: Rows per record batch: about 8 MB per numerical column.
DEFAULT_BATCH_ROWS = 1 << 20
_GLOB_CHARS = set("*?[")


@dataclass(frozen=True)
class Batch:
    """Part of a dataset: ``data`` (a pyarrow ``RecordBatch`` or a pandas ``DataFrame``) holds
    rows ``offset + 1 ..`` of ``file`` (1-based data rows, the header not counted)."""

    file: Path
    offset: int
    data: Any

    @property
    def rows(self) -> int:
        return self.data.num_rows if hasattr(self.data, "num_rows") else len(self.data)


@dataclass(frozen=True)
class Dataset:
    """The files of one dataset, their format, their common columns and how they are written
    (``csv``: the CSV dialect; ``na_values``: text read as missing)."""

    name: str
    files: tuple[Path, ...]
    format: str
    columns: tuple[str, ...]
    arrow_schema: Any = None
    csv: CsvOptions = CsvOptions()
    na_values: tuple[str, ...] = ()

    @property
    def size_bytes(self) -> int:
        return sum(f.stat().st_size for f in self.files)

    def where(self, file: Path | None = None) -> str:
        """How messages name the dataset, or one of its files."""
        return str(file) if file is not None and len(self.files) > 1 else self.name

    def require(self, columns: Sequence[str]) -> None:
        """UserError naming the first of ``columns`` the dataset lacks."""
        require_columns(list(self.columns), columns, self.name)

    def total_rows(self) -> int | None:
        """Rows of a Parquet dataset, from the files' footers; ``None`` for CSV."""
        if self.format != "parquet":
            return None
        import pyarrow.parquet as pq

        return sum(pq.ParquetFile(f).metadata.num_rows for f in self.files)

    def batches(self, columns: Sequence[str], batch_rows: int = DEFAULT_BATCH_ROWS,
                dictionary: Sequence[str] = (), text: Sequence[str] = ()) -> Iterator[Batch]:
        """Record batches of ``columns``, file after file.

        ``dictionary``: Parquet text columns to read dictionary-encoded (no Python string per
        row). ``text``: CSV columns to read as text, as ``read_table`` reads categorical ones.
        """
        self.require(columns)
        for file in self.files:
            if self.format == "parquet":
                yield from _parquet_batches(file, list(columns), batch_rows, dictionary, self.na_values)
            else:
                yield from _csv_batches(file, list(columns), batch_rows, text, self.csv, self.na_values)


def open_dataset(name: str | Path, csv_options: CsvOptions | None = None, na_values: Sequence[str] = ()) -> Dataset:
    """The dataset ``name`` designates (a file, a directory or a glob), its schema checked.

    ``csv_options`` (default: the current ones, see :func:`governance.csvoptions.using`) say how
    its CSV files are written; text equal to one of ``na_values`` is missing, as in
    :func:`governance.io.read_table`.

    Raises
    ------
    UserError
        Nothing matches; files of two formats; a file whose columns differ from the first
        file's (names, order, Parquet types); a column named twice; an unreadable file.
    """
    files = _resolve(str(name))
    formats = {file_format(f) for f in files}
    if len(formats) > 1:
        raise UserError(f"{name}: holds both CSV and Parquet files; a dataset is one format")
    fmt = formats.pop()
    dialect = csv_options or csvoptions.current()
    markers = tuple(dict.fromkeys(str(v) for v in na_values))
    if fmt == "parquet":
        columns, schema = _parquet_schema(files)
        return Dataset(str(name), tuple(files), fmt, columns, schema, dialect, markers)
    first = read_columns(files[0], dialect)
    for file in files[1:]:
        _same_columns(file, read_columns(file, dialect), files[0], first)
    return Dataset(str(name), tuple(files), fmt, tuple(first), None, dialect, markers)


def _resolve(name: str) -> list[Path]:
    if _GLOB_CHARS & set(name) and not Path(name).exists():
        files = sorted(Path(p) for p in glob.glob(name, recursive=True) if Path(p).is_file() and _data_file(Path(p)))
        if not files:
            raise UserError(f"{name}: no CSV or Parquet file matches this pattern")
        return files
    path = Path(name)
    if path.is_dir():
        files = sorted(Path(root) / f for root, dirs, names in os.walk(path)
                       for f in names if not _hidden(f) and _data_file(Path(root) / f)
                       and not any(_hidden(part) for part in Path(root).relative_to(path).parts))
        if not files:
            raise UserError(f"{name}: directory holds no CSV or Parquet file")
        return files
    check_readable(path)
    return [path]


def _hidden(name: str) -> bool:
    return name.startswith((".", "_"))  # .crc checksums, _SUCCESS markers, _temporary directories


def _data_file(path: Path) -> bool:
    try:
        file_format(path)
    except UserError:
        return False
    return True


def _parquet_schema(files: list[Path]) -> tuple[tuple[str, ...], Any]:
    import pyarrow.parquet as pq

    def schema_of(file: Path):
        try:
            schema = pq.read_schema(file)
        except Exception as err:  # noqa: BLE001  (any parser failure is the file's problem)
            raise UserError(f"{file}: cannot read as PARQUET: {first_line(err)}") from None
        refuse_duplicates(list(schema.names), str(file), "schema")
        return schema

    first = schema_of(files[0])
    for file in files[1:]:
        schema = schema_of(file)
        _same_columns(file, list(schema.names), files[0], list(first.names))
        for field in schema:
            other = first.field(field.name).type
            if field.type != other:
                raise UserError(f"{file}: column '{field.name}' is {field.type} here but {other} in {files[0]}; "
                                "every file of a dataset must have the same column types")
    for field in first:
        refuse_nested(field.type, field.name, files[0])
    return tuple(first.names), first


def _same_columns(file: Path, columns: list[str], first_file: Path, first: list[str]) -> None:
    if columns == first:
        return
    missing = [c for c in first if c not in columns]
    extra = [c for c in columns if c not in first]
    if missing:
        problem = f"has no column '{missing[0]}', which {first_file} has"
    elif extra:
        problem = f"has a column '{extra[0]}', which {first_file} has not"
    else:
        problem = f"orders its columns differently from {first_file}"
    raise UserError(f"{file}: {problem}; every file of a dataset must have the same columns")


def _parquet_batches(file: Path, columns: list[str], batch_rows: int, dictionary: Sequence[str],
                     markers: Sequence[str] = ()) -> Iterator[Batch]:
    import pyarrow.parquet as pq

    try:
        reader = pq.ParquetFile(file, read_dictionary=[c for c in dictionary if c in columns] or None)
        offset = 0
        for batch in reader.iter_batches(batch_size=batch_rows, columns=columns, use_threads=True):
            yield Batch(file, offset, _mask_markers(batch, markers) if markers else batch)
            offset += batch.num_rows
    except (OSError, ValueError) as err:  # pyarrow's errors derive from these
        raise UserError(f"{file}: cannot read as PARQUET: {first_line(err)}") from None


def _mask_markers(batch: Any, markers: Sequence[str]) -> Any:
    """``batch`` with its text cells equal to a marker made null, as ``read_table`` reads Parquet."""
    import pyarrow as pa
    import pyarrow.compute as pc

    value_set = pa.array(list(markers), pa.string())
    arrays = []
    for array in batch.columns:
        if pa.types.is_dictionary(array.type) and _is_text(array.type.value_type):
            hit = pc.take(pc.is_in(array.dictionary.cast(pa.string()), value_set=value_set), array.indices)
            indices = pc.if_else(hit, pa.scalar(None, array.indices.type), array.indices)
            array = pa.DictionaryArray.from_arrays(indices, array.dictionary, ordered=array.type.ordered)
        elif _is_text(array.type):
            array = pc.if_else(pc.is_in(array, value_set=value_set.cast(array.type)),
                               pa.scalar(None, array.type), array)
        arrays.append(array)
    return pa.RecordBatch.from_arrays(arrays, schema=batch.schema)


def _is_text(arrow_type: Any) -> bool:
    import pyarrow as pa

    return pa.types.is_string(arrow_type) or pa.types.is_large_string(arrow_type)


def _csv_batches(file: Path, columns: list[str], batch_rows: int, text: Sequence[str],
                 dialect: CsvOptions = CsvOptions(), markers: Sequence[str] = ()) -> Iterator[Batch]:
    dtype = {name: str for name in text if name in columns}
    offset = 0
    with warnings.catch_warnings():
        warnings.simplefilter("error", pd.errors.ParserWarning)
        try:
            # Every column is parsed (see governance.io): a row with a field too many must fail.
            reader = pd.read_csv(file, skipinitialspace=True, dtype=dtype or None, index_col=False,
                                 chunksize=batch_rows, na_values=list(markers) or None, **dialect.pandas(file))
            with reader:
                for chunk in reader:
                    yield Batch(file, offset, chunk[columns])
                    offset += len(chunk)
        except (pd.errors.ParserError, pd.errors.ParserWarning) as err:
            raise UserError(extra_field_message(file, dialect)
                            or f"{file}: cannot read as CSV: {first_line(err)}") from None
        except (ValueError, OSError, UnicodeDecodeError) as err:
            raise UserError(f"{file}: cannot read as CSV: {first_line(err)}") from None


class Progress:
    """Rows read so far, on standard error, only when it is a terminal (never in pipes or logs)."""

    def __init__(self, label: str, total: int | None, enabled: bool | None = None):
        self.enabled = sys.stderr.isatty() if enabled is None else enabled
        self._bar = None
        if self.enabled:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, TimeElapsedColumn
            from rich.progress import Progress as Bar

            self._bar = Bar("[progress.description]{task.description}", BarColumn(), MofNCompleteColumn(),
                            TimeElapsedColumn(), console=Console(stderr=True), transient=True)
            self._task = self._bar.add_task(label, total=total)
            self._bar.start()

    def advance(self, rows: int) -> None:
        if self._bar is not None:
            self._bar.advance(self._task, rows)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.stop()

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
