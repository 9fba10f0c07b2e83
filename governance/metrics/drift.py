"""Data and prediction drift, with evidently 0.7's default behaviour.

:func:`drift_report` gives the numbers of evidently's ``DataDriftPreset`` (one ``ValueDrift`` per
column plus ``DriftedColumnsCount``) on the same frames:

* Column types follow evidently's rules, applied to the *reference* frame (evidently applies them
  to the current one): floats are numerical; integers are categorical with at most 10 distinct
  values, else numerical; strings (object or string dtype) are categorical, or free text when
  more than half of the non-missing values are distinct; bool and category dtypes are
  categorical; datetimes and anything else are not compared. Judged on the current frame, a
  categorical column whose values were all replaced by new ones would pass for free text and be
  skipped; judged on the reference it is compared, and drifts.
* Missing and infinite values are dropped per column before testing.
* The default method depends on the reference size (after dropping) and the number of distinct
  values in both samples together: up to 1000 reference rows, categorical columns (and
  numerical ones with at most 5 values) get a chi-square test, or a z-test with at most 2
  values, other numerical columns a Kolmogorov-Smirnov test; above 1000 rows, categorical
  columns (and numerical ones with at most 5 values) get the Jensen-Shannon distance,
  other numerical columns the normed Wasserstein distance.
* The dataset drifts when the share of drifted columns is at least ``drift_share`` (0.5).

Free-text columns (which evidently tests with a text classifier) are reported as skipped, and
every skipped column is named. A statistic that cannot be computed, or is undefined (NaN) other
than evidently's one documented case (a chi-square test on a single value), is an error, never
"no drift".
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from governance.errors import UserError
from governance.findings import jsonable
from governance.metrics.coltypes import KIND_WORDS, kind_of_partial
from governance.metrics.counted import SKETCH_BINS, CountedSample, sturges_edges
from governance.metrics.drift_options import (
    DriftInputs,
    DriftOptions,
    HistogramRequest,
    check_options,
    wanted_columns,
)
from governance.metrics.partials import ColumnPartial, from_series, is_numeric_dtype
from governance.metrics.stattests import STATTESTS, Approximate, StatTest

SCHEMA_VERSION = 1
DRIFTABLE = ("num", "cat")
# evidently tests small references with p-values and large ones with distances.
SMALL_REFERENCE_ROWS = 1000
FEW_VALUES, BINARY_VALUES = 5, 2


@dataclass
class DriftReport:
    """Per-column drift rows and the dataset-level decision.

    Each row is ``{"column", "type" ("num" | "cat"), "method" (evidently's stattest name),
    "statistic", "statistic_kind" ("p_value" | "distance"), "threshold", "drifted"}``.
    ``skipped`` lists the columns that were not compared, with the reason.
    """

    columns: list[dict[str, Any]]
    drift_share_threshold: float = 0.5
    skipped: list[dict[str, Any]] = field(default_factory=list)

    @property
    def n_drifted(self) -> int:
        return sum(1 for row in self.columns if row["drifted"])

    @property
    def drifted_share(self) -> float:
        return self.n_drifted / len(self.columns)

    @property
    def dataset_drift(self) -> bool:
        return self.drifted_share >= self.drift_share_threshold

    @property
    def drifted_columns(self) -> list[str]:
        return [row["column"] for row in self.columns if row["drifted"]]

    def skipped_text(self) -> str:
        """``id (free text (dtype object)), when (a datetime ...)``: the columns not compared."""
        return ", ".join(f"{row['column']} ({row['reason']})" for row in self.skipped)

    def to_dict(self) -> dict[str, Any]:
        """The drift JSON (``schema_version`` 1); NaN statistics become ``null``."""
        return jsonable({
            "schema_version": SCHEMA_VERSION,
            "columns": self.columns,
            "drifted_share": self.drifted_share,
            "n_drifted": self.n_drifted,
            "dataset_drift": self.dataset_drift,
            "drift_share_threshold": self.drift_share_threshold,
            "skipped": self.skipped,
        })


def drift_report(
    reference: pd.DataFrame,
    current: pd.DataFrame,
    columns: Iterable[str] | None = None,
    stattest: str | None = None,
    stattest_threshold: float | None = None,
    per_column: Mapping[str, Mapping[str, Any]] | None = None,
    drift_share: float = 0.5,
    *,
    names: tuple[str, str] = ("reference", "current"),
) -> DriftReport:
    """Compare ``current`` with ``reference`` column by column.

    Parameters
    ----------
    reference, current : the frames to compare
    columns : columns to compare; default all numerical and categorical columns of ``current``
        (every column must then exist in both frames)
    stattest, stattest_threshold : method (evidently's name, e.g. ``"psi"``) and threshold for
        every column; ``None`` keeps the default choice and the method's default threshold
    per_column : ``{column: {"stattest": name, "threshold": x}}`` overriding the above
    drift_share : the dataset drifts when at least this share of columns drifts
    names : how error messages call the two frames (file names in ``rai audit drift``)

    Raises
    ------
    UserError
        A missing column, an unknown stattest, a method that does not fit a column's type, a
        column with no values, or no column to compare.
    """
    options = DriftOptions(columns, stattest, stattest_threshold, per_column, drift_share)
    wanted = wanted_columns([str(c) for c in reference.columns], [str(c) for c in current.columns], options, names)
    inputs = DriftInputs({c: from_series(reference[c]) for c in wanted}, {c: from_series(current[c]) for c in wanted})
    return report_from_partials(inputs, wanted, options, names)


def report_from_partials(inputs: DriftInputs, wanted: list[str], options: DriftOptions,
                         names: tuple[str, str] = ("reference", "current")) -> DriftReport:
    """The drift report from partials: the one code path of every engine."""
    selected, skipped = _select_columns(inputs, wanted, options.columns is not None, names)
    not_compared = [c for c in options.per_column if c not in {column for column, _ in selected}]
    if not_compared:
        raise UserError(f"per-column options name column '{not_compared[0]}', which is not compared")
    plans = []
    for column, kind in selected:
        opts = options.per_column.get(column, {})
        plans.append(_plan(inputs, column, kind, opts.get("stattest", options.stattest),
                           opts.get("threshold", options.threshold), names))
    if not plans:
        raise UserError(f"{names[1]}: no numerical or categorical column to compare for drift")
    _fill_second_pass(inputs, plans)
    return DriftReport([_row(*plan) for plan in plans], options.drift_share, skipped)


def prediction_drift(
    reference: pd.Series,
    current: pd.Series,
    stattest: str | None = None,
    threshold: float | None = None,
    *,
    names: tuple[str, str] = ("reference", "current"),
) -> dict[str, Any]:
    """Drift of model outputs (scores or labels): evidently's ``ValueDrift`` on that column.

    Returns one row in the :class:`DriftReport` row format, JSON-able (a NaN statistic is
    ``None``); the column is the series' name (``"prediction"`` when unnamed).
    """
    column = str(current.name) if current.name is not None else "prediction"
    inputs = DriftInputs({column: from_series(reference)}, {column: from_series(current)})
    return prediction_from_partials(inputs, column, stattest, threshold, names=names)


def prediction_from_partials(inputs: DriftInputs, column: str, stattest: str | None = None,
                             threshold: float | None = None, *,
                             names: tuple[str, str] = ("reference", "current")) -> dict[str, Any]:
    """:func:`prediction_drift` from partials (``column`` keys both datasets' partials)."""
    check_options(stattest, threshold, 0.5, {})
    kind = kind_of_partial(inputs.reference[column], inputs.cap)
    if kind not in DRIFTABLE:
        raise UserError(f"{names[0]}: predictions '{column}' are {KIND_WORDS[kind]}; drift needs numbers or labels")
    plan = _plan(inputs, column, kind, stattest, threshold, names)
    _fill_second_pass(inputs, [plan])
    return jsonable(_row(*plan))  # a NaN statistic (chi-square on one label) becomes None, as in to_dict


def default_stattest(sample: CountedSample) -> str:
    """evidently's default method for a column, from its type, reference size and value count."""
    n_values = sample.n_distinct_upto(FEW_VALUES)
    if sample.n_ref <= SMALL_REFERENCE_ROWS:
        if sample.kind == "cat" or n_values <= FEW_VALUES:
            return "chisquare" if n_values > BINARY_VALUES else "z"
        return "ks"
    if sample.kind == "cat" or n_values <= FEW_VALUES:
        return "jensenshannon"
    return "wasserstein"


def _plan(inputs: DriftInputs, column: str, kind: str, stattest: str | None, threshold: float | None,
          names) -> tuple[str, CountedSample, StatTest, float]:
    if stattest is not None:
        _check_fits(STATTESTS[stattest], kind, column)
    sample = _sample(inputs.reference[column], inputs.current[column], kind, column, names)
    test: StatTest = STATTESTS[stattest or default_stattest(sample)]
    return column, sample, test, test.default_threshold if threshold is None else float(threshold)


def _fill_second_pass(inputs: DriftInputs, plans) -> None:
    """Histograms for the numerical columns whose distinct values were not all counted."""
    requests = {}
    for column, sample, test, _ in plans:
        if sample.exact or sample.kind != "num":
            continue
        bins = []
        if test.name in ("jensenshannon", "psi", "kl_div"):
            low, high = sample.pooled_range
            bins.append(sturges_edges(low, high, sample.n_ref + sample.n_cur).size - 1)
        if test.name in ("wasserstein", "ks"):
            bins.append(SKETCH_BINS)
        if bins:
            requests[column] = HistogramRequest(*sample.pooled_range, tuple(bins), SKETCH_BINS in bins)
    if not requests:
        return
    if inputs.second_pass is None:
        raise ValueError("a bounded engine must provide a second pass")
    found = inputs.second_pass(requests)
    for column, sample, _, _ in plans:
        if column in requests:
            sample.histograms = found[column]


def _row(column: str, sample: CountedSample, test: StatTest, threshold: float) -> dict[str, Any]:
    score = _score(test, sample, column)
    row = {"column": column, "type": sample.kind, "method": test.name, "statistic": score,
           "statistic_kind": test.score, "threshold": threshold}
    if isinstance(score, Approximate):
        row["statistic"] = score.value
        verdicts = {test.drifted(score.low, threshold), test.drifted(score.high, threshold)}
        # An estimate whose bounds straddle the threshold cannot decide: counted as drift (fail closed).
        row["drifted"] = True if len(verdicts) > 1 else verdicts.pop()
        row["approximate"] = {**score.describe(), "verdict_certain": len(verdicts) <= 1}
        return row
    row["drifted"] = test.drifted(score, threshold)
    return row


def _score(test: StatTest, sample: CountedSample, column: str) -> float | Approximate:
    """The test's statistic; UserError when it cannot be computed or is undefined."""
    try:
        with np.errstate(all="ignore"):
            score = test(sample)
    except (ValueError, ArithmeticError) as err:
        detail = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise UserError(f"column '{column}': {test.name} cannot be computed on these values ({detail})") from None
    value = score.value if isinstance(score, Approximate) else score
    # evidently's one undefined case that means "no drift": a chi-square test on a single value.
    if math.isnan(value) and not (test.name == "chisquare" and sample.n_distinct_upto(1) <= 1):
        raise UserError(f"column '{column}': {test.name} is undefined (NaN) on these values; "
                        "drift cannot be decided, choose another stattest")
    return score


def _check_fits(test: StatTest, kind: str, column: str) -> None:
    if kind not in test.kinds:
        allowed = " or ".join(KIND_WORDS[k] for k in test.kinds)
        fitting = ", ".join(name for name, other in STATTESTS.items() if kind in other.kinds)
        raise UserError(f"stattest '{test.name}' applies to {allowed} columns; column '{column}' is "
                        f"{KIND_WORDS[kind]} (methods for it: {fitting})")


def _sample(ref: ColumnPartial, cur: ColumnPartial, kind: str, column: str, names) -> CountedSample:
    if kind == "num" and not (is_numeric_dtype(cur.dtype) or cur.dtype == "bool"):
        raise UserError(f"{names[1]}: column '{column}' must hold numbers (it is numerical in the reference data), "
                        f"found dtype {cur.dtype}")
    if kind == "cat" and cur.unhashable:
        raise UserError(f"{names[1]}: column '{column}' holds values that cannot be compared as categories "
                        f"(lists, mappings or other objects); in {names[0]} it is categorical")
    for part, name in ((ref, names[0]), (cur, names[1])):
        if part.present == 0:
            raise UserError(f"{name}: column '{column}' has no values (all missing) to compare for drift")
        if kind == "cat" and part.overflow:
            raise UserError(f"{name}: column '{column}' has more distinct values than a bounded engine counts; "
                            "a categorical test needs them all (use the in-memory engine, or compare other columns)")
    return CountedSample(kind, ref, cur)


def _select_columns(inputs: DriftInputs, wanted: list[str], explicit: bool, names) -> tuple[list[tuple], list[dict]]:
    selected, skipped = [], []
    for column in wanted:
        part = inputs.reference[column]
        kind = kind_of_partial(part, inputs.cap)
        if kind in DRIFTABLE:
            selected.append((column, kind))
        elif explicit:
            raise UserError(f"{names[0]}: column '{column}' is {KIND_WORDS[kind]} (dtype {part.dtype}); "
                            "drift compares numerical and categorical columns")
        else:
            skipped.append({"column": column, "type": kind, "reason": f"{KIND_WORDS[kind]} (dtype {part.dtype})"})
    return selected, skipped
