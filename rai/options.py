"""Options shared by commands."""

from __future__ import annotations

from pathlib import Path

import click

from governance.errors import UserError

workspace_option = click.option(
    "--workspace",
    "workspace",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path(".rai"),
    show_default=True,
    envvar="RAI_WORKSPACE",
    help="Workspace directory holding the trail, evidence, keys and registry.",
)

json_option = click.option("--json", "as_json", is_flag=True, help="Print one JSON object for machines.")


def csv_dialect_options(command):
    """``--sep``, ``--encoding``, ``--decimal``, ``--quotechar``: how the command's CSV files are written.

    Validated once (:class:`governance.csvoptions.CsvOptions`); every CSV file the command reads
    through :mod:`governance.io` is then read with them.
    """
    import functools

    @click.option("--sep", help="Field separator of CSV files, one character (e.g. ';', or '\\t' for a tab).")
    @click.option("--encoding", help="Text encoding of CSV files (default utf-8), e.g. latin-1, cp1252.")
    @click.option("--decimal", help="Decimal mark of numbers in CSV files (default '.'), e.g. ','.")
    @click.option("--quotechar", help="Quote character of CSV files (default '\"').")
    @functools.wraps(command)
    def wrapper(*args, sep=None, encoding=None, decimal=None, quotechar=None, **kwargs):
        from governance.csvoptions import csv_options, using

        dialect = csv_options("--", sep=sep, encoding=encoding, decimal=decimal, quotechar=quotechar)
        with using(dialect):
            return command(*args, **kwargs)

    return wrapper


#: The parameters :func:`csv_dialect_options` adds, in the order of :class:`~governance.csvoptions.CsvOptions`.
CSV_DIALECT_PARAMETERS = ("sep", "encoding", "decimal", "quotechar")

na_values_option = click.option(
    "--na-values", "na_values", multiple=True, metavar="TEXT",
    help="Text that means a missing value, e.g. '?' (repeatable), besides empty fields and pandas' usual "
         "markers (NA, N/A, NaN, null, ...); as a pipeline's data.na_values.",
)


def split_columns(text: str, option: str = "--columns") -> list[str]:
    """``COL[,COL...]`` as a list; UserError for an empty or repeated name."""
    names = [name.strip() for name in text.split(",")]
    if not all(names):
        raise UserError(f"{option}: empty column name in {text!r} (give COL[,COL...])")
    if len(set(names)) != len(names):
        raise UserError(f"{option}: column repeated in {text!r}")
    return names
