"""Optimization checks: a compressed (LiteRT) variant against its parent model.

Compression can cost accuracy, and can cost some groups more than others; it should also pay
for itself in size or speed. Each check compares the variant's evidence (``predictions``,
``model_stats``) with the parent's (``parent_predictions``, ``parent_stats``) from the same rows.

Per task: ``optimize.accuracy_drop`` and ``optimize.fairness_gap_increase`` compare classifiers
(binary, or multiclass with worst-class gaps); ``optimize.error_increase`` compares errors
(``log_loss`` of classifiers, ``mae``/``rmse`` of regression models) and the regression gaps
between groups (``mae_difference``, ``rmse_difference``, ``mean_prediction_difference``). A
check given predictions of a task it does not compare raises, naming the check that does.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import Field, model_validator

from governance.checks.base import Check, CheckParams, Outcome, register
from governance.errors import MissingEvidence
from governance.evidence import Evidence, Predictions, task_of
from governance.io import missing_column_message
from governance.vocabulary import DEFAULT_MIN_GROUP_SIZE

STAGES = ("optimize",)
GapMetric = Literal["demographic_parity_difference", "equalized_odds_difference", "equal_opportunity_difference"]
ErrorMetric = Literal["log_loss", "mae", "rmse", "mae_difference", "rmse_difference", "mean_prediction_difference"]
GAPS = ("mae_difference", "rmse_difference", "mean_prediction_difference")
NOT_COMPARED = "{check} compares {what}, which {task} predictions do not have; use {instead}"


def _paired(evidence: Evidence, check: str | None = None, tasks: tuple[str, ...] = (), what: str = "",
            instead: str = "") -> tuple[Predictions, Predictions]:
    """Parent and variant predictions, which must describe the same rows (and, if given, fit ``tasks``)."""
    parent, variant = evidence.require("parent_predictions"), evidence.require("predictions")
    task = task_of(variant)
    if task != task_of(parent):
        raise ValueError(f"parent predictions are {task_of(parent)} but the variant's are {task}")
    if tasks and task not in tasks:
        raise ValueError(NOT_COMPARED.format(check=check, what=what, task=task, instead=instead))
    same_classes = task != "multiclass" or np.array_equal(parent.classes, variant.classes)
    if len(parent.y_true) != len(variant.y_true) or not np.array_equal(parent.y_true, variant.y_true) \
            or not same_classes:
        raise ValueError(
            f"parent and variant predictions are not on the same rows "
            f"({len(parent.y_true)} vs {len(variant.y_true)} labels, or different labels)"
        )
    return parent, variant


def _correct(predictions: Predictions) -> int:
    if len(predictions.y_true) == 0:
        raise ValueError("no predictions to compare")
    return int(np.count_nonzero(predictions.y_true == predictions.y_pred))


@register("optimize.accuracy_drop")
class AccuracyDrop(Check):
    """The variant's accuracy is at most `max` below its parent's on the same rows."""

    stages = STAGES

    class Params(CheckParams):
        max: float = Field(0.01, ge=0, le=1)

    def evaluate(self, evidence: Evidence, params: Params) -> Outcome:
        parent, variant = _paired(evidence, self.name, ("binary", "multiclass"), "accuracy",
                                  "optimize.error_increase with metric mae or rmse")
        rows = len(variant.y_true)
        before, after = _correct(parent) / rows, _correct(variant) / rows
        # From the counts: 4 of 400 rows is a drop of exactly 0.01, not 1.0 - 0.99 = 0.0100...09.
        drop = (_correct(parent) - _correct(variant)) / rows  # negative: the variant is more accurate
        message = f"accuracy {before:.4f} -> {after:.4f} (drop {drop:+.4f}, max {params.max:g})"
        return Outcome(drop <= params.max, message, observed=drop, threshold=params.max,
                       evidence={"parent_accuracy": before, "variant_accuracy": after, "rows": rows})


@register("optimize.fairness_gap_increase")
class FairnessGapIncrease(Check):
    """The variant's fairness gap between groups exceeds its parent's by at most `max` (multiclass: the worst class)."""

    stages = STAGES

    class Params(CheckParams):
        metric: GapMetric
        sensitive_features: list[str] = Field(min_length=1)
        max: float = Field(0.02, ge=0, le=1)
        min_group_size: int = Field(DEFAULT_MIN_GROUP_SIZE, ge=1)

    def evaluate(self, evidence: Evidence, params: Params) -> Outcome:
        parent, variant = _paired(evidence, self.name, ("binary", "multiclass"), "selection and positive rates",
                                  "optimize.error_increase with metric mae_difference or mean_prediction_difference")
        gaps, excluded = _gaps(parent, variant, params)
        increase = gaps["variant"] - gaps["parent"]
        message = (
            f"{params.metric} {gaps['parent']:.4f} -> {gaps['variant']:.4f} "
            f"(increase {increase:+.4f}, max {params.max:g})"
        )
        return Outcome(increase <= params.max, message, observed=increase, threshold=params.max,
                       evidence={"metric": params.metric, "parent_gap": gaps["parent"],
                                 "variant_gap": gaps["variant"], "excluded_groups": excluded})


@register("optimize.error_increase")
class ErrorIncrease(Check):
    """The variant's error (`log_loss`, `mae`, `rmse`) or regression error gap between groups (`mae_difference`, `rmse_difference`, `mean_prediction_difference`) exceeds its parent's by at most `max`."""

    stages = STAGES

    class Params(CheckParams):
        metric: ErrorMetric
        # In the metric's own units (the target's for MAE and RMSE): no upper limit.
        max: float = Field(ge=0)
        sensitive_features: list[str] | None = Field(None, min_length=1)
        min_group_size: int = Field(DEFAULT_MIN_GROUP_SIZE, ge=1)

        @model_validator(mode="after")
        def _features_for_gaps(self):
            if self.metric in GAPS and not self.sensitive_features:
                raise ValueError(f"metric '{self.metric}' compares groups: give sensitive_features")
            if self.metric not in GAPS and self.sensitive_features:
                raise ValueError(f"metric '{self.metric}' is not a gap between groups: remove sensitive_features")
            return self

    def evaluate(self, evidence: Evidence, params: Params) -> Outcome:
        from governance.checks.performance import measure

        gap = params.metric in GAPS
        tasks = ("regression",) if gap or params.metric != "log_loss" else ("binary", "multiclass")
        parent, variant = _paired(evidence, self.name, tasks, params.metric,
                                  "optimize.accuracy_drop or optimize.fairness_gap_increase")
        if gap:
            values, excluded = _gaps(parent, variant, params)
        else:
            values = {"parent": measure(parent, params.metric), "variant": measure(variant, params.metric)}
            excluded = None
        increase = values["variant"] - values["parent"]
        message = (f"{params.metric} {values['parent']:.4g} -> {values['variant']:.4g} "
                   f"(increase {increase:+.4g}, max {params.max:g})")
        found = {"metric": params.metric, "parent": values["parent"], "variant": values["variant"],
                 "rows": len(variant.y_true)}
        if excluded is not None:
            found["excluded_groups"] = excluded
        return Outcome(increase <= params.max, message, observed=increase, threshold=params.max, evidence=found)


def _gaps(parent: Predictions, variant: Predictions, params) -> tuple[dict[str, float], dict[str, list]]:
    """The gap ``params.metric`` of parent and variant, and each one's excluded groups."""
    # Imported here: the fairness module is only needed when a policy compares variants.
    from governance.metrics.fairness_tasks import report_for

    gaps, excluded = {}, {}
    for name, preds in (("parent", parent), ("variant", variant)):
        _sensitive(preds, params.sensitive_features, name)
        report = report_for(preds, params.sensitive_features, params.min_group_size)
        # As in the fairness checks: a gap needs two groups, and comparing nothing must not pass.
        if len(report.included) < 2:
            raise ValueError(
                f"{params.metric} of the {name} needs two groups of "
                f"{', '.join(params.sensitive_features)} with {params.min_group_size} rows; "
                f"found {len(report.included)}"
            )
        gaps[name], excluded[name] = float(report.metrics[params.metric]), report.excluded
        if np.isnan(gaps[name]):
            raise ValueError(f"{params.metric} of the {name} is undefined")
    return gaps, excluded


def _sensitive(predictions: Predictions, features: list[str], name: str):
    available = [str(c) for c in predictions.sensitive.columns]
    for feature in features:
        if feature not in available:
            piece = "parent_predictions" if name == "parent" else "predictions"
            raise ValueError(f"{piece}: sensitive {missing_column_message(feature, available)}")
    return predictions.sensitive[features]


def _stat(evidence: Evidence, piece: str, key: str) -> float:
    stats = evidence.require(piece)
    value = stats.get(key)
    if value is None:
        raise MissingEvidence(piece, f"no '{key}'")
    return float(value)


def _ratio_outcome(evidence: Evidence, key: str, limit: float, what: str) -> Outcome:
    variant, parent = _stat(evidence, "model_stats", key), _stat(evidence, "parent_stats", key)
    if not parent > 0:
        raise ValueError(f"parent {key} must be positive to compare against, got {parent}")
    ratio = variant / parent
    message = f"{what} {variant:g} vs parent {parent:g}: ratio {ratio:.3f} (max {limit:g})"
    return Outcome(ratio <= limit, message, observed=ratio, threshold=limit,
                   evidence={key: {"variant": variant, "parent": parent}, "ratio": ratio})


@register("optimize.size_ratio")
class SizeRatio(Check):
    """The variant's file is at most `max` times the size of its parent's."""

    stages = STAGES

    class Params(CheckParams):
        max: float = Field(0.5, gt=0)

    def evaluate(self, evidence: Evidence, params: Params) -> Outcome:
        return _ratio_outcome(evidence, "size_bytes", params.max, "size (bytes)")


@register("optimize.latency_ratio")
class LatencyRatio(Check):
    """The variant's latency is at most `max` times its parent's."""

    stages = STAGES

    class Params(CheckParams):
        max: float = Field(2.0, gt=0)

    def evaluate(self, evidence: Evidence, params: Params) -> Outcome:
        return _ratio_outcome(evidence, "latency_ms", params.max, "latency (ms)")

