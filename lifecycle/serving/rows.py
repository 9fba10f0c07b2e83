"""Validate request rows against the training profile, field by field, before anything is scored.

A row is an object naming every feature (``null``, or one of the spec's ``na_values``, marks a
missing value) and optionally the sensitive columns that are not features (kept in the log for
monitoring). What is refused, with a 400 naming the field:

* an unknown or a missing column, a row that is not an object;
* a numeric feature that is not a JSON number (a string, a boolean, an object, ...), or is not
  finite in the model's float32 arithmetic: NaN, ``Infinity``, ``1e308`` and integers beyond
  ±3.4e38 would all turn into a non-finite score;
* a categorical value that is not a string or a whole number; an unseen category when the
  ``unseen`` setting is ``reject``.

What is accepted and flagged (``COLUMN:KIND`` on the prediction and in the log):
``out_of_range`` (outside the training range), ``unseen_category`` (scored as the model's
unknown slot with ``flag``, as a missing value with ``missing``), ``missing`` (a missing value
where training had none).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cached_property
from json.encoder import encode_basestring_ascii
from typing import Any

import numpy as np

from lifecycle.serving.profile import UNSEEN_CHOICES, FeatureProfile, NumericProfile

FLOAT32_MAX = float(np.finfo(np.float32).max)
_SHOWN = 40  # characters of a bad value echoed in an error


class RowError(ValueError):
    """A request row that cannot be scored; the message names the field."""


class HugeNumber:
    """A JSON integer too long to be a number this server will look at (parsed as this marker)."""

    def __init__(self, digits: int):
        self.digits = digits

    def __repr__(self) -> str:
        return f"an integer of {self.digits} digits"


@dataclass
class ValidRows:
    """Validated rows: the model's inputs, each row's values as canonical JSON (for the log), flags.

    ``values`` holds the numeric features row after row (NaN for missing), ``width`` per row;
    ``categorical`` one list of values per categorical feature (``None`` for missing).
    """

    rows: int
    values: list[float]
    width: int
    categorical: list[list[str | None]]
    inputs: list[str] = field(default_factory=list)
    flags: list[list[str]] = field(default_factory=list)

    @cached_property
    def numeric(self) -> np.ndarray:
        """The numeric features as a ``(rows, width)`` float64 array."""
        return np.array(self.values, dtype=np.float64).reshape(self.rows, self.width)

    @classmethod
    def join(cls, parts: list[ValidRows]) -> ValidRows:
        """The rows of several requests, one after the other."""
        values: list[float] = []
        inputs: list[str] = []
        flags: list[list[str]] = []
        for part in parts:
            values += part.values
            inputs += part.inputs
            flags += part.flags
        categorical = [sum(columns, []) for columns in zip(*(part.categorical for part in parts), strict=True)]
        return cls(sum(part.rows for part in parts), values, parts[0].width, categorical, inputs, flags)

    @classmethod
    def of(cls, numeric: np.ndarray, categorical: list[list[str | None]]) -> ValidRows:
        """Rows given as arrays (no inputs, no flags)."""
        rows, width = numeric.shape
        return cls(rows, numeric.reshape(-1).tolist(), width, categorical)


class RowValidator:
    """Checks rows of one model; ``numeric``/``categorical`` are in the encoder's input order."""

    def __init__(self, numeric: list[str], categorical: list[str], extra: list[str], profile: FeatureProfile,
                 na_values: list[str], unseen: str = "flag"):
        if unseen not in UNSEEN_CHOICES:
            raise ValueError(f"unseen: must be one of {', '.join(UNSEEN_CHOICES)}, got {unseen!r}")
        self.numeric, self.categorical, self.extra = list(numeric), list(categorical), list(extra)
        self.columns = self.numeric + self.categorical + self.extra
        self.known = frozenset(self.columns)
        self.required = frozenset(self.numeric + self.categorical)
        self.profile, self.unseen = profile, unseen
        self.markers = frozenset(m.strip() for m in na_values if isinstance(m, str))
        # Where each column's "key":value goes in the canonical (key-sorted) JSON of a row's inputs
        order = sorted(self.columns)
        self._width = len(order)
        slot = {c: (order.index(c), encode_basestring_ascii(c) + ":") for c in self.columns}
        # The profile's fields unpacked (no bound: an infinite one), read once per value on every request
        self._ranges = [(c, *slot[c], *_bounds(profile.numeric[c]), profile.numeric[c].missing_seen)
                        for c in self.numeric]
        self._cats = [(c, *slot[c], profile.categorical[c].categories, profile.categorical[c].missing_seen)
                      for c in self.categorical]
        self._extra = [(c, *slot[c]) for c in self.extra]

    def validate(self, rows: list[Any], where: str = "rows") -> ValidRows:
        """Check every row; raise :class:`RowError` at the first bad field (``where[i].column``).

        ``ValidRows.inputs`` holds each row's values as canonical JSON (keys sorted, ASCII): what
        the prediction log keeps and hashes.
        """
        count = len(rows)
        numeric: list[float] = []
        categorical: list[list[str | None]] = [[None] * count for _ in self.categorical]
        inputs, flags = [], []
        for i, row in enumerate(rows):
            canonical, row_flags = self._row(row, where, i, numeric, categorical)
            inputs.append(canonical)
            flags.append(row_flags)
        return ValidRows(count, numeric, len(self.numeric), categorical, inputs, flags)

    def _row(self, row: Any, where: str, index: int, numeric: list[float],
             categorical: list[list[str | None]]) -> tuple[str, list[str]]:
        # One function, checks written out: it runs for every row of every request.
        if type(row) is not dict:
            raise RowError(f"{_place(where, index)}: must be an object of column: value, got {_kind(row)}")
        if row.keys() != self.required and not (self.required <= row.keys() <= self.known):
            self._columns_error(row, _place(where, index))
        pieces: list[str | None] = [None] * self._width
        flags: list[str] = []
        markers, largest = self.markers, FLOAT32_MAX
        for column, at, key, low, high, missing_seen in self._ranges:
            value = row[column]
            kind = type(value)
            if (kind is float or kind is int) and -largest <= value <= largest:  # False for NaN, inf
                numeric.append(value)
                pieces[at] = key + (repr(value) if kind is float else str(value))
                if value < low or value > high:
                    flags.append(f"{column}:out_of_range")
            elif value is None or (kind is str and value.strip() in markers):
                numeric.append(math.nan)
                pieces[at] = key + "null"
                if not missing_seen:
                    flags.append(f"{column}:missing")
            else:
                raise _number_error(value, f"{_place(where, index)}.{column}")
        for j, (column, at, key, categories, missing_seen) in enumerate(self._cats):
            value = row[column]
            if type(value) is str and value not in markers and value == value.strip():  # the usual case
                pieces[at] = key + encode_basestring_ascii(value)
            else:
                value = self._category(value, where, index, column)
                pieces[at] = key + ("null" if value is None else encode_basestring_ascii(value))
            if value is None:
                if not missing_seen:
                    flags.append(f"{column}:missing")
            elif categories is not None and value not in categories:
                if self.unseen == "reject":
                    raise RowError(f"{_place(where, index)}.{column}: category {_show(value)} was not seen in "
                                   f"training (known: {_known(categories)})")
                flags.append(f"{column}:unseen_category")
                if self.unseen == "missing":
                    value = None
            categorical[j][index] = value
        for column, at, key in self._extra:
            if column in row:
                value = self._category(row[column], where, index, column)
                pieces[at] = key + ("null" if value is None else encode_basestring_ascii(value))
        return "{" + ",".join(filter(None, pieces)) + "}", flags

    def _columns_error(self, row: dict[str, Any], place: str) -> None:
        unknown = [str(k) for k in row if k not in self.known]
        if unknown:
            raise RowError(f"{place}: unknown column {_show(unknown[0])}; columns are: {', '.join(self.columns)}")
        missing = [c for c in self.numeric + self.categorical if c not in row]
        raise RowError(f"{place}: missing column(s) {', '.join(missing)} (null marks a missing value)")

    def _category(self, value: Any, where: str, index: int, column: str) -> str | None:
        kind = type(value)
        if kind is str:
            text = value.strip()
            return None if text in self.markers else text
        if value is None:
            return None
        if kind is int and abs(value) < 10**18:
            return str(value)
        raise RowError(f"{_place(where, index)}.{column}: must be a string, a whole number or null, got {_kind(value)}")


def _bounds(profile: NumericProfile) -> tuple[float, float]:
    """The training range, an unknown end as infinite (nothing lies beyond it)."""
    return (-math.inf if profile.low is None else profile.low, math.inf if profile.high is None else profile.high)


def _place(where: str, index: int) -> str:
    return f"{where}[{index}]" if where == "rows" else where


def _number_error(value: Any, field: str) -> RowError:
    kind = type(value)
    if kind is float or kind is int or kind is HugeNumber:
        return RowError(f"{field}: must be a finite number within ±3.4e38 (float32), got {_show(value)}")
    return RowError(f"{field}: must be a number or null, got {_kind(value)}")


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, (int, float, HugeNumber)):
        return _show(value)
    if isinstance(value, str):
        return f"the string {_show(value)}"
    return {dict: "an object", list: "an array"}.get(type(value), type(value).__name__)


def _show(value: Any) -> str:
    text = repr(value) if not isinstance(value, float) or math.isfinite(value) else str(value)
    return text if len(text) <= _SHOWN else text[: _SHOWN - 3] + "..."


def _known(categories: frozenset[str]) -> str:
    listed = sorted(categories)
    return ", ".join(_show(c) for c in listed[:8]) + (f", ... ({len(listed)} in all)" if len(listed) > 8 else "")
