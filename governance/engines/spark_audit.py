"""Fairness and drift reports of Spark DataFrames (see :mod:`governance.engines.spark`)."""

from __future__ import annotations

from typing import Any

from governance.engines.spark import column, column_partial, fairness_counts, histograms, spark_dtype
from governance.errors import UserError
from governance.io import missing_column_message, require_columns
from governance.metrics.drift import (
    DriftInputs,
    DriftOptions,
    DriftReport,
    prediction_from_partials,
    report_from_partials,
    wanted_columns,
)
from governance.metrics.fairness import FairnessReport
from governance.metrics.partials import DEFAULT_CAP, ColumnPartial

_NUMERIC = ("bigint", "int", "smallint", "tinyint", "double", "float", "boolean")


def fairness(frame: Any, y_true: str, y_pred: str, features: list[str], *, y_score: str | None = None,
             pos_label: Any = None, min_group_size: int = 1, where: str = "data") -> FairnessReport:
    """The fairness report of a Spark DataFrame of predictions (binary labels)."""
    columns = list(dict.fromkeys([y_true, y_pred, *([y_score] if y_score else []), *features]))
    require_columns(list(frame.columns), columns, where)
    counts = fairness_counts(frame, y_true, y_pred, features, where)
    if counts.rows == 0:
        raise UserError(f"{where}: no rows")
    report = counts.report(min_group_size, (y_true, y_pred), None if pos_label is None else str(pos_label), where)
    if y_score:
        _check_scores(frame, y_score, where)
    return report


def _check_scores(frame: Any, name: str, where: str) -> None:
    from pyspark.sql import functions as F

    kind = dict(frame.dtypes)[name]
    if kind not in _NUMERIC:
        raise UserError(f"{where}: column '{name}' must hold numeric scores, got {kind}")
    value = column(name).cast("double")
    bad = frame.agg(F.sum((value.isNull() | F.isnan(value) | value.isin(float("inf"), float("-inf")))
                          .cast("long"))).collect()[0][0]
    if bad:
        raise UserError(f"{where}: column '{name}' has {bad} missing or non-finite score(s)")


def drift(reference: Any, current: Any, options: DriftOptions, *, names: tuple[str, str] = ("reference", "current"),
          prediction: str | None = None, dtypes: tuple[dict, dict] = ({}, {}),
          cap: int | None = DEFAULT_CAP) -> tuple[DriftReport, dict | None]:
    """The drift report (and prediction row) of two Spark DataFrames.

    ``dtypes`` may give each column's pandas dtype (from the files' Parquet schema), so that
    column types are judged as the other engines judge them; otherwise they follow from the
    Spark types.
    """
    wanted = wanted_columns(list(reference.columns), list(current.columns), options, names)
    if prediction is not None:
        for frame, name in ((reference, names[0]), (current, names[1])):
            if prediction not in frame.columns:
                raise UserError(f"{name}: --prediction: {missing_column_message(prediction, list(frame.columns))}")
        if options.columns is None or prediction not in options.columns:
            wanted = [c for c in wanted if c != prediction]
    to_read = list(dict.fromkeys(wanted + ([prediction] if prediction else [])))
    parts = [_partials(frame, to_read, known, cap, name)
             for frame, known, name in zip((reference, current), dtypes, names, strict=True)]
    frames = (reference, current)
    inputs = DriftInputs(parts[0], parts[1], cap, lambda requests: histograms(frames, requests))
    report = report_from_partials(inputs, wanted, options, names)
    row = None
    if prediction is not None:
        row = prediction_from_partials(inputs, prediction, options.stattest, options.threshold, names=names)
    return report, row


def _partials(frame: Any, columns: list[str], known: dict, cap: int | None, where: str) -> dict[str, ColumnPartial]:
    from pyspark.sql import functions as F

    kinds = dict(frame.dtypes)
    nulls = frame.agg(*(F.sum(column(c).isNull().cast("long")).alias(f"n{i}") for i, c in enumerate(columns)),
                      F.count(F.lit(1)).alias("rows")).collect()[0]
    if not nulls["rows"]:
        raise UserError(f"{where}: no rows")
    out = {}
    for i, name in enumerate(columns):
        dtype = known.get(name) or spark_dtype(kinds[name], False)
        if nulls[f"n{i}"]:
            dtype = _with_missing(dtype)
        out[name] = column_partial(frame, name, dtype, cap, rows=nulls["rows"])
    return out


def _with_missing(dtype: str) -> str:
    if dtype.startswith(("int", "uint")):
        return "float64"
    return "object" if dtype == "bool" else dtype
