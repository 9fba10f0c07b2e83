"""Optimization checks: a LiteRT variant against its parent (accuracy, fairness gap, size, latency)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

from governance.checks.base import get_check
from governance.evidence import Evidence
from governance.vocabulary import Status

from .cases import paired, predictions
from .support import family_cases, run_rule

GAP = {"metric": "equal_opportunity_difference", "sensitive_features": ["sex"]}


@pytest.mark.parametrize("name, factory, params, expected", family_cases("optimize"))
def test_table_through_the_engine(name, factory, params, expected):
    finding = run_rule(name, factory(), params)
    assert finding.status is (Status.PASSED if expected else Status.FAILED), finding.message


@pytest.mark.parametrize("check, params, piece", [
    ("optimize.accuracy_drop", {}, "parent_predictions"),
    ("optimize.fairness_gap_increase", GAP, "parent_predictions"),
    ("optimize.size_ratio", {}, "model_stats"),
    ("optimize.latency_ratio", {}, "model_stats"),
])
def test_missing_evidence_is_an_error(check, params, piece):
    finding = run_rule(check, Evidence(), params)
    assert finding.status is Status.ERROR
    assert finding.message == f"missing evidence '{piece}' at stage 'optimize'"


def test_accuracy_drop_value():
    finding = run_rule("optimize.accuracy_drop", paired(flip_variant=6))
    assert finding.observed == pytest.approx(6 / 400)
    assert finding.evidence == {"parent_accuracy": 1.0, "variant_accuracy": 394 / 400, "rows": 400}
    assert finding.status is Status.FAILED


def test_a_more_accurate_variant_has_a_negative_drop():
    ev = paired(flip_variant=8)
    ev = Evidence(parent_predictions=ev.require("predictions"), predictions=ev.require("parent_predictions"))
    finding = run_rule("optimize.accuracy_drop", ev, {"max": 0})
    assert finding.observed == pytest.approx(-8 / 400) and finding.status is Status.PASSED


def test_predictions_on_different_rows_are_an_error():
    ev = paired()
    shorter = predictions(np.array([1, 0]), np.array([1, 0]), np.array(["Male", "Female"]))
    finding = run_rule("optimize.accuracy_drop", ev.with_(predictions=shorter))
    assert finding.status is Status.ERROR and "not on the same rows" in finding.message


def test_gap_increase_equals_the_difference_of_fairness_reports():
    from governance.metrics.fairness import fairness_report

    ev = paired(flip_variant=20, flip_female_positives=7)
    gaps = {}
    for piece in ("parent_predictions", "predictions"):
        p = ev.require(piece)
        gaps[piece] = fairness_report(p.y_true, p.y_pred, p.sensitive[["sex"]], 30).metrics
    for metric in ("demographic_parity_difference", "equalized_odds_difference", "equal_opportunity_difference"):
        finding = run_rule("optimize.fairness_gap_increase", ev, {**GAP, "metric": metric, "max": 1.0})
        expected = gaps["predictions"][metric] - gaps["parent_predictions"][metric]
        assert finding.observed == pytest.approx(expected, abs=1e-15), metric
        assert finding.evidence["parent_gap"] == pytest.approx(gaps["parent_predictions"][metric])


def test_gap_in_the_female_tpr_is_visible():
    # Parent: TPR 1 for both groups. Variant: 10 of 34 women with the positive label are missed.
    finding = run_rule("optimize.fairness_gap_increase", paired(flip_female_positives=10), GAP)
    assert finding.observed == pytest.approx(10 / 34)
    assert finding.message.startswith("equal_opportunity_difference 0.0000 -> 0.2941")


def test_small_groups_are_excluded_and_fewer_than_two_groups_is_an_error():
    ev = paired()
    finding = run_rule("optimize.fairness_gap_increase", ev, {**GAP, "min_group_size": 200})
    assert finding.status is Status.ERROR and "needs two groups of sex with 200 rows; found 1" in finding.message


def test_sensitive_column_absent_is_an_error():
    finding = run_rule("optimize.fairness_gap_increase", paired(), {**GAP, "sensitive_features": ["race"]})
    assert finding.status is Status.ERROR
    assert "parent_predictions: sensitive no column 'race'" in finding.message


def test_intersectional_groups():
    ev = paired()
    race = np.where(np.arange(400) % 5 == 0, "Black", "White")
    for piece in ("parent_predictions", "predictions"):
        p = ev.require(piece)
        p.sensitive = pd.DataFrame({"sex": p.sensitive["sex"], "race": race})
    finding = run_rule("optimize.fairness_gap_increase", ev,
                       {**GAP, "sensitive_features": ["sex", "race"], "min_group_size": 20})
    assert finding.status is Status.PASSED and finding.observed == 0.0


def test_ratios():
    ev = Evidence(model_stats={"size_bytes": 30_000, "latency_ms": 0.5},
                  parent_stats={"size_bytes": 100_000, "latency_ms": 0.25})
    size = run_rule("optimize.size_ratio", ev, {"max": 0.3})
    assert size.status is Status.PASSED and size.observed == pytest.approx(0.3)
    latency = run_rule("optimize.latency_ratio", ev, {"max": 1.5})
    assert latency.status is Status.FAILED and latency.observed == pytest.approx(2.0)
    assert latency.evidence == {"latency_ms": {"variant": 0.5, "parent": 0.25}, "ratio": 2.0}


def test_ratio_edge_cases_are_errors():
    no_key = Evidence(model_stats={"size_bytes": 10}, parent_stats={"size_bytes": 100})
    finding = run_rule("optimize.latency_ratio", no_key)
    assert finding.status is Status.ERROR and finding.message == "missing evidence 'model_stats': no 'latency_ms' at stage 'optimize'"
    zero = Evidence(model_stats={"size_bytes": 10}, parent_stats={"size_bytes": 0})
    finding = run_rule("optimize.size_ratio", zero)
    assert finding.status is Status.ERROR and "parent size_bytes must be positive" in finding.message


@pytest.mark.parametrize("check, params", [
    ("optimize.accuracy_drop", {"max": -0.1}),
    ("optimize.fairness_gap_increase", {**GAP, "metric": "demographic_parity_ratio"}),
    ("optimize.fairness_gap_increase", {"metric": "equal_opportunity_difference"}),
    ("optimize.size_ratio", {"max": 0}),
    ("optimize.latency_ratio", {"max": -1}),
])
def test_params_are_validated(check, params):
    with pytest.raises(ValidationError):
        get_check(check).Params(**params)
