"""Fairness checks: selection rates, true and false positive rates compared across groups.

Every check reads the ``predictions`` evidence, groups its rows by ``sensitive_features`` (several
features form intersectional groups) and computes the numbers with
:func:`governance.metrics.fairness.report_for`, which equals fairlearn's. Groups with fewer
than ``min_group_size`` rows are listed in the evidence as excluded and left out of the
comparison, never silently dropped.

Binary predictions compare the rates of the favourable label (``Predictions.favorable_label``,
by default the positive one). Multiclass predictions compare each class's one-vs-rest rates and
the worst class decides (only the favourable class, when one is given). Regression predictions
have no selection rates nor positive rates: these checks refuse them with the reason, and
``fairness.group_metric`` compares their errors (``mae``, ``rmse``) or levels
(``mean_prediction``) instead.

Selection-rate checks (``demographic_parity_difference``, ``demographic_parity_ratio``,
``group_metric_min`` of ``selection_rate``) read the model's decisions only: they run on live rows
whose outcomes are not known yet. The others need labels.

A comparison needs two groups. When fewer than two groups are large enough the check raises,
which the engine records as an ``error`` finding that blocks: an audit that compared nothing
must not pass.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

import numpy as np
from pydantic import Field, field_validator

from governance.checks.base import Check, CheckParams, Outcome, register
from governance.display import group_label
from governance.evidence import Evidence, task_of
from governance.io import missing_column_message
from governance.metrics.fairness_tasks import report_for
from governance.vocabulary import DEFAULT_MIN_GROUP_SIZE

STAGES = ("evaluate", "optimize", "monitor")
CLASSIFICATION = ("binary", "multiclass")
REFUSED = ("{check} compares {what}, which {task} predictions do not have; for {task}, compare errors "
           "(metric mae or rmse) or predicted levels (mean_prediction) with fairness.group_metric")


class FairnessParams(CheckParams):
    """Parameters shared by every fairness check."""

    sensitive_features: list[str] = Field(min_length=1)
    min_group_size: int = Field(DEFAULT_MIN_GROUP_SIZE, ge=1)

    @field_validator("sensitive_features")
    @classmethod
    def _distinct(cls, names: list[str]) -> list[str]:
        if any(not name.strip() for name in names):
            raise ValueError("feature names must not be empty")
        if len(set(names)) != len(names):
            raise ValueError(f"features must not repeat, got {names}")
        return names


def group_report(evidence: Evidence, params: FairnessParams, check: type[Check] | None = None) -> Any:
    """The fairness report of the ``predictions`` evidence; raises if under two groups remain.

    ``check`` (a class with ``tasks`` and ``compares``) refuses predictions of other tasks.
    """
    predictions = evidence.require("predictions")
    task = task_of(predictions)
    if check is not None and task not in check.tasks:
        raise ValueError(REFUSED.format(check=check.name, what=check.compares, task=task))
    columns = [str(c) for c in predictions.sensitive.columns]
    for name in params.sensitive_features:
        if name not in columns:
            raise ValueError(f"predictions: sensitive {missing_column_message(name, columns)}")
    report = report_for(predictions, params.sensitive_features, params.min_group_size)
    if len(report.included) < 2:
        sizes = ", ".join(
            f"{group_label(row['group'])} ({row['count']})" for row in report.group_dicts()
        )
        raise ValueError(
            f"fewer than 2 groups of {', '.join(params.sensitive_features)} have at least "
            f"{params.min_group_size} rows (groups: {sizes or 'none'}); a fairness comparison needs two"
        )
    return report


def _outcome(ok: bool, message: str, report: Any, observed: float, threshold: float) -> Outcome:
    excluded = report.excluded
    if excluded:
        message += f"; excluded {len(excluded)} group(s) under {report.min_group_size} rows"
    else:
        message += f"; every group has at least {report.min_group_size} rows"
    evidence: dict[str, Any] = {**report.to_dict(), "excluded_groups": excluded}
    return Outcome(bool(ok), message, observed=observed, threshold=threshold, evidence=evidence)


class _FairnessCheck(Check):
    """Base of the fairness checks: the tasks a check accepts and what it compares."""

    stages = STAGES
    tasks: ClassVar[tuple[str, ...]] = CLASSIFICATION
    compares: ClassVar[str] = "selection rates"


class _DifferenceCheck(_FairnessCheck):
    """Base of the ``max - min`` checks: the disparity of ``rates`` is at most ``max``."""

    metric: ClassVar[str]
    rates: ClassVar[tuple[str, ...]]

    class Params(FairnessParams):
        max: float = Field(0.1, ge=0, le=1)

    def evaluate(self, evidence: Evidence, params: Params) -> Outcome:
        report = group_report(evidence, params, type(self))
        value = report.metrics[self.metric]
        if np.isnan(value):
            raise ValueError(f"{self.metric.replace('_', ' ')} is undefined for these predictions")
        ok = value <= params.max
        spreads = "; ".join(report.spread(rate, self.metric) for rate in self.rates)
        message = (
            f"{self.metric.replace('_', ' ')} {value:.4g} {'<=' if ok else '>'} max {params.max} "
            f"across {len(report.included)} groups of {', '.join(params.sensitive_features)} ({spreads})"
        )
        return _outcome(ok, message, report, value, params.max)


@register("fairness.demographic_parity_difference")
class DemographicParityDifference(_DifferenceCheck):
    """Selection rates across sensitive groups differ by at most `max` (multiclass: the worst class)."""

    metric, rates, label_free = "demographic_parity_difference", ("selection_rate",), True


@register("fairness.equalized_odds_difference")
class EqualizedOddsDifference(_DifferenceCheck):
    """True and false positive rates across sensitive groups each differ by at most `max` (multiclass: the worst class)."""

    metric, rates, compares = "equalized_odds_difference", ("tpr", "fpr"), "true and false positive rates"


@register("fairness.equal_opportunity_difference")
class EqualOpportunityDifference(_DifferenceCheck):
    """True positive rates across sensitive groups differ by at most `max` (multiclass: the worst class)."""

    metric, rates, compares = "equal_opportunity_difference", ("tpr",), "true positive rates"


@register("fairness.demographic_parity_ratio")
class DemographicParityRatio(_FairnessCheck):
    """The lowest group selection rate is at least `min` times the highest (four-fifths rule; multiclass: the worst class)."""

    label_free = True

    class Params(FairnessParams):
        min: float = Field(0.8, ge=0, le=1)

    def evaluate(self, evidence: Evidence, params: Params) -> Outcome:
        report = group_report(evidence, params, type(self))
        value = report.metrics["demographic_parity_ratio"]
        if np.isnan(value):
            raise ValueError("demographic parity ratio is undefined: no group has a positive prediction")
        ok = value >= params.min
        message = (
            f"demographic parity ratio {value:.4g} {'>=' if ok else '<'} min {params.min} across "
            f"{len(report.included)} groups of {', '.join(params.sensitive_features)} "
            f"({report.spread('selection_rate', 'demographic_parity_ratio')})"
        )
        return _outcome(ok, message, report, value, params.min)


@register("fairness.group_metric_min")
class GroupMetricMin(_FairnessCheck):
    """Every sensitive group's accuracy, TPR or selection rate is at least `min` (multiclass: of every class)."""

    compares = "accuracy, true positive rates and selection rates"

    class Params(FairnessParams):
        metric: Literal["accuracy", "tpr", "selection_rate"]
        min: float = Field(ge=0, le=1)

    @classmethod
    def runs_without_labels(cls, params: Params) -> bool:
        return params.metric == "selection_rate"

    def evaluate(self, evidence: Evidence, params: Params) -> Outcome:
        report = group_report(evidence, params, type(self))
        value, where = _lowest(report, params.metric)
        ok = value >= params.min
        message = (
            f"lowest {params.metric} {value:.4g} ({where}) "
            f"{'>=' if ok else '<'} min {params.min} across {len(report.included)} groups"
        )
        return _outcome(ok, message, report, value, params.min)


def _lowest(report: Any, metric: str) -> tuple[float, str]:
    """The lowest value of ``metric`` over the included groups (and, multiclass, the classes compared)."""
    if report.task == "binary" or metric == "accuracy":
        table = report.included
        worst = int(np.argmin(table[metric].to_numpy()))
        return float(table[metric].iloc[worst]), group_label(table[report.sensitive_features].to_dict("records")[worst])
    rows = report.by_class[np.repeat(~report.groups["excluded"].to_numpy(), len(report.classes))]
    if report.favorable_class is not None:
        rows = rows[rows["class"] == report.favorable_class]
    worst = int(np.argmin(rows[metric].to_numpy()))
    group = rows[report.sensitive_features].to_dict("records")[worst]
    return float(rows[metric].iloc[worst]), f"{group_label(group)}, class {rows['class'].iloc[worst]!r}"
