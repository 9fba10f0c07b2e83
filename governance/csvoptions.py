"""How a CSV file is written: separator, encoding, decimal mark and quote character.

One model serves the pipeline spec (``data.csv``), the API (:func:`rai.read_table`) and
``rai audit`` (``--sep``, ``--encoding``, ``--decimal``, ``--quotechar``); every reader of
:mod:`governance.io` applies it with the same strictness as a plain comma-separated file (a row
with more fields than the header is refused, never shifted).
"""

from __future__ import annotations

import codecs
import contextlib
import contextvars
from collections.abc import Iterator
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from governance.errors import UserError
from governance.yamlvalidate import describe_value

ONE_CHARACTER = "must be one character (e.g. {examples}), got {got}"
_LINE_BREAKS = "\r\n"


class CsvOptions(BaseModel):
    """The dialect of a CSV file; the defaults read a plain comma-separated UTF-8 file."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    sep: str | None = Field(None, description="Field separator, one character; default ',' (a tab for .tsv).")
    encoding: str = Field("utf-8", description="Text encoding, e.g. utf-8, latin-1, cp1252.")
    decimal: str = Field(".", description="Decimal mark of numbers, one character, e.g. ',' in 3,14.")
    quotechar: str = Field('"', description="Character quoting fields that contain the separator.")

    @field_validator("sep", mode="before")
    @classmethod
    def _tab_by_name(cls, value: Any) -> Any:
        return "\t" if value in ("\\t", "tab") else value

    @field_validator("sep", "decimal", "quotechar")
    @classmethod
    def _one_character(cls, value: str | None, info: Any) -> str | None:
        examples = {"sep": "';' or '\\t'", "decimal": "','", "quotechar": "\"'\""}[info.field_name]
        if value is not None and (len(value) != 1 or value in _LINE_BREAKS):
            raise ValueError(ONE_CHARACTER.format(examples=examples, got=describe_value(value)))
        return value

    @field_validator("encoding")
    @classmethod
    def _known_encoding(cls, value: str) -> str:
        try:
            codecs.lookup(value)
        except LookupError:
            raise ValueError(f"unknown encoding {describe_value(value)} (e.g. utf-8, latin-1, cp1252)") from None
        return value

    @model_validator(mode="after")
    def _distinct(self) -> CsvOptions:
        sep = self.sep or ","
        if sep == self.quotechar:
            raise ValueError(f"sep and quotechar must differ, both are {sep!r}")
        if self.sep is not None and self.sep == self.decimal:
            raise ValueError(f"sep and decimal must differ, both are {self.sep!r}")
        return self

    def separator(self, path: Any) -> str:
        """The separator of ``path``: the one given, else a tab for ``.tsv`` files, else a comma."""
        if self.sep is not None:
            return self.sep
        return "\t" if ".tsv" in str(path).lower() else ","

    def pandas(self, path: Any) -> dict[str, Any]:
        """Keyword arguments of ``pandas.read_csv`` for ``path``."""
        return {"sep": self.separator(path), "encoding": self.encoding, "decimal": self.decimal,
                "quotechar": self.quotechar}


_CURRENT: contextvars.ContextVar[CsvOptions | None] = contextvars.ContextVar("csv_options", default=None)


def current() -> CsvOptions:
    """The options of the enclosing :func:`using` block (a command's ``--sep`` ...), else defaults."""
    return _CURRENT.get() or CsvOptions()


@contextlib.contextmanager
def using(options: CsvOptions) -> Iterator[CsvOptions]:
    """Read every CSV file inside the block with ``options`` (``rai audit --sep ';'``)."""
    token = _CURRENT.set(options)
    try:
        yield options
    finally:
        _CURRENT.reset(token)


def csv_options(prefix: str = "", **values: Any) -> CsvOptions:
    """Validated options from keyword values (None: the default); UserError names the bad one.

    ``prefix`` is how the caller spells option names in messages (``--`` on the command line).
    """
    given = {k: v for k, v in values.items() if v is not None}
    try:
        return CsvOptions(**given)
    except ValidationError as err:
        first = err.errors(include_url=False)[0]
        where = f"{prefix}{first['loc'][0]}" if first["loc"] else f"{prefix}sep"
        message = str(first.get("ctx", {}).get("error") or first["msg"])
        if first["type"] == "string_type":
            message = f"must be text, got {describe_value(first['input'])}"
        raise UserError(f"{where}: {message}") from None
