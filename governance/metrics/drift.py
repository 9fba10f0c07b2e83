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
from governance.io import missing_column_message
from governance.metrics.coltypes import KIND_WORDS, factorize_pair, infer_kind, infer_with_codes
from governance.metrics.samples import Sample
from governance.metrics.stattests import STATTESTS, StatTest, unknown_stattest_message

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
    per_column = dict(per_column or {})
    _check_options(stattest, stattest_threshold, drift_share, per_column)
    selected, skipped = _select_columns(reference, current, columns, names)
    not_compared = [c for c in per_column if c not in {column for column, _, _ in selected}]
    if not_compared:
        raise UserError(f"per-column options name column '{not_compared[0]}', which is not compared")
    rows = []
    for column, kind, codes in selected:
        options = per_column.get(column, {})
        rows.append(column_drift(
            reference[column], current[column], kind, column,
            stattest=options.get("stattest", stattest),
            threshold=options.get("threshold", stattest_threshold), names=names, codes=codes,
        ))
    if not rows:
        raise UserError(f"{names[1]}: no numerical or categorical column to compare for drift")
    return DriftReport(rows, drift_share, skipped)


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
    column = current.name if current.name is not None else "prediction"
    _check_options(stattest, threshold, 0.5, {})
    kind = infer_kind(reference)
    if kind not in DRIFTABLE:
        raise UserError(f"{names[0]}: predictions '{column}' are {KIND_WORDS[kind]}; drift needs numbers or labels")
    row = column_drift(reference, current, kind, str(column), stattest=stattest, threshold=threshold, names=names)
    return jsonable(row)  # a NaN statistic (chi-square on one label) becomes None, as in to_dict


def default_stattest(sample: Sample) -> str:
    """evidently's default method for a column, from its type, reference size and value count."""
    n_values = sample.n_distinct_upto(FEW_VALUES)
    if sample.n_ref <= SMALL_REFERENCE_ROWS:
        if sample.kind == "cat" or n_values <= FEW_VALUES:
            return "chisquare" if n_values > BINARY_VALUES else "z"
        return "ks"
    if sample.kind == "cat" or n_values <= FEW_VALUES:
        return "jensenshannon"
    return "wasserstein"


def column_drift(
    reference: pd.Series,
    current: pd.Series,
    kind: str,
    column: str,
    stattest: str | None = None,
    threshold: float | None = None,
    *,
    names: tuple[str, str] = ("reference", "current"),
    codes: tuple[np.ndarray, Any] | None = None,
) -> dict[str, Any]:
    """One drift row for one column of known ``kind`` (``"num"`` or ``"cat"``).

    ``codes`` may carry ``pd.factorize`` of the two series concatenated, when already computed.
    """
    if stattest is not None:
        _check_fits(STATTESTS[stattest], kind, column)
    sample = _sample(reference, current, kind, column, names, codes)
    test: StatTest = STATTESTS[stattest or default_stattest(sample)]
    threshold = test.default_threshold if threshold is None else float(threshold)
    score = _score(test, sample, column)
    return {
        "column": column, "type": kind, "method": test.name, "statistic": score,
        "statistic_kind": test.score, "threshold": threshold, "drifted": test.drifted(score, threshold),
    }


def _score(test: StatTest, sample: Sample, column: str) -> float:
    """The test's statistic; UserError when it cannot be computed or is undefined."""
    try:
        with np.errstate(all="ignore"):
            score = test(sample)
    except (ValueError, ArithmeticError) as err:
        detail = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise UserError(f"column '{column}': {test.name} cannot be computed on these values ({detail})") from None
    # evidently's one undefined case that means "no drift": a chi-square test on a single value.
    if math.isnan(score) and not (test.name == "chisquare" and sample.n_distinct_upto(1) <= 1):
        raise UserError(f"column '{column}': {test.name} is undefined (NaN) on these values; "
                        "drift cannot be decided, choose another stattest")
    return score


def _check_fits(test: StatTest, kind: str, column: str) -> None:
    if kind not in test.kinds:
        allowed = " or ".join(KIND_WORDS[k] for k in test.kinds)
        fitting = ", ".join(name for name, other in STATTESTS.items() if kind in other.kinds)
        raise UserError(f"stattest '{test.name}' applies to {allowed} columns; column '{column}' is "
                        f"{KIND_WORDS[kind]} (methods for it: {fitting})")


def _sample(reference: pd.Series, current: pd.Series, kind: str, column: str, names, codes=None) -> Sample:
    if kind == "num":
        sample = Sample.numeric(_finite(reference, column, names[0]), _finite(current, column, names[1]))
    else:
        try:
            codes, keys = codes or factorize_pair(reference, current)
        except TypeError:
            raise UserError(f"{names[1]}: column '{column}' holds values that cannot be compared as categories "
                            f"(lists, mappings or other objects); in {names[0]} it is categorical") from None
        ref_codes, cur_codes = codes[: len(reference)], codes[len(reference):]
        sample = Sample("cat", ref_codes[ref_codes >= 0], cur_codes[cur_codes >= 0], np.asarray(keys))
    for size, name in ((sample.n_ref, names[0]), (sample.n_cur, names[1])):
        if size == 0:
            raise UserError(f"{name}: column '{column}' has no values (all missing) to compare for drift")
    return sample


def _finite(series: pd.Series, column: str, name: str) -> np.ndarray:
    if not pd.api.types.is_numeric_dtype(series.dtype):
        raise UserError(f"{name}: column '{column}' must hold numbers (it is numerical in the reference data), "
                        f"found dtype {series.dtype}")
    values = series.to_numpy(dtype=np.float64, na_value=np.nan)
    return values[np.isfinite(values)]


def _select_columns(reference, current, columns, names) -> tuple[list[tuple], list[dict]]:
    explicit = columns is not None
    wanted = list(columns) if explicit else list(current.columns)
    for frame, name, other in ((current, names[1], reference), (reference, names[0], current)):
        for column in (wanted if explicit else other.columns):
            if column not in frame.columns:
                raise UserError(f"{name}: {missing_column_message(str(column), [str(c) for c in frame.columns])}")
    selected, skipped = [], []
    for column in wanted:
        kind, codes = infer_with_codes(reference[column], current[column])
        if kind in DRIFTABLE:
            selected.append((column, kind, codes))
        elif explicit:
            raise UserError(f"{names[0]}: column '{column}' is {KIND_WORDS[kind]} (dtype {reference[column].dtype}); "
                            "drift compares numerical and categorical columns")
        else:
            skipped.append({"column": column, "type": kind,
                            "reason": f"{KIND_WORDS[kind]} (dtype {reference[column].dtype})"})
    return selected, skipped


def _check_options(stattest, threshold, drift_share, per_column) -> None:
    tests = [stattest] + [opts.get("stattest") for opts in per_column.values()]
    for name in tests:
        if name is not None and name not in STATTESTS:
            raise UserError(unknown_stattest_message(name))
    thresholds = [threshold] + [opts.get("threshold") for opts in per_column.values()]
    for value in thresholds:
        if value is not None and not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
            raise UserError(f"stattest threshold must be a positive number, got {value!r}")
    if not (isinstance(drift_share, (int, float)) and 0 < drift_share <= 1):
        raise UserError(f"drift_share must be a number in (0, 1], got {drift_share!r}")
    for column, opts in per_column.items():
        extra = set(opts) - {"stattest", "threshold"}
        if extra:
            raise UserError(f"per-column options of '{column}': unknown key '{sorted(extra)[0]}' "
                            "(allowed: stattest, threshold)")
