"""Performance checks: a metric of the ``predictions`` evidence within bounds, for its task.

``performance.metric`` bounds a score in [0, 1] (higher is better); ``performance.error`` bounds
an error (``log_loss``, ``mae``, ``rmse``: lower is better, no upper limit). Each metric applies
to the tasks of :data:`governance.metrics.performance.TASK_METRICS`; on predictions of another
task the check raises with the metrics that do apply, which the engine records as an ``error``.
The numbers equal scikit-learn's default-argument metrics (see
:mod:`governance.metrics.performance`).
"""

from __future__ import annotations

import math
from typing import Any, Literal

from pydantic import Field, model_validator

from governance.checks.base import Check, CheckParams, Outcome, register
from governance.errors import MissingEvidence
from governance.evidence import Evidence, task_of
from governance.metrics.performance import SCORE_METRICS, predictions_metric

STAGES = ("evaluate", "optimize", "monitor")
SCORES_NEEDED = "{metric} needs prediction scores"


@register("performance.metric")
class PerformanceMetric(Check):
    """A performance metric (accuracy, balanced accuracy, precision, recall, F1, ROC AUC, macro F1, R2) is at least `min` and/or at most `max`."""

    stages = STAGES

    class Params(CheckParams):
        metric: Literal["accuracy", "balanced_accuracy", "precision", "recall", "f1", "roc_auc", "macro_f1", "r2"]
        # Every metric offered is a share, a probability or (R2) at most 1.
        min: float | None = Field(None, ge=0, le=1)
        max: float | None = Field(None, ge=0, le=1)

        @model_validator(mode="after")
        def _bounded(self):
            if self.min is None and self.max is None:
                raise ValueError("give at least one of min and max")
            if self.min is not None and self.max is not None and self.min > self.max:
                raise ValueError(f"min ({self.min}) must not exceed max ({self.max})")
            return self

    def evaluate(self, evidence: Evidence, params: Params) -> Outcome:
        return _bounded_outcome(evidence, params.metric, params.min, params.max)


@register("performance.error")
class PerformanceError(Check):
    """An error metric (log loss, MAE, RMSE) is at most `max` (and, optionally, at least `min`)."""

    stages = STAGES

    class Params(CheckParams):
        metric: Literal["log_loss", "mae", "rmse"]
        # Errors are in the target's units (MAE, RMSE) or in nats (log loss): no upper limit.
        max: float = Field(ge=0)
        min: float | None = Field(None, ge=0)

        @model_validator(mode="after")
        def _ordered(self):
            if self.min is not None and self.min > self.max:
                raise ValueError(f"min ({self.min}) must not exceed max ({self.max})")
            return self

    def evaluate(self, evidence: Evidence, params: Params) -> Outcome:
        return _bounded_outcome(evidence, params.metric, params.min, params.max)


def _bounded_outcome(evidence: Evidence, metric: str, low: float | None, high: float | None) -> Outcome:
    predictions = evidence.require("predictions")
    value = measure(predictions, metric)
    problems = []
    if low is not None and value < low:
        problems.append(f"below min {low}")
    if high is not None and value > high:
        problems.append(f"above max {high}")
    bounds = {k: v for k, v in (("min", low), ("max", high)) if v is not None}
    within = ", ".join(f"{k} {v}" for k, v in bounds.items())
    message = f"{metric} {value:.4g} " + (" and ".join(problems) if problems else f"within {within}")
    found = {"metric": metric, "value": value, "rows": int(len(predictions.y_true)),
             "task": task_of(predictions), **bounds}
    return Outcome(not problems, message, observed=value, threshold=bounds, evidence=found)


def measure(predictions: Any, metric: str) -> float:
    """``metric`` of ``predictions`` for its task; raises when it does not apply or is undefined."""
    if metric in SCORE_METRICS and getattr(predictions, "y_score", None) is None:
        raise MissingEvidence("predictions.y_score", SCORES_NEEDED.format(metric=metric))
    value = predictions_metric(metric, predictions)
    if math.isnan(value):  # NaN compares false with any bound; an undefined metric must not pass
        reason = {"roc_auc": "y_true holds a single class", "r2": "y_true is constant"}.get(metric, "no defined value")
        raise ValueError(f"{metric} is undefined: {reason}")
    return value
