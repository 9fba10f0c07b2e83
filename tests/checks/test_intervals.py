"""Intervals of group metrics: Wilson equals statsmodels, the bootstrap is seeded and covers.

The coverage tests simulate a few hundred data sets with known true values and count how often
the 90% interval holds the truth; they are sized to run in a few seconds.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.proportion import proportion_confint

from governance.evidence import Predictions
from governance.evidence_regression import RegressionPredictions
from governance.metrics.groupwise import aggregate, group_metric
from governance.metrics.intervals import (
    _POISSON_1,
    intervals,
    percentile_interval,
    replicates,
    wilson,
    z_value,
)


@pytest.mark.parametrize("confidence", [0.5, 0.8, 0.9, 0.95, 0.99, 0.999])
def test_wilson_equals_statsmodels(confidence):
    trials = np.repeat([1, 2, 7, 30, 41, 500, 12345], 9)
    successes = (trials * np.tile(np.linspace(0, 1, 9), 7)).round().astype(int)  # 0 to n, both ends included
    low, high = wilson(successes, trials, confidence)
    expected_low, expected_high = proportion_confint(successes, trials, alpha=1 - confidence, method="wilson")
    np.testing.assert_allclose(low, expected_low, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(high, expected_high, rtol=1e-12, atol=1e-15)


def test_wilson_of_no_trials_is_undefined():
    low, high = wilson(np.array([0]), np.array([0]), 0.95)
    assert np.isnan(low[0]) and np.isnan(high[0])


def test_z_value():
    assert z_value(0.95) == pytest.approx(1.959963984540054, rel=1e-12)


def binary(n: int, rng: np.random.Generator, rates=(0.3, 0.5)) -> Predictions:
    group = rng.choice(["a", "b"], n)
    truth = (rng.random(n) < np.where(group == "a", 0.4, 0.5)).astype(int)
    hit = rng.random(n) < np.where(group == "a", rates[0], rates[1])
    pred = np.where(truth == 1, hit, rng.random(n) < 0.2).astype(int)
    score = np.clip(0.5 * truth + rng.normal(0.25, 0.2, n), 0, 1)
    return Predictions(truth, pred, pd.DataFrame({"g": group}), y_score=score)


@pytest.mark.parametrize("metric", ["tpr", "fnr", "precision", "npv", "selection_rate", "accuracy"])
def test_group_intervals_of_rates_are_statsmodels_wilson(metric):
    predictions = binary(3000, np.random.default_rng(1))
    found = group_metric(metric, predictions, ["g"], 30)
    result = intervals(found, "min", 0.9, 200, 0)
    num, den = (found.stats[:, list(cells)].sum(axis=1) for cells in found.spec.rate)
    low, high = proportion_confint(num, den, alpha=0.1, method="wilson")
    np.testing.assert_allclose(result.low, low, rtol=1e-12)
    np.testing.assert_allclose(result.high, high, rtol=1e-12)
    assert result.aggregate == (pytest.approx(low.min()), pytest.approx(high.min()))


@pytest.mark.parametrize("metric", ["f1", "brier_score", "calibration_gap", "log_loss"])
def test_the_bootstrap_is_reproducible_from_the_seed(metric):
    predictions = binary(2000, np.random.default_rng(2))
    found = group_metric(metric, predictions, ["g"], 30)
    first, again = (intervals(found, "difference", 0.95, 500, 7) for _ in range(2))
    other = intervals(found, "difference", 0.95, 500, 8)
    assert first.aggregate == again.aggregate and np.array_equal(first.replicates, again.replicates)
    assert first.aggregate != other.aggregate
    low, high = first.aggregate
    assert low <= found.aggregate("difference") <= high


def test_the_bootstrap_does_not_depend_on_its_chunk_size(monkeypatch):
    import governance.metrics.intervals as module

    found = group_metric("brier_score", binary(1000, np.random.default_rng(3)), ["g"], 30)
    whole = replicates(found, found.included, 64, 5)
    monkeypatch.setattr(module, "CHUNK", 1000 * 8)  # 8 replicates per chunk
    chunked = replicates(found, found.included, 64, 5)
    assert chunked.shape == whole.shape == (64, 2)
    assert np.isfinite(chunked).all()
    # Each chunk draws its own numbers: the distributions agree, the draws need not.
    assert abs(chunked.mean() - whole.mean()) < 0.01


def test_the_poisson_table_is_poisson_one_to_two_to_the_minus_sixteen():
    shares = np.bincount(_POISSON_1.astype(int)) / len(_POISSON_1)
    exact = np.array([math.exp(-1) / math.factorial(k) for k in range(len(shares))])
    assert np.abs(shares - exact).max() <= 2**-16
    assert abs(shares @ np.arange(len(shares)) - 1) < 1e-4


def test_undefined_replicates_widen_the_interval():
    draws = np.array([[0.1], [0.2], [0.3], [np.nan]] * 25)
    low, high = percentile_interval(draws, 0.9)
    assert low[0] == -np.inf and high[0] == np.inf  # a quarter undefined: beyond alpha / 2 on both sides
    low, high = percentile_interval(np.array([[x] for x in np.linspace(0, 1, 101)]), 0.9)
    assert (low[0], high[0]) == (pytest.approx(0.05), pytest.approx(0.95))


def coverage(make, metric: str, how: str, truth: float, runs: int, samples: int) -> float:
    hits = 0
    for run in range(runs):
        found = group_metric(metric, make(np.random.default_rng(1000 + run)), ["g"], 1)
        low, high = intervals(found, how, 0.9, samples, run).aggregate
        hits += low <= truth <= high
    return hits / runs


def test_bootstrap_difference_of_rates_covers_at_the_nominal_rate():
    # TPR 0.6 in group a (n=150) and 0.75 in group b (n=250): true difference 0.15.
    def make(rng):
        group = np.array(["a"] * 150 + ["b"] * 250)
        hit = rng.random(400) < np.where(group == "a", 0.6, 0.75)
        return Predictions(np.ones(400, int), hit.astype(int), pd.DataFrame({"g": group}))

    rate = coverage(make, "tpr", "difference", 0.15, runs=400, samples=400)
    assert 0.86 <= rate <= 0.94, rate  # 90% nominal; 400 runs: standard error 0.015


def test_poisson_bootstrap_of_a_mean_metric_covers_at_the_nominal_rate():
    # Regression errors ~ |N(0, 1)| in group a and |N(0, 2)| in group b: MAE difference sqrt(2/pi).
    def make(rng):
        group = np.array(["a"] * 120 + ["b"] * 180)
        target = rng.normal(size=300)
        noise = rng.normal(size=300) * np.where(group == "a", 1.0, 2.0)
        return RegressionPredictions(target, target + noise, pd.DataFrame({"g": group}))

    rate = coverage(make, "mae", "difference", math.sqrt(2 / math.pi), runs=300, samples=300)
    assert 0.85 <= rate <= 0.95, rate  # 90% nominal; 300 runs: standard error 0.017


def test_wilson_intervals_cover_at_the_nominal_rate():
    rng = np.random.default_rng(4)
    successes = rng.binomial(60, 0.2, size=4000)
    low, high = wilson(successes, np.full(4000, 60), 0.9)
    assert 0.88 <= np.mean((low <= 0.2) & (0.2 <= high)) <= 0.93


def test_aggregate_helper_on_replicates():
    values = np.array([[0.2, 0.5], [0.4, np.nan]])
    assert aggregate(values, "difference")[0] == pytest.approx(0.3)
    assert np.isnan(aggregate(values, "ratio")[1])
