"""Performance checks: a classification metric of the ``predictions`` evidence within bounds.

The numbers equal scikit-learn's default-argument metrics (see
:mod:`governance.metrics.performance`).
"""

from __future__ import annotations

import math
from typing import Literal

from pydantic import Field, model_validator

from governance.checks.base import Check, CheckParams, Outcome, register
from governance.errors import MissingEvidence
from governance.evidence import Evidence
from governance.metrics.performance import performance_metric


@register("performance.metric")
class PerformanceMetric(Check):
    """A performance metric (accuracy, balanced accuracy, precision, recall, F1, ROC AUC) is at least `min` and/or at most `max`."""

    stages = ("evaluate", "optimize", "monitor")

    class Params(CheckParams):
        metric: Literal["accuracy", "balanced_accuracy", "precision", "recall", "f1", "roc_auc"]
        # Every metric offered is a share or a probability.
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
        predictions = evidence.require("predictions")
        if params.metric == "roc_auc" and predictions.y_score is None:
            raise MissingEvidence("predictions.y_score", "roc_auc needs prediction scores")
        value = performance_metric(params.metric, predictions.y_true, predictions.y_pred, predictions.y_score)
        if math.isnan(value):  # NaN compares false with any bound; an undefined metric must not pass
            raise ValueError(f"{params.metric} is undefined: y_true holds a single class")
        problems = []
        if params.min is not None and value < params.min:
            problems.append(f"below min {params.min}")
        if params.max is not None and value > params.max:
            problems.append(f"above max {params.max}")
        bounds = {k: v for k, v in (("min", params.min), ("max", params.max)) if v is not None}
        within = ", ".join(f"{k} {v}" for k, v in bounds.items())
        message = f"{params.metric} {value:.4g} " + (" and ".join(problems) if problems else f"within {within}")
        evidence_ = {"metric": params.metric, "value": value, "rows": int(len(predictions.y_true)), **bounds}
        return Outcome(not problems, message, observed=value, threshold=bounds, evidence=evidence_)
