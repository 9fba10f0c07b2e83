"""Group-metric rules: any metric of the table per sensitive group, aggregated and bounded.

``fairness.group_metric`` computes one metric of :data:`governance.metrics.groupwise.METRICS`
per group of ``sensitive_features`` (several features form intersectional groups), aggregates it
over the groups with at least ``min_group_size`` rows (``difference``, ``ratio``, ``min``,
``max``) and compares the aggregate with ``min`` and/or ``max``. Two options change how:

* ``confidence`` (e.g. 0.95): the rule passes only when the aggregate's confidence interval
  clears the bound and fails only when it lies wholly beyond it; otherwise the finding is
  ``inconclusive`` and ``on_inconclusive`` says whether that blocks
  (:mod:`governance.metrics.intervals` states the methods);
* ``relative_to`` (``champion`` or ``{version: N}``) with ``max_decrease``, ``max_increase``
  and/or ``max_relative_change``: each group's metric (or, with ``compare: aggregate``, the
  aggregate) is compared with the same number of a registered baseline model: of its recorded
  predictions or, with ``rescore: true``, of its model re-scored on the gate's rows, read from
  the ``baselines`` evidence (:mod:`governance.baseline`, :mod:`governance.checks._relative`).

Multiclass predictions get ``accuracy`` per group and every other binary metric one vs rest,
class by class (:mod:`governance.metrics.groupwise_classes`); each class is judged as a binary
rule would be and the worst class decides (:mod:`governance.checks._group_classes`).

Undefined numbers never pass: a group whose metric has a zero denominator, or a ratio whose
largest value is 0, raises, and the engine records an ``error`` finding naming the group (and
the class).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, model_validator

from governance.checks import _group_baseline as baseline
from governance.checks import _group_compare as compare
from governance.checks._group_classes import decide
from governance.checks._relative import RelativeParams
from governance.checks.base import Check, Outcome, register
from governance.checks.fairness import FairnessParams
from governance.display import group_label
from governance.evidence import Evidence
from governance.metrics.groupwise import AGGREGATES, LABEL_FREE, METRICS, GroupMetric, metric_problem
from governance.metrics.groupwise_classes import ClassMetrics, class_metrics
from governance.metrics.intervals import intervals
from governance.vocabulary import DEFAULT_MIN_GROUP_SIZE
from governance.yamlvalidate import refusing

OUT_OF_RANGE = "{key}: must be a number in [{low}, {high}] for {what}, got {got}"
NEEDS_BOUND = ("give min and/or max, or relative_to with max_decrease, max_increase or "
               "max_relative_change")


class GroupMetricParams(FairnessParams, RelativeParams):
    """Parameters of ``fairness.group_metric``."""

    min_group_size: int = Field(DEFAULT_MIN_GROUP_SIZE, ge=1, description="Smaller groups are listed, not compared.")
    metric: Annotated[str, refusing(metric_problem)] = Field(description="A metric of the group-metric table (see docs/policies.md).",
                        json_schema_extra={"enum": list(METRICS)})
    aggregate: Literal["difference", "ratio", "min", "max"] = Field(
        description="difference (max - min), ratio (min / max), min or max over the groups.")
    min: float | None = Field(None, description="Lowest aggregate accepted.")
    max: float | None = Field(None, description="Highest aggregate accepted.")
    confidence: float | None = Field(None, gt=0, lt=1, description="Decide on intervals at this level.")
    on_inconclusive: Literal["warn", "block"] | None = Field(
        None, description="What an inconclusive finding does (default: as a failure of the rule's severity).")
    bootstrap_samples: int = Field(1000, ge=100, le=100_000, description="Bootstrap replicates.")
    seed: int = Field(0, ge=0, description="Seed of the bootstrap: same data and seed, same interval.")
    compare: Literal["groups", "aggregate"] = Field("groups", description="Compare group by group or the aggregate.")

    @model_validator(mode="after")
    def _coherent(self) -> GroupMetricParams:
        spec = METRICS[self.metric]
        if self.aggregate == "ratio" and not spec.nonnegative:
            raise ValueError(f"aggregate 'ratio' does not fit metric '{self.metric}', whose values may be "
                             f"negative; use {', '.join(a for a in AGGREGATES if a != 'ratio')}")
        low, high = _range(self.metric, self.aggregate)
        for key in ("min", "max"):
            bound = getattr(self, key)
            if bound is not None and not low <= bound <= high:
                what = f"the {self.aggregate} of {self.metric}"
                raise ValueError(OUT_OF_RANGE.format(key=key, low=_num(low), high=_num(high), what=what, got=bound))
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min ({self.min}) must not exceed max ({self.max})")
        problem = self.relative_problem(_range(self.metric, self.aggregate), f"the {self.aggregate} of {self.metric}")
        if problem:
            raise ValueError(problem)
        if self.min is None and self.max is None and self.relative_to is None:
            raise ValueError(NEEDS_BOUND)
        if self.on_inconclusive is not None and self.confidence is None:
            raise ValueError("on_inconclusive needs confidence (without it a rule is never inconclusive)")
        return self


def _range(metric: str, how: str) -> tuple[float, float]:
    """The values the aggregate ``how`` of ``metric`` can take."""
    spec = METRICS[metric]
    if how == "ratio" or spec.bounded:
        return 0.0, 1.0
    if how == "difference" or spec.nonnegative:
        return 0.0, float("inf")
    return float("-inf"), float("inf")


def _num(x: float) -> str:
    return "inf" if x == float("inf") else "-inf" if x == float("-inf") else f"{x:g}"


@register("fairness.group_metric")
class GroupMetricRule(Check):
    """A metric of the group-metric table (`metric`: fnr, precision, calibration_gap, mae, ...) aggregated over sensitive groups (`aggregate`: difference, ratio, min, max) is within `min`/`max` (multiclass: per class, the worst class); with `confidence`, decided on intervals; with `relative_to`, compared with a registered baseline."""

    stages = ("evaluate", "optimize", "monitor")
    Params = GroupMetricParams

    @classmethod
    def runs_without_labels(cls, params: GroupMetricParams) -> bool:
        return params.metric in LABEL_FREE

    def evaluate(self, evidence: Evidence, params: GroupMetricParams) -> Outcome:
        measured = measure(evidence.require("predictions"), params)
        numbers = None if params.relative_to is None else baseline.baseline_numbers(evidence, params, measured)
        return decide([_judged(current, numbers, params) for current in measured.metrics], measured, params)


def _judged(current: GroupMetric, numbers: baseline.BaselineNumbers | None, params: GroupMetricParams) -> compare.Report:
    """One metric (one class's, for multiclass) against the rule's bounds and baseline."""
    value = current.aggregate(params.aggregate)
    report = compare.Report(current, params, value)
    if params.min is not None or params.max is not None:
        _absolute(report, current, value, params)
    if numbers is not None:
        baseline.against_baseline(report, numbers, params)
    return report


def measure(predictions: Any, params: GroupMetricParams) -> ClassMetrics:
    """The metric per group (and class); raises when too few groups remain or an included value is undefined."""
    measured = class_metrics(params.metric, predictions, params.sensitive_features, params.min_group_size)
    needed = 2 if params.aggregate in ("difference", "ratio") else 1
    first = measured.metrics[0] if measured.metrics else None
    if first is None or len(first.included) < needed:
        count = [] if first is None else first.count
        sizes = ", ".join(f"{group_label(first.group(i))} ({count[i]})" for i in range(len(count)))
        raise ValueError(
            f"fewer than {needed} group(s) of {', '.join(params.sensitive_features)} have at least "
            f"{params.min_group_size} rows (groups: {sizes or 'none'}); a {params.aggregate} needs {needed}")
    for current in measured.metrics:
        compare.refuse_undefined(current, "")
        if params.aggregate == "ratio" and current.value[current.included].max() <= 0:
            raise ValueError(f"the ratio of {current.what} is undefined: every included group's value is 0")
    return measured


def _absolute(report: compare.Report, current: GroupMetric, value: float, params: GroupMetricParams) -> None:
    """Compare the aggregate (or its interval, with ``confidence``) with ``min``/``max``."""
    if params.confidence is None:
        report.add_bound(compare.verdict(value, value, params.min, params.max), value, params)
        return
    found = intervals(current, params.aggregate, params.confidence, params.bootstrap_samples, params.seed)
    report.add_intervals(found)
    low, high = found.aggregate
    report.add_bound(compare.verdict(low, high, params.min, params.max), value, params, (low, high))
