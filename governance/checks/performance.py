"""Performance checks: a metric of the ``predictions`` evidence within bounds, for its task.

``performance.metric`` bounds a score in [0, 1] (higher is better); ``performance.error`` bounds
an error (``log_loss``, ``mae``, ``rmse``: lower is better, no upper limit). Each metric applies
to the tasks of :data:`governance.metrics.performance.TASK_METRICS`; on predictions of another
task the check raises with the metrics that do apply, which the engine records as an ``error``.
The numbers equal scikit-learn's default-argument metrics (see
:mod:`governance.metrics.performance`).

Either check may compare with a registered baseline model (``relative_to``, with
``max_decrease``, ``max_increase`` or ``max_relative_change``; :mod:`governance.checks._relative`):
the same metric of the baseline's recorded predictions or, with ``rescore: true``, of its model's
predictions of the gate's rows. The finding's evidence holds both numbers, the change and which
model the baseline is.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import Field, model_validator

from governance.checks import _relative as relative
from governance.checks.base import Check, Outcome, register
from governance.errors import MissingEvidence
from governance.evidence import Evidence, task_of
from governance.metrics.performance import SCORE_METRICS, predictions_metric

STAGES = ("evaluate", "optimize", "monitor")
SCORES_NEEDED = "{metric} needs prediction scores"
OR_RELATIVE = ", or relative_to with max_decrease, max_increase or max_relative_change"
UNBOUNDED = float("inf")


@register("performance.metric")
class PerformanceMetric(Check):
    """A performance metric (accuracy, balanced accuracy, precision, recall, F1, ROC AUC, macro F1, R2) is at least `min` and/or at most `max`; with `relative_to`, changed from a registered baseline model's by at most `max_decrease`/`max_increase`/`max_relative_change`."""

    stages = STAGES

    class Params(relative.RelativeParams):
        metric: Literal["accuracy", "balanced_accuracy", "precision", "recall", "f1", "roc_auc", "macro_f1", "r2"]
        # Every metric offered is a share, a probability or (R2) at most 1.
        min: float | None = Field(None, ge=0, le=1)
        max: float | None = Field(None, ge=0, le=1)

        @model_validator(mode="after")
        def _bounded(self):
            values = (-UNBOUNDED, 1.0) if self.metric == "r2" else (0.0, 1.0)
            problem = self.relative_problem(values, self.metric)
            if problem:
                raise ValueError(problem)
            if self.min is None and self.max is None and self.relative_to is None:
                raise ValueError("give at least one of min and max" + OR_RELATIVE)
            if self.min is not None and self.max is not None and self.min > self.max:
                raise ValueError(f"min ({self.min}) must not exceed max ({self.max})")
            return self

    def evaluate(self, evidence: Evidence, params: Params) -> Outcome:
        return _outcome(evidence, params)


@register("performance.error")
class PerformanceError(Check):
    """An error metric (log loss, MAE, RMSE) is at most `max` (and, optionally, at least `min`); with `relative_to`, changed from a registered baseline model's by at most `max_increase`/`max_decrease`/`max_relative_change`."""

    stages = STAGES

    class Params(relative.RelativeParams):
        metric: Literal["log_loss", "mae", "rmse"]
        # Errors are in the target's units (MAE, RMSE) or in nats (log loss): no upper limit.
        max: float | None = Field(None, ge=0)
        min: float | None = Field(None, ge=0)

        @model_validator(mode="after")
        def _ordered(self):
            problem = self.relative_problem((0.0, UNBOUNDED), self.metric)
            if problem:
                raise ValueError(problem)
            if self.max is None and self.relative_to is None:
                raise ValueError("give max" + OR_RELATIVE)
            if self.min is not None and self.max is not None and self.min > self.max:
                raise ValueError(f"min ({self.min}) must not exceed max ({self.max})")
            return self

    def evaluate(self, evidence: Evidence, params: Params) -> Outcome:
        return _outcome(evidence, params)


def _outcome(evidence: Evidence, params: Any) -> Outcome:
    """The metric against ``min``/``max`` and, with ``relative_to``, against the baseline's."""
    predictions = evidence.require("predictions")
    metric, low, high = params.metric, params.min, params.max
    value = measure(predictions, metric)
    problems = []
    if low is not None and value < low:
        problems.append(f"below min {low}")
    if high is not None and value > high:
        problems.append(f"above max {high}")
    bounds = {k: v for k, v in (("min", low), ("max", high)) if v is not None}
    within = ", ".join(f"{k} {v}" for k, v in bounds.items())
    message = f"{metric} {value:.4g}" + (f" {' and '.join(problems) if problems else f'within {within}'}" if bounds else "")
    found = {"metric": metric, "value": value, "rows": int(len(predictions.y_true)), "task": task_of(predictions),
             **bounds}
    if params.relative_to is None:
        return Outcome(not problems, message, observed=value, threshold=bounds, evidence=found)
    compared = _against_baseline(evidence, value, params)
    found["baseline"] = compared.record
    observed = {"value": value, **compared.observed}
    return relative.outcome(bool(problems or compared.beyond), compared.missing, params,
                            f"{message}; {compared.text}", observed=observed,
                            threshold={**bounds, **params.relative_bounds()}, evidence=found)


@dataclass
class _Compared:
    """The baseline side of a finding: its evidence object, sentence, numbers and the bounds exceeded."""

    record: dict[str, Any]
    text: str
    observed: dict[str, Any] = field(default_factory=dict)
    beyond: list[str] = field(default_factory=list)
    missing: bool = False


def _against_baseline(evidence: Evidence, value: float, params: Any) -> _Compared:
    baseline, predictions, missing = relative.baseline_for(evidence, params)
    record = relative.described(baseline, predictions, params, missing)
    if predictions is None:
        return _Compared(record, relative.missing_text(missing, params), missing=True)
    try:
        then = measure(predictions, params.metric)
    except (ValueError, MissingEvidence) as err:
        raise ValueError(f"baseline {baseline.label}: {err}") from None
    delta, ratio, beyond = relative.change(value, then, params, params.metric)
    record.update(value=then, change=delta, verdict="fail" if beyond else "pass")
    observed = {"baseline": then, "change": delta}
    if ratio is not None:
        record["relative_change"] = observed["relative_change"] = ratio
    said = " and ".join(f"{k} {v}" for k, v in params.relative_bounds().items())
    text = (f"vs {baseline.reference} {baseline.label} ({record['source']}, {record['rows']} rows): "
            f"{params.metric} {then:.4g}, change {delta:+.4g} "
            + (f"beyond {' and '.join(beyond)}" if beyond else f"within {said}"))
    return _Compared(record, text, observed, beyond)


def measure(predictions: Any, metric: str) -> float:
    """``metric`` of ``predictions`` for its task; raises when it does not apply or is undefined."""
    if metric in SCORE_METRICS and getattr(predictions, "y_score", None) is None:
        raise MissingEvidence("predictions.y_score", SCORES_NEEDED.format(metric=metric))
    value = predictions_metric(metric, predictions)
    if math.isnan(value):  # NaN compares false with any bound; an undefined metric must not pass
        reason = {"roc_auc": "y_true holds a single class", "r2": "y_true is constant"}.get(metric, "no defined value")
        raise ValueError(f"{metric} is undefined: {reason}")
    return value
