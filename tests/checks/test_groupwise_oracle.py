"""Every metric of ``fairness.group_metric`` equals fairlearn's MetricFrame with scikit-learn's function.

Per group (intersectional groups included), and for each aggregate over the groups that meet
``min_group_size`` (the excluded groups' rows are left out of fairlearn's frame too), to 1e-9.
"""

from __future__ import annotations

import functools
import warnings

import numpy as np
import pandas as pd
import pytest
from fairlearn.metrics import (
    MetricFrame,
    false_negative_rate,
    false_positive_rate,
    selection_rate,
    true_negative_rate,
    true_positive_rate,
)
from sklearn.metrics import (
    accuracy_score,
    balanced_accuracy_score,
    brier_score_loss,
    f1_score,
    log_loss,
    mean_absolute_error,
    precision_score,
    root_mean_squared_error,
)

from governance.evidence import Predictions
from governance.evidence_regression import RegressionPredictions
from governance.metrics.groupwise import AGGREGATES, METRICS, group_metric

ORACLES = {
    "selection_rate": selection_rate,
    "accuracy": accuracy_score,
    "balanced_accuracy": balanced_accuracy_score,
    "tpr": true_positive_rate,
    "fnr": false_negative_rate,
    "fpr": false_positive_rate,
    "tnr": true_negative_rate,
    "precision": precision_score,
    "npv": functools.partial(precision_score, pos_label=0),
    "f1": f1_score,
    "log_loss": functools.partial(log_loss, labels=[0, 1]),
    "brier_score": brier_score_loss,
    # No library function: the definitions documented in governance/metrics/groupwise.py.
    "calibration_gap": lambda y, s: abs(np.mean(s) - np.mean(y)),
    "mean_score": lambda y, s: np.mean(s),
    "mae": mean_absolute_error,
    "rmse": root_mean_squared_error,
    "mean_prediction": lambda y, p: np.mean(p),
    "mean_target": lambda y, p: np.mean(y),
}
TOL = dict(rel=1e-9, abs=1e-12)


def sensitive(n: int, rng: np.random.Generator) -> pd.DataFrame:
    """sex x race, with a 12-row race group that is excluded at min_group_size 30."""
    race = rng.choice(["White", "Black", "Asian"], n, p=[0.6, 0.3, 0.1])
    race[:12] = "Other"
    return pd.DataFrame({"sex": rng.choice(["Female", "Male"], n, p=[0.4, 0.6]), "race": race})


@pytest.fixture(scope="module")
def binary() -> Predictions:
    rng = np.random.default_rng(7)
    n = 4000
    groups = sensitive(n, rng)
    base = np.where(groups["sex"] == "Male", 0.35, 0.25) + np.where(groups["race"] == "Black", -0.1, 0.0)
    y_true = (rng.random(n) < base).astype(int)
    score = np.clip(0.6 * y_true + rng.normal(0.2, 0.2, n), 0, 1)
    score[5] = 0.0  # log loss clips exact 0 and 1 as scikit-learn does
    score[6] = 1.0
    y_true[:12] = [0, 1] * 6  # the small group has both classes, so every metric is defined there
    y_pred = (score >= 0.5).astype(int)
    y_pred[:12] = [1, 0, 0, 1] * 3
    return Predictions(y_true, y_pred, groups, y_score=score)


@pytest.fixture(scope="module")
def regression() -> RegressionPredictions:
    rng = np.random.default_rng(8)
    n = 3000
    groups = sensitive(n, rng)
    target = rng.normal(50, 10, n) + np.where(groups["sex"] == "Male", 5.0, 0.0)
    return RegressionPredictions(target, target + rng.normal(1.0, 4.0, n), groups)


def _frame(name: str, predictions, features: list[str], rows: np.ndarray | None = None) -> MetricFrame:
    spec = METRICS[name]
    output = predictions.y_score if spec.needs_scores else predictions.y_pred
    keep = slice(None) if rows is None else rows
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return MetricFrame(metrics=ORACLES[name], y_true=np.asarray(predictions.y_true)[keep],
                           y_pred=np.asarray(output)[keep],
                           sensitive_features=predictions.sensitive[features].iloc[keep])


def assert_equals_fairlearn(name: str, predictions, features: list[str], min_group_size: int, oracle=None) -> None:
    """``oracle``: the predictions fairlearn is given, when they are not ``predictions`` as they are."""
    ours = group_metric(name, predictions, features, min_group_size)
    oracle = predictions if oracle is None else oracle
    frame = _frame(name, oracle, features)
    expected = frame.by_group.dropna()
    assert len(expected) == len(ours.value)
    for i in range(len(ours.value)):
        key = tuple(ours.group(i)[f] for f in features)
        assert ours.value[i] == pytest.approx(expected.loc[key if len(key) > 1 else key[0]], **TOL), (name, key)
        assert ours.count[i] == int((predictions.sensitive[features] == list(key)).all(axis=1).sum())
    included_rows = ~ours.excluded[ours.group_id]
    assert (~included_rows).sum() == (12 if min_group_size == 30 and "race" in features else 0)
    kept = _frame(name, oracle, features, np.flatnonzero(included_rows))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fairlearn_aggregates = {"difference": kept.difference(), "ratio": kept.ratio(),
                                "min": kept.group_min(), "max": kept.group_max()}
    for how in AGGREGATES:
        assert ours.aggregate(how) == pytest.approx(fairlearn_aggregates[how], **TOL), (name, how)


BINARY = [name for name, spec in METRICS.items() if spec.task == "binary"]
REGRESSION = [name for name, spec in METRICS.items() if spec.task == "regression"]


def test_the_oracle_table_covers_every_metric():
    assert set(ORACLES) == set(METRICS)


GROUPINGS = [(["sex"], 30), (["race"], 30), (["sex", "race"], 30), (["sex", "race"], 1)]


@pytest.mark.parametrize("features, min_group_size", GROUPINGS, ids=lambda v: "+".join(v) if isinstance(v, list) else str(v))
@pytest.mark.parametrize("name", BINARY)
def test_binary_metric_equals_fairlearn(binary, name, features, min_group_size):
    assert_equals_fairlearn(name, binary, features, min_group_size)


@pytest.mark.parametrize("name", BINARY)
def test_a_favourable_negative_label_is_fairlearns_pos_label(binary, name):
    # Credit: "no default" (0) is the outcome people want; selection is being given it.
    favourable = Predictions(binary.y_true, binary.y_pred, binary.sensitive, y_score=binary.y_score, favorable_label=0)
    as_positive = Predictions(1 - binary.y_true, 1 - binary.y_pred, binary.sensitive, y_score=1 - binary.y_score)
    assert_equals_fairlearn(name, favourable, ["sex", "race"], 30, oracle=as_positive)


@pytest.mark.parametrize("features, min_group_size", GROUPINGS[2:], ids=lambda v: "+".join(v) if isinstance(v, list) else str(v))
@pytest.mark.parametrize("name", REGRESSION)
def test_regression_metric_equals_fairlearn(regression, name, features, min_group_size):
    assert_equals_fairlearn(name, regression, features, min_group_size)


def test_a_zero_denominator_is_undefined_where_scikit_learn_says_zero():
    y_true = np.array([0] * 40 + [1] * 20 + [0] * 20)
    predictions = Predictions(y_true, y_true, pd.DataFrame({"g": ["a"] * 40 + ["b"] * 40}))
    tpr = group_metric("tpr", predictions, ["g"], 30)
    assert np.isnan(tpr.value[0]) and tpr.value[1] == 1.0
    assert tpr.undefined_groups() == [{"g": "a"}]
    assert np.isnan(tpr.aggregate("difference"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert true_positive_rate(y_true[:40], y_true[:40]) == 0.0  # fairlearn's convention, refused here
