"""Fairness numbers of every task equal fairlearn's ``MetricFrame`` with scikit-learn metrics, per group.

Binary with a favourable label that is not the positive one, multiclass (one-vs-rest per class,
worst class) and regression (MAE, RMSE, mean prediction, mean target), on the bundled Adult data
and on random data: single and intersectional groups, small groups excluded, to 1e-9.
"""

from __future__ import annotations

import warnings
from functools import partial

import numpy as np
import pandas as pd
import pytest
from fairlearn.metrics import (
    MetricFrame,
    demographic_parity_difference,
    demographic_parity_ratio,
    equal_opportunity_difference,
    equalized_odds_difference,
    false_positive_rate,
    selection_rate,
    true_positive_rate,
)
from sklearn.metrics import accuracy_score, mean_absolute_error, root_mean_squared_error

import rai

from .support import adult_tasks, group_key, random_multiclass, random_regression, rows_of_included_groups

TOL = dict(rel=1e-9, abs=1e-12)
# The whole Adult test split through fairlearn takes seconds per case: one case per task stays in
# the fast suite (random data covers intersections and excluded groups there), the rest are slow.


def SLOW(*values):  # noqa: N802 - reads as a marker in a parameter table
    return pytest.param(*values, marks=pytest.mark.slow)

FAIRLEARN_GAPS = {
    "demographic_parity_difference": demographic_parity_difference,
    "demographic_parity_ratio": demographic_parity_ratio,
    "equalized_odds_difference": equalized_odds_difference,
    "equal_opportunity_difference": equal_opportunity_difference,
}


def _frame(metrics, y_true, y_pred, sensitive) -> MetricFrame:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # single-class groups warn in scikit-learn; the values still compare
        return MetricFrame(metrics=metrics, y_true=y_true, y_pred=y_pred, sensitive_features=sensitive)


# --- binary, favourable label = the negative one ----------------------------------------------


def assert_binary_favorable_equals_fairlearn(y_true, y_pred, sensitive, min_group_size, favorable):
    """Every number equals fairlearn's with pos_label = the favourable label."""
    report = rai.fairness_report(y_true, y_pred, sensitive, min_group_size=min_group_size, favorable_label=favorable)
    assert report.favorable == ("positive" if favorable == 1 else "negative")
    rates = {"selection_rate": partial(selection_rate, pos_label=favorable), "accuracy": accuracy_score,
             "tpr": partial(true_positive_rate, pos_label=favorable),
             "fpr": partial(false_positive_rate, pos_label=favorable)}
    expected = _frame(rates, y_true, y_pred, sensitive).by_group.dropna(how="all")
    features = report.sensitive_features
    assert len(report.groups) == len(expected)
    for row in report.groups.to_dict("records"):
        for rate in rates:
            assert row[rate] == pytest.approx(expected.loc[group_key(row, features), rate], **TOL), rate
    keep = rows_of_included_groups(report, sensitive)
    if keep.any():
        kept = _frame(rates, y_true[keep], y_pred[keep], sensitive[keep])
        diff, ratio = kept.difference(), kept.ratio()
        assert report.metrics["demographic_parity_difference"] == pytest.approx(diff["selection_rate"], **TOL)
        assert report.metrics["demographic_parity_ratio"] == pytest.approx(ratio["selection_rate"], nan_ok=True, **TOL)
        assert report.metrics["equal_opportunity_difference"] == pytest.approx(diff["tpr"], **TOL)
        assert report.metrics["equalized_odds_difference"] == pytest.approx(max(diff["tpr"], diff["fpr"]), **TOL)
    return report


@pytest.mark.parametrize("features, min_group_size", [(["sex"], 30), SLOW(["race"], 200), SLOW(["sex", "race"], 100)])
@pytest.mark.parametrize("favorable", [0, 1])
def test_binary_favourable_label_on_adult_equals_fairlearn(features, min_group_size, favorable):
    data = adult_tasks()
    report = assert_binary_favorable_equals_fairlearn(
        data["bin_true"].to_numpy(), data["bin_pred"].to_numpy(), data[features], min_group_size, favorable)
    if len(features) == 2:
        assert report.excluded  # intersections under 100 rows are listed and left out


def test_favourable_negative_keeps_accuracy_and_equalized_odds():
    data = adult_tasks()
    args = (data["bin_true"], data["bin_pred"], data[["race"]])
    positive, negative = rai.fairness_report(*args), rai.fairness_report(*args, favorable_label=0)
    assert positive.metrics["equalized_odds_difference"] == pytest.approx(negative.metrics["equalized_odds_difference"])
    assert list(positive.groups["accuracy"]) == list(negative.groups["accuracy"])
    np.testing.assert_allclose(negative.groups["selection_rate"], 1 - positive.groups["selection_rate"])
    assert negative.metrics["demographic_parity_ratio"] != positive.metrics["demographic_parity_ratio"]


@pytest.mark.parametrize("seed", range(8))
def test_binary_favourable_random_equals_fairlearn(seed):
    rng = np.random.default_rng(100 + seed)
    n = int(rng.integers(10, 400))
    sensitive = pd.DataFrame({"a": rng.choice(list("pqrs"), n, p=[0.6, 0.3, 0.08, 0.02]), "b": rng.integers(0, 3, n)})
    y_true, y_pred = (rng.random(n) < rng.random()).astype(int), (rng.random(n) < rng.random()).astype(int)
    features = [["a"], ["b"], ["a", "b"]][seed % 3]
    assert_binary_favorable_equals_fairlearn(y_true, y_pred, sensitive[features], int(rng.integers(1, 20)), 0)


# --- multiclass -------------------------------------------------------------------------------


def assert_multiclass_equals_fairlearn(y_true, y_pred, sensitive, min_group_size, favorable=None):
    report = rai.fairness_report(y_true, y_pred, sensitive, task="multiclass", min_group_size=min_group_size,
                                 favorable_label=favorable)
    features = report.sensitive_features
    accuracy = _frame({"accuracy": accuracy_score, "count": lambda t, p: len(t)}, y_true, y_pred,
                      sensitive).by_group.dropna(how="all")
    assert len(report.groups) == len(accuracy)
    for row in report.groups.to_dict("records"):
        key = group_key(row, features)
        assert row["accuracy"] == pytest.approx(accuracy.loc[key, "accuracy"], **TOL)
        assert row["count"] == accuracy.loc[key, "count"]
        assert row["excluded"] == (row["count"] < min_group_size)
    rates = {"selection_rate": selection_rate, "tpr": true_positive_rate, "fpr": false_positive_rate}
    for label in report.classes:
        expected = _frame(rates, y_true == label, y_pred == label, sensitive).by_group.dropna(how="all")
        ours = report.by_class[report.by_class["class"] == label]
        assert len(ours) == len(expected)
        for row in ours.to_dict("records"):
            for rate in rates:
                assert row[rate] == pytest.approx(expected.loc[group_key(row, features), rate], **TOL), (label, rate)
    keep = rows_of_included_groups(report, sensitive)
    chosen = report.classes if favorable is None else [favorable]
    if not keep.any():
        assert all(np.isnan(report.metrics[name]) for name in FAIRLEARN_GAPS)
        return report
    gaps = {name: [] for name in FAIRLEARN_GAPS}
    for label in chosen:  # one MetricFrame per class over the rows of the included groups
        kept = _frame(rates, y_true[keep] == label, y_pred[keep] == label, sensitive[keep])
        diff, ratio = kept.difference(), kept.ratio()
        gaps["demographic_parity_difference"].append(diff["selection_rate"])
        gaps["demographic_parity_ratio"].append(ratio["selection_rate"])
        gaps["equalized_odds_difference"].append(max(diff["tpr"], diff["fpr"]))
        gaps["equal_opportunity_difference"].append(diff["tpr"])
    for name, values in gaps.items():
        per_class = np.array(values, dtype=float)
        if name == "demographic_parity_ratio":  # classes never predicted (0/0) do not count
            expected = np.nanmin(per_class) if not np.isnan(per_class).all() else np.nan
        else:
            expected = per_class.max()
        assert report.metrics[name] == pytest.approx(expected, nan_ok=True, **TOL), name
        if not np.isnan(expected):
            assert per_class[list(chosen).index(report.worst_class[name])] == pytest.approx(expected, **TOL)
    return report


@pytest.mark.parametrize("features, min_group_size", [(["sex"], 30), SLOW(["race"], 200), SLOW(["sex", "race"], 60)])
def test_multiclass_on_adult_equals_fairlearn(features, min_group_size):
    data = adult_tasks()
    report = assert_multiclass_equals_fairlearn(data["rel_true"].to_numpy(), data["rel_pred"].to_numpy(),
                                                data[features], min_group_size)
    assert report.classes == sorted(data["rel_true"].unique())
    if "sex" in features:  # relationship (husband, wife) depends on sex in this data
        assert report.metrics["demographic_parity_difference"] > 0.05


@pytest.mark.slow
def test_multiclass_favourable_class_on_adult_equals_fairlearn():
    data = adult_tasks()
    report = assert_multiclass_equals_fairlearn(data["rel_true"].to_numpy(), data["rel_pred"].to_numpy(),
                                                data[["sex", "race"]], 60, favorable="Husband")
    assert set(report.worst_class.values()) == {"Husband"}


@pytest.mark.parametrize("seed", range(16))
def test_multiclass_random_equals_fairlearn(seed):
    y_true, y_pred, sensitive, min_group_size = random_multiclass(seed)
    features = [["a"], ["b"], ["a", "b"]][seed % 3]
    assert_multiclass_equals_fairlearn(y_true, y_pred, sensitive[features], min_group_size)


def test_multiclass_overall_equals_fairlearn():
    data = adult_tasks()
    report = rai.fairness_report(data["rel_true"], data["rel_pred"], data[["sex"]], task="multiclass")
    assert report.overall["accuracy"] == pytest.approx(accuracy_score(data["rel_true"], data["rel_pred"]), **TOL)
    for row in report.overall["classes"]:
        t, p = data["rel_true"] == row["class"], data["rel_pred"] == row["class"]
        assert row["selection_rate"] == pytest.approx(selection_rate(t, p), **TOL)
        assert row["tpr"] == pytest.approx(true_positive_rate(t, p), **TOL)
        assert row["fpr"] == pytest.approx(false_positive_rate(t, p), **TOL)


# --- regression -------------------------------------------------------------------------------

REGRESSION = {"mae": mean_absolute_error, "rmse": root_mean_squared_error,
              "mean_prediction": lambda t, p: float(np.mean(p)), "mean_target": lambda t, p: float(np.mean(t))}


def assert_regression_equals_fairlearn(y_true, y_pred, sensitive, min_group_size):
    report = rai.fairness_report(y_true, y_pred, sensitive, task="regression", min_group_size=min_group_size)
    features = report.sensitive_features
    expected = _frame(REGRESSION, y_true, y_pred, sensitive).by_group.dropna(how="all")
    assert len(report.groups) == len(expected)
    for row in report.groups.to_dict("records"):
        for name in REGRESSION:
            assert row[name] == pytest.approx(expected.loc[group_key(row, features), name], **TOL), name
    keep = rows_of_included_groups(report, sensitive)
    if not keep.any():
        assert all(np.isnan(v) for v in report.metrics.values())
        return report
    kept = _frame(REGRESSION, y_true[keep], y_pred[keep], sensitive[keep])
    diff, ratio = kept.difference(), kept.ratio()
    assert report.metrics["mae_difference"] == pytest.approx(diff["mae"], **TOL)
    assert report.metrics["mae_ratio"] == pytest.approx(ratio["mae"], **TOL)
    assert report.metrics["rmse_difference"] == pytest.approx(diff["rmse"], **TOL)
    assert report.metrics["mean_prediction_difference"] == pytest.approx(diff["mean_prediction"], **TOL)
    overall = _frame(REGRESSION, y_true, y_pred, sensitive).overall
    for name in REGRESSION:
        assert report.overall[name] == pytest.approx(overall[name], **TOL)
    return report


@pytest.mark.parametrize("features, min_group_size", [(["sex"], 30), SLOW(["race"], 200), SLOW(["sex", "race"], 100)])
def test_regression_on_adult_equals_fairlearn(features, min_group_size):
    data = adult_tasks()
    report = assert_regression_equals_fairlearn(data["hours_true"].to_numpy(), data["hours_pred"].to_numpy(),
                                                data[features], min_group_size)
    assert report.metrics["mean_prediction_difference"] > 0


@pytest.mark.parametrize("seed", range(16))
def test_regression_random_equals_fairlearn(seed):
    y_true, y_pred, sensitive, min_group_size = random_regression(seed)
    features = [["a"], ["b"], ["a", "b"]][seed % 3]
    assert_regression_equals_fairlearn(y_true, y_pred, sensitive[features], min_group_size)


def test_regression_json_carries_the_errors_of_every_group():
    data = adult_tasks()
    result = rai.fairness_report(data["hours_true"], data["hours_pred"], data[["sex"]], task="regression").to_dict()
    assert set(result) == {"schema_version", "task", "sensitive_features", "min_group_size", "overall", "groups",
                           "metrics"}
    assert result["task"] == "regression" and result["min_group_size"] == 30
    assert set(result["groups"][0]) == {"group", "count", "mae", "rmse", "mean_prediction", "mean_target", "excluded"}
    assert set(result["metrics"]) == {"mae_difference", "mae_ratio", "rmse_difference", "mean_prediction_difference"}


def test_random_cases_cover_intersections_rare_classes_and_excluded_groups():
    """The fast oracle cases above do reach what they claim to: excluded groups, absent classes."""
    excluded = absent = 0
    for seed in range(16):
        y_true, y_pred, sensitive, size = random_multiclass(seed)
        features = [["a"], ["b"], ["a", "b"]][seed % 3]
        report = rai.fairness_report(y_true, y_pred, sensitive[features], task="multiclass", min_group_size=size)
        excluded += bool(report.excluded) and len(features) == 2
        absent += bool(((report.by_class["tp"] + report.by_class["fn"]) == 0).any())  # a group without a class
        t, p, s, size = random_regression(seed)
        excluded += bool(rai.fairness_report(t, p, s[features], task="regression", min_group_size=size).excluded)
    assert excluded >= 4 and absent >= 4
