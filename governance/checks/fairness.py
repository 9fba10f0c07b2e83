"""Fairness checks: selection rates, true and false positive rates compared across groups.

Every check reads the ``predictions`` evidence, groups its rows by ``sensitive_features`` (several
features form intersectional groups) and computes the numbers with
:func:`governance.metrics.fairness.fairness_report`, which equals fairlearn's. Groups with fewer
than ``min_group_size`` rows are listed in the evidence as excluded and left out of the
comparison, never silently dropped.

A comparison needs two groups. When fewer than two groups are large enough the check raises,
which the engine records as an ``error`` finding that blocks: an audit that compared nothing
must not pass.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

import numpy as np
from pydantic import Field, field_validator

from governance.checks.base import Check, CheckParams, Outcome, register
from governance.evidence import Evidence
from governance.io import missing_column_message
from governance.metrics.fairness import FairnessReport, describe_group, fairness_report

STAGES = ("evaluate", "optimize", "monitor")


class FairnessParams(CheckParams):
    """Parameters shared by every fairness check."""

    sensitive_features: list[str] = Field(min_length=1)
    min_group_size: int = Field(30, ge=1)

    @field_validator("sensitive_features")
    @classmethod
    def _distinct(cls, names: list[str]) -> list[str]:
        if any(not name.strip() for name in names):
            raise ValueError("feature names must not be empty")
        if len(set(names)) != len(names):
            raise ValueError(f"features must not repeat, got {names}")
        return names


def group_report(evidence: Evidence, params: FairnessParams) -> FairnessReport:
    """The fairness report of the ``predictions`` evidence; raises if under two groups remain."""
    predictions = evidence.require("predictions")
    columns = [str(c) for c in predictions.sensitive.columns]
    for name in params.sensitive_features:
        if name not in columns:
            raise ValueError(f"predictions: sensitive {missing_column_message(name, columns)}")
    report = fairness_report(
        predictions.y_true, predictions.y_pred,
        predictions.sensitive[params.sensitive_features], params.min_group_size,
    )
    if len(report.included) < 2:
        sizes = ", ".join(
            f"{describe_group(row['group'])} ({row['count']})" for row in report.group_dicts()
        )
        raise ValueError(
            f"fewer than 2 groups of {', '.join(params.sensitive_features)} have at least "
            f"{params.min_group_size} rows (groups: {sizes or 'none'}); a fairness comparison needs two"
        )
    return report


def _extremes(report: FairnessReport, rate: str) -> str:
    """``selection_rate 0.109 (sex=Female) to 0.305 (sex=Male)`` over the included groups."""
    table = report.included
    values = table[rate].to_numpy()
    keys = table[report.sensitive_features].to_dict("records")
    low, high = int(np.argmin(values)), int(np.argmax(values))
    return (
        f"{rate} {values[low]:.4g} ({describe_group(keys[low])}) to "
        f"{values[high]:.4g} ({describe_group(keys[high])})"
    )


def _outcome(ok: bool, message: str, report: FairnessReport, observed: float, threshold: float) -> Outcome:
    excluded = report.excluded
    if excluded:
        message += f"; excluded {len(excluded)} group(s) under {report.min_group_size} rows"
    evidence: dict[str, Any] = {**report.to_dict(), "excluded_groups": excluded}
    return Outcome(bool(ok), message, observed=observed, threshold=threshold, evidence=evidence)


class _DifferenceCheck(Check):
    """Base of the ``max - min`` checks: the disparity of ``rates`` is at most ``max``."""

    metric: ClassVar[str]
    rates: ClassVar[tuple[str, ...]]
    stages = STAGES

    class Params(FairnessParams):
        max: float = Field(0.1, ge=0, le=1)

    def evaluate(self, evidence: Evidence, params: Params) -> Outcome:
        report = group_report(evidence, params)
        value = report.metrics[self.metric]
        ok = value <= params.max
        spreads = "; ".join(_extremes(report, rate) for rate in self.rates)
        message = (
            f"{self.metric.replace('_', ' ')} {value:.4g} {'<=' if ok else '>'} max {params.max} "
            f"across {len(report.included)} groups of {', '.join(params.sensitive_features)} ({spreads})"
        )
        return _outcome(ok, message, report, value, params.max)


@register("fairness.demographic_parity_difference")
class DemographicParityDifference(_DifferenceCheck):
    """Selection rates across sensitive groups differ by at most `max`."""

    metric, rates = "demographic_parity_difference", ("selection_rate",)


@register("fairness.equalized_odds_difference")
class EqualizedOddsDifference(_DifferenceCheck):
    """True and false positive rates across sensitive groups each differ by at most `max`."""

    metric, rates = "equalized_odds_difference", ("tpr", "fpr")


@register("fairness.equal_opportunity_difference")
class EqualOpportunityDifference(_DifferenceCheck):
    """True positive rates across sensitive groups differ by at most `max`."""

    metric, rates = "equal_opportunity_difference", ("tpr",)


@register("fairness.demographic_parity_ratio")
class DemographicParityRatio(Check):
    """The lowest group selection rate is at least `min` times the highest (four-fifths rule)."""

    stages = STAGES

    class Params(FairnessParams):
        min: float = Field(0.8, ge=0, le=1)

    def evaluate(self, evidence: Evidence, params: Params) -> Outcome:
        report = group_report(evidence, params)
        value = report.metrics["demographic_parity_ratio"]
        if np.isnan(value):
            raise ValueError("demographic parity ratio is undefined: no group has a positive prediction")
        ok = value >= params.min
        message = (
            f"demographic parity ratio {value:.4g} {'>=' if ok else '<'} min {params.min} across "
            f"{len(report.included)} groups of {', '.join(params.sensitive_features)} "
            f"({_extremes(report, 'selection_rate')})"
        )
        return _outcome(ok, message, report, value, params.min)


@register("fairness.group_metric_min")
class GroupMetricMin(Check):
    """Every sensitive group's accuracy, TPR or selection rate is at least `min`."""

    stages = STAGES

    class Params(FairnessParams):
        metric: Literal["accuracy", "tpr", "selection_rate"]
        min: float = Field(ge=0, le=1)

    def evaluate(self, evidence: Evidence, params: Params) -> Outcome:
        report = group_report(evidence, params)
        table = report.included
        worst = int(np.argmin(table[params.metric].to_numpy()))
        value = float(table[params.metric].iloc[worst])
        group = table[params.sensitive_features].to_dict("records")[worst]
        ok = value >= params.min
        message = (
            f"lowest {params.metric} {value:.4g} ({describe_group(group)}) "
            f"{'>=' if ok else '<'} min {params.min} across {len(table)} groups"
        )
        return _outcome(ok, message, report, value, params.min)
