"""Optimization checks: a compressed (LiteRT) variant against its parent model.

Compression can cost accuracy, and can cost some groups more than others; it should also pay
for itself in size or speed. Each check compares the variant's evidence (``predictions``,
``model_stats``) with the parent's (``parent_predictions``, ``parent_stats``) from the same rows.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import Field

from governance.checks.base import Check, CheckParams, Outcome, register
from governance.errors import MissingEvidence
from governance.evidence import Evidence, Predictions
from governance.io import missing_column_message

STAGES = ("optimize",)
GapMetric = Literal["demographic_parity_difference", "equalized_odds_difference", "equal_opportunity_difference"]


def _paired(evidence: Evidence) -> tuple[Predictions, Predictions]:
    """Parent and variant predictions, which must describe the same rows."""
    parent, variant = evidence.require("parent_predictions"), evidence.require("predictions")
    if len(parent.y_true) != len(variant.y_true) or not np.array_equal(parent.y_true, variant.y_true):
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
        parent, variant = _paired(evidence)
        rows = len(variant.y_true)
        before, after = _correct(parent) / rows, _correct(variant) / rows
        # From the counts: 4 of 400 rows is a drop of exactly 0.01, not 1.0 - 0.99 = 0.0100...09.
        drop = (_correct(parent) - _correct(variant)) / rows  # negative: the variant is more accurate
        message = f"accuracy {before:.4f} -> {after:.4f} (drop {drop:+.4f}, max {params.max:g})"
        return Outcome(drop <= params.max, message, observed=drop, threshold=params.max,
                       evidence={"parent_accuracy": before, "variant_accuracy": after, "rows": rows})


@register("optimize.fairness_gap_increase")
class FairnessGapIncrease(Check):
    """The variant's fairness gap between groups exceeds its parent's by at most `max`."""

    stages = STAGES

    class Params(CheckParams):
        metric: GapMetric
        sensitive_features: list[str] = Field(min_length=1)
        max: float = Field(0.02, ge=0, le=1)
        min_group_size: int = Field(30, ge=1)

    def evaluate(self, evidence: Evidence, params: Params) -> Outcome:
        # Imported here: the fairness module is only needed when a policy compares variants.
        from governance.metrics.fairness import fairness_report

        parent, variant = _paired(evidence)
        gaps, excluded = {}, {}
        for name, preds in (("parent", parent), ("variant", variant)):
            sensitive = _sensitive(preds, params.sensitive_features, name)
            report = fairness_report(preds.y_true, preds.y_pred, sensitive, params.min_group_size)
            # As in the fairness checks: a gap needs two groups, and comparing nothing must not pass.
            if len(report.included) < 2:
                raise ValueError(
                    f"{params.metric} of the {name} needs two groups of "
                    f"{', '.join(params.sensitive_features)} with {params.min_group_size} rows; "
                    f"found {len(report.included)}"
                )
            gaps[name], excluded[name] = float(report.metrics[params.metric]), report.excluded
        increase = gaps["variant"] - gaps["parent"]
        message = (
            f"{params.metric} {gaps['parent']:.4f} -> {gaps['variant']:.4f} "
            f"(increase {increase:+.4f}, max {params.max:g})"
        )
        return Outcome(increase <= params.max, message, observed=increase, threshold=params.max,
                       evidence={"metric": params.metric, "parent_gap": gaps["parent"],
                                 "variant_gap": gaps["variant"], "excluded_groups": excluded})


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

