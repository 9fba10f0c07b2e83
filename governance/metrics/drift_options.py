"""What a drift audit compares and how, and what an engine hands the report: options, partials,
histogram requests. Checked once, on construction, with one-line errors."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from governance.errors import UserError
from governance.io import missing_column_message
from governance.metrics.counted import Histograms
from governance.metrics.partials import ColumnPartial
from governance.metrics.stattests import STATTESTS, unknown_stattest_message


@dataclass
class DriftOptions:
    """What a drift audit compares and how; checked on construction (UserError)."""

    columns: Iterable[str] | None = None
    stattest: str | None = None
    threshold: float | None = None
    per_column: Mapping[str, Mapping[str, Any]] | None = None
    drift_share: float = 0.5

    def __post_init__(self) -> None:
        if self.columns is not None:
            self.columns = list(self.columns)
        self.per_column = dict(self.per_column or {})
        check_options(self.stattest, self.threshold, self.drift_share, self.per_column)


@dataclass
class DriftInputs:
    """Partials of the compared columns in both datasets, and how to get a second pass.

    ``second_pass(requests)`` takes ``{column: HistogramRequest}`` and returns
    ``{column: Histograms}``; only bounded engines (``cap`` set) ever need it.
    """

    reference: dict[str, ColumnPartial]
    current: dict[str, ColumnPartial]
    cap: int | None = None
    second_pass: Callable[[dict[str, HistogramRequest]], dict[str, Histograms]] | None = None


@dataclass(frozen=True)
class HistogramRequest:
    """Equal-width bins over ``[low, high]`` to count in a second pass (and offsets to sum)."""

    low: float
    high: float
    bins: tuple[int, ...]
    offsets: bool


def wanted_columns(ref_columns: list[str], cur_columns: list[str], options: DriftOptions,
                   names: tuple[str, str]) -> list[str]:
    """The columns to read: ``options.columns``, else every column of ``current``; each must be
    in both datasets (UserError naming the dataset and the column otherwise)."""
    explicit = options.columns is not None
    wanted = list(options.columns) if explicit else list(cur_columns)
    for available, name, other in ((cur_columns, names[1], ref_columns), (ref_columns, names[0], cur_columns)):
        for column in (wanted if explicit else other):
            if column not in available:
                raise UserError(f"{name}: {missing_column_message(str(column), available)}")
    return wanted


def check_options(stattest, threshold, drift_share, per_column) -> None:
    """UserError for an unknown stattest, a threshold that is not positive, a share outside (0, 1]."""
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
