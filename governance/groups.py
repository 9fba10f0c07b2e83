"""Readable sensitive groups: value labels and numeric bins for sensitive columns.

``value_labels`` names the values of a column (``{"sex": {1: "male", 2: "female"}}``) and
``bins`` cuts a numeric column into bands (``{"age": [0, 25, 40, 60, 120]}`` gives ``0-25``,
``25-40``, ``40-60`` and ``60-120``). Both give ordered categoricals, so groups keep the order of
the values (codes in numeric order, bands from the lowest up) rather than the alphabetical order
of their labels. A band holds its lower edge but not its upper one, except the last band, which
holds both: with the edges above, 25 is in ``25-40`` and 120 in ``60-120``.

Anything that would silently change the groups is refused with one line: bins that do not cover
every value, labels for values that do not occur, values without a label, a label given twice, a
column both labelled and binned, a column that is not a sensitive column. A value given as text
(``"1"``, from the command line) names the number ``1``.

Everything here works on the distinct values of a column, then maps the rows' codes: no Python
loop over rows.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from governance.errors import UserError
from governance.evidence_input import canonical, show
from governance.vocabulary import closest

LABELS_SYNTAX = "expected COL=VALUE:LABEL[,VALUE:LABEL...], got {got!r}"
BINS_SYNTAX = "expected COL=EDGE,EDGE[,EDGE...], got {got!r}"
NOT_A_COLUMN = "{what}: '{column}' is not a sensitive column{hint} (sensitive: {columns})"
BOTH = "{labels} and {bins} both name column '{column}'; give one of them"
NOT_NUMBERS = "{what} for '{column}': edges must be numbers, got {got}"
TOO_FEW = "{what} for '{column}': give at least two edges, got {n}"
NOT_INCREASING = "{what} for '{column}': edges must increase, got {edges}"
NOT_COVERED = ("{what} for '{column}' ({edges}) leave {n} row(s) outside every band, with values {values}; "
               "widen the first or last edge")
NOT_NUMERIC = "{what} for '{column}': the column holds values that are not numbers: {values}"
NO_LABEL = "{what} for '{column}': {n} value(s) of the column have no label: {values}"
ABSENT = "{what} for '{column}': {values} {verb} not occur in the column (values: {present})"
SAME_VALUE = "{what} for '{column}': {a!r} and {b!r} name the same value"
LABEL_TWICE = "{what} for '{column}': label {label!r} is given to {a!r} and {b!r}"
BAD_LABEL = "{what} for '{column}': the label of {value!r} must be non-empty text, got {got!r}"


def check_value_labels(value_labels: Any, what: str = "value_labels") -> dict[str, dict[Any, str]]:
    """``{column: {value: label}}`` checked for shape; ``UserError`` naming the problem otherwise."""
    if value_labels is None:
        return {}
    if not isinstance(value_labels, Mapping):
        raise UserError(f"{what}: expected a mapping {{column: {{value: label}}}}, got {type(value_labels).__name__}")
    out: dict[str, dict[Any, str]] = {}
    for column, labels in value_labels.items():
        if not isinstance(labels, Mapping) or not labels:
            raise UserError(f"{what} for '{column}': expected a non-empty mapping {{value: label}}, got {labels!r}")
        for value, label in labels.items():
            if not isinstance(label, str) or not label.strip():
                raise UserError(BAD_LABEL.format(what=what, column=column, value=value, got=label))
        out[str(column)] = dict(labels)
    return out


def check_bins(bins: Any, what: str = "bins") -> dict[str, list[float]]:
    """``{column: [edge, ...]}`` with finite, increasing edges; ``UserError`` otherwise."""
    if bins is None:
        return {}
    if not isinstance(bins, Mapping):
        raise UserError(f"{what}: expected a mapping {{column: [edges]}}, got {type(bins).__name__}")
    out: dict[str, list[float]] = {}
    for column, edges in bins.items():
        if isinstance(edges, (str, bytes, Mapping)) or not isinstance(edges, Iterable):
            raise UserError(NOT_NUMBERS.format(what=what, column=column, got=repr(edges)))
        edges = list(edges)
        bad = [e for e in edges if isinstance(e, (bool, np.bool_)) or not isinstance(e, (int, float, np.number))
               or not math.isfinite(float(e))]
        if bad:
            raise UserError(NOT_NUMBERS.format(what=what, column=column, got=show(bad)))
        if len(edges) < 2:
            raise UserError(TOO_FEW.format(what=what, column=column, n=len(edges)))
        numbers = [float(e) for e in edges]
        if any(b <= a for a, b in zip(numbers, numbers[1:], strict=False)):
            raise UserError(NOT_INCREASING.format(what=what, column=column, edges=_edges(numbers)))
        out[str(column)] = numbers
    return out


def band_labels(edges: list[float]) -> list[str]:
    """``["0-25", "25-40", ...]``; ``["-10 to 0", "0 to 10"]`` when an edge is negative."""
    sep = " to " if edges[0] < 0 else "-"
    return [f"{_edge(low)}{sep}{_edge(high)}" for low, high in zip(edges, edges[1:], strict=False)]


def apply_groups(sensitive: pd.DataFrame, value_labels: Any = None, bins: Any = None,
                 names: tuple[str, str] = ("value_labels", "bins")) -> pd.DataFrame:
    """``sensitive`` with labelled and binned columns replaced by ordered categoricals.

    Parameters
    ----------
    sensitive : the sensitive columns
    value_labels : ``{column: {value: label}}``; every value that occurs needs a label, and
        every value labelled must occur
    bins : ``{column: [edges]}``; the edges must cover every value of the column
    names : how the two options are called in messages (``--labels``, ``--bins`` on the CLI)

    Raises
    ------
    UserError
        One line naming the option, the column and the values at fault.
    """
    labels, edges = check_value_labels(value_labels, names[0]), check_bins(bins, names[1])
    if not labels and not edges:
        return sensitive
    columns = [str(c) for c in sensitive.columns]
    for what, given in ((names[0], labels), (names[1], edges)):
        for column in given:
            if column not in columns:
                raise UserError(NOT_A_COLUMN.format(what=what, column=column, hint=closest(column, columns),
                                                    columns=", ".join(columns)))
    both = sorted(set(labels) & set(edges))
    if both:
        raise UserError(BOTH.format(labels=names[0], bins=names[1], column=both[0]))
    out = sensitive.copy()
    for column, mapping in labels.items():
        out[column] = _labelled(sensitive[column], mapping, column, names[0])
    for column, cut in edges.items():
        out[column] = _binned(sensitive[column], cut, column, names[1])
    return out


def parse_labels(texts: Iterable[str], option: str = "--labels") -> dict[str, dict[str, str]]:
    """``["sex=1:male,2:female"]`` -> ``{"sex": {"1": "male", "2": "female"}}``."""
    out: dict[str, dict[str, str]] = {}
    for text in texts:
        column, _, body = text.partition("=")
        column = column.strip()
        if not column or not body.strip():
            raise UserError(f"{option}: {LABELS_SYNTAX.format(got=text)}")
        pairs: dict[str, str] = {}
        for part in body.split(","):
            value, sep, label = part.partition(":")
            if not sep or not value.strip() or not label.strip():
                raise UserError(f"{option}: {LABELS_SYNTAX.format(got=text)}")
            if value.strip() in pairs:
                raise UserError(f"{option}: value {value.strip()!r} of '{column}' is labelled twice")
            pairs[value.strip()] = label.strip()
        if column in out:
            raise UserError(f"{option}: column '{column}' is given twice")
        out[column] = pairs
    return out


def parse_bins(texts: Iterable[str], option: str = "--bins") -> dict[str, list[float]]:
    """``["age=0,25,40"]`` -> ``{"age": [0.0, 25.0, 40.0]}`` (checked by :func:`check_bins` later)."""
    out: dict[str, list[float]] = {}
    for text in texts:
        column, _, body = text.partition("=")
        column = column.strip()
        if not column or not body.strip():
            raise UserError(f"{option}: {BINS_SYNTAX.format(got=text)}")
        edges = []
        for part in body.split(","):
            try:
                edges.append(float(part))
            except ValueError:
                raise UserError(f"{option}: edge {part.strip()!r} of '{column}' is not a number") from None
        if column in out:
            raise UserError(f"{option}: column '{column}' is given twice")
        out[column] = edges
    return out


def _factor(column: pd.Series) -> tuple[np.ndarray, pd.Index, np.ndarray]:
    """Row codes (``-1`` missing), the distinct values, and which of them occur."""
    if isinstance(column.dtype, pd.CategoricalDtype):
        codes, uniques = column.cat.codes.to_numpy(np.int64), pd.Index(column.cat.categories)
    else:
        codes, uniques = pd.factorize(column, sort=False)
        codes, uniques = codes.astype(np.int64, copy=False), pd.Index(uniques)
    present = np.bincount(codes[codes >= 0], minlength=len(uniques)) > 0
    return codes, uniques, present


def _labelled(column: pd.Series, mapping: dict[Any, str], name: str, what: str) -> pd.Series:
    codes, uniques, present = _factor(column)
    keys: dict[str, Any] = {}
    for key in mapping:
        other = keys.setdefault(canonical(key), key)
        if other is not key:
            raise UserError(SAME_VALUE.format(what=what, column=name, a=other, b=key))
    seen: dict[str, Any] = {}
    for label_of, key in ((mapping[k], k) for k in mapping):
        other = seen.setdefault(label_of, key)
        if other is not key:
            raise UserError(LABEL_TWICE.format(what=what, column=name, label=label_of, a=other, b=key))
    occurring = [v for v, p in zip(uniques, present, strict=True) if p]
    canon = [canonical(v) for v in occurring]
    if len(set(canon)) != len(canon):
        twins = [v for v, c in zip(occurring, canon, strict=True) if canon.count(c) > 1][:2]
        raise UserError(SAME_VALUE.format(what=what, column=name, a=_plain(twins[0]), b=_plain(twins[1])))
    unlabelled = [v for v, c in zip(occurring, canon, strict=True) if c not in keys]
    if unlabelled:
        raise UserError(NO_LABEL.format(what=what, column=name, n=len(unlabelled), values=show(_ordered(unlabelled))))
    absent = [keys[c] for c in keys if c not in set(canon)]
    if absent:
        raise UserError(ABSENT.format(what=what, column=name, values=show(absent), verb="does" if len(absent) == 1 else "do",
                                      present=show(_ordered(occurring))))
    order = _ordered(list(range(len(occurring))), key=lambda i: occurring[i])
    categories = [mapping[keys[canon[i]]] for i in order]
    position = np.full(len(uniques), -1, dtype=np.int64)
    position[np.flatnonzero(present)[order]] = np.arange(len(order))
    return _categorical(position, codes, categories, column.index)


def _binned(column: pd.Series, edges: list[float], name: str, what: str) -> pd.Series:
    codes, uniques, present = _factor(column)
    if uniques.dtype.kind == "b":
        raise UserError(NOT_NUMERIC.format(what=what, column=name, values=show(uniques[present])))
    values = pd.to_numeric(pd.Series(uniques, dtype=object), errors="coerce").to_numpy(dtype=float)
    wrong = present & ~np.isfinite(values)
    if wrong.any():
        raise UserError(NOT_NUMERIC.format(what=what, column=name, values=show(uniques[wrong])))
    outside = present & ((values < edges[0]) | (values > edges[-1]))
    if outside.any():
        low, high = values[outside & (values < edges[0])], values[outside & (values > edges[-1])]
        shown = np.concatenate([np.sort(low), np.sort(high)])
        raise UserError(NOT_COVERED.format(what=what, column=name, edges=_edges(edges),
                                           n=int(np.bincount(codes[codes >= 0], minlength=len(uniques))[outside].sum()),
                                           values=show([_number(v) for v in shown])))
    band = np.searchsorted(np.asarray(edges), values, side="right") - 1
    band = np.where(values == edges[-1], len(edges) - 2, band)  # the last band holds its upper edge
    band = np.where(present, band, -1)
    return _categorical(band, codes, band_labels(edges), column.index)


def _categorical(position: np.ndarray, codes: np.ndarray, categories: list[str], index: pd.Index) -> pd.Series:
    """Rows' new codes (``position`` of each old code; missing rows stay missing) as an ordered categorical."""
    new = np.where(codes >= 0, position[np.maximum(codes, 0)], -1)
    return pd.Series(pd.Categorical.from_codes(new, categories=categories, ordered=True), index=index)


def _ordered(values: list, key=lambda v: v) -> list:
    """Numbers (also numbers written as text) in numeric order first, then other values as text."""
    def rank(item):
        text = canonical(key(item))
        try:
            return (0, float(text), "")
        except ValueError:
            return (1, 0.0, text)
    return sorted(values, key=rank)


def _edge(x: float) -> str:
    return str(int(x)) if float(x).is_integer() and abs(x) < 1e15 else repr(float(x))


def _edges(edges: list[float]) -> str:
    return ", ".join(_edge(e) for e in edges)


def _number(x: float) -> Any:
    return int(x) if float(x).is_integer() and abs(x) < 1e15 else float(x)


def _plain(value: Any) -> Any:
    return value.item() if hasattr(value, "item") else value
