"""Drift checks: the dataset, chosen columns, and model predictions, as evidently decides drift.

The numbers come from :mod:`governance.metrics.drift`, which reproduces evidently 0.7's
``DataDriftPreset``: its column types, its default method per column (chi-square or z-test on
small references, Jensen-Shannon or normed Wasserstein on large ones, Kolmogorov-Smirnov for
small numerical samples) and its default thresholds, unless a rule names ``stattest`` and
``stattest_threshold``. Every finding carries the per-column rows (method, statistic,
threshold, drifted) as its evidence. A column that cannot be compared (free text, datetimes) is
named in the finding, and ``drift.dataset`` ends in an error while one is skipped unless the
rule says ``allow_skipped: true``: an unchecked column must not read as "no drift".
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from pydantic import Field, field_validator, model_validator

from governance.checks.base import Check, CheckParams, Outcome, register
from governance.errors import UserError
from governance.evidence import Evidence
from governance.metrics.drift import DriftReport, drift_report, prediction_drift
from governance.metrics.stattests import STATTESTS, unknown_stattest_message


class StatTestParams(CheckParams):
    """A drift method by evidently's name (``ks``, ``psi``, ...) and its threshold; ``None`` keeps the defaults."""

    stattest: str | None = None
    stattest_threshold: float | None = Field(None, gt=0)

    @field_validator("stattest")
    @classmethod
    def _known(cls, name: str | None) -> str | None:
        if name is not None and name not in STATTESTS:
            raise ValueError(unknown_stattest_message(name))
        return name

    @model_validator(mode="after")
    def _p_value_below_one(self):
        test = STATTESTS.get(self.stattest or "")
        if test and test.score == "p_value" and self.stattest_threshold is not None and self.stattest_threshold >= 1:
            raise ValueError(f"stattest_threshold of '{test.name}' is a p-value: it must be below 1, "
                             f"got {self.stattest_threshold}")
        return self


def describe(row: dict[str, Any]) -> str:
    """``age: wasserstein 0.312 (threshold 0.1)``: one column's drift in words."""
    statistic = row["statistic"]
    shown = "undefined" if statistic is None or statistic != statistic else f"{statistic:.4g}"
    return f"{row['column']}: {row['method']} {shown} (threshold {row['threshold']:g})"


def _report(evidence: Evidence, columns: list[str] | None, params: StatTestParams, drift_share: float = 0.5) -> DriftReport:
    reference, current = evidence.require("reference"), evidence.require("current")
    return drift_report(reference, current, columns=columns, stattest=params.stattest,
                        stattest_threshold=params.stattest_threshold, drift_share=drift_share)


@register("drift.dataset")
class DatasetDrift(Check):
    """Fewer than `drift_share` of the compared columns drift between the reference and current data."""

    stages = ("ingest", "monitor")

    class Params(StatTestParams):
        columns: list[str] | None = Field(None, min_length=1)
        drift_share: float = Field(0.5, gt=0, le=1)
        allow_skipped: bool = Field(False, description="Pass even when some columns (free text, datetimes) "
                                    "cannot be compared; they are named in the finding either way.")

    def evaluate(self, evidence: Evidence, params: Params) -> Outcome:
        report = _report(evidence, params.columns, params, params.drift_share)
        if report.skipped and not params.allow_skipped:
            raise UserError(f"{len(report.skipped)} column(s) not compared: {report.skipped_text()} "
                            f"({report.n_drifted} of {len(report.columns)} compared columns drifted); "
                            "list the columns to compare in 'columns', or set allow_skipped: true")
        ok = not report.dataset_drift
        message = (
            f"{report.n_drifted} of {len(report.columns)} columns drifted ({report.drifted_share:.1%}), "
            f"{'below' if ok else 'at or above'} the drift share {params.drift_share:.1%}"
        )
        drifted = [describe(row) for row in report.columns if row["drifted"]]
        if drifted:
            message += f"; drifted: {'; '.join(drifted)}"
        if report.skipped:
            message += f"; not compared: {report.skipped_text()}"
        return Outcome(ok, message, observed=report.drifted_share, threshold=params.drift_share,
                       evidence=report.to_dict())


@register("drift.column")
class ColumnDrift(Check):
    """None of the listed `columns` drifts between the reference and current data."""

    stages = ("ingest", "monitor")

    class Params(StatTestParams):
        columns: list[str] = Field(min_length=1)

    def evaluate(self, evidence: Evidence, params: Params) -> Outcome:
        report = _report(evidence, params.columns, params)
        drifted = [describe(row) for row in report.columns if row["drifted"]]
        if drifted:
            message = f"{len(drifted)} of {len(report.columns)} columns drifted: {'; '.join(drifted)}"
        else:
            message = f"no drift in {', '.join(describe(row) for row in report.columns)}"
        return Outcome(not drifted, message,
                       observed={row["column"]: row["statistic"] for row in report.columns},
                       threshold={row["column"]: row["threshold"] for row in report.columns},
                       evidence=report.to_dict())


@register("drift.prediction")
class PredictionDrift(Check):
    """The model's outputs (scores or labels) do not drift between the reference and current data."""

    stages = ("monitor",)

    class Params(StatTestParams):
        pass

    def evaluate(self, evidence: Evidence, params: Params) -> Outcome:
        reference = pd.Series(evidence.require("prediction_reference"))
        current = pd.Series(evidence.require("prediction_current"))
        row = prediction_drift(reference, current, params.stattest, params.stattest_threshold,
                               names=("prediction_reference", "prediction_current"))
        message = f"predictions {'drifted' if row['drifted'] else 'did not drift'}: {describe(row)}"
        return Outcome(not row["drifted"], message, observed=row["statistic"], threshold=row["threshold"],
                       evidence=DriftReport([row]).to_dict())
