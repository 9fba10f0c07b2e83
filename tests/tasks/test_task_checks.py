"""Checks per task: fairness checks accept the tasks where they make sense and refuse others with the
reason; performance and optimize checks measure each task's metrics, equal to scikit-learn's."""

from __future__ import annotations

import warnings
from functools import partial

import numpy as np
import pandas as pd
import pytest
from fairlearn.metrics import MetricFrame, selection_rate, true_positive_rate
from pydantic import ValidationError
from sklearn import metrics as skm

import rai
from governance.checks.base import get_check
from governance.evidence import Evidence
from governance.evidence_regression import RegressionPredictions
from governance.findings import Status
from governance.metrics.performance import TASK_METRICS, predictions_metric

from .support import adult_tasks, proba_columns, random_multiclass, random_regression, run_rule

SEX = {"sensitive_features": ["sex"]}


def regression() -> rai.Predictions:
    data = adult_tasks()
    return rai.Predictions(data["hours_true"], data["hours_pred"], data[["sex", "race"]], task="regression")


def multiclass(**kwargs) -> rai.Predictions:
    data = adult_tasks()
    return rai.Predictions(data["rel_true"], data["rel_pred"], data[["sex", "race"]], task="multiclass",
                           y_score=data[proba_columns(data)].to_numpy(), **kwargs)


# --- fairness checks ---------------------------------------------------------------------------

REFUSALS = [
    ("fairness.demographic_parity_difference", {}, "selection rates"),
    ("fairness.demographic_parity_ratio", {}, "selection rates"),
    ("fairness.equalized_odds_difference", {}, "true and false positive rates"),
    ("fairness.equal_opportunity_difference", {}, "true positive rates"),
    ("fairness.group_metric_min", {"metric": "accuracy", "min": 0.5}, "accuracy, true positive rates and selection rates"),
]


@pytest.mark.parametrize("check, params, what", REFUSALS)
def test_fairness_checks_refuse_regression_with_the_reason(check, params, what):
    finding = run_rule(check, Evidence(predictions=regression()), {**SEX, **params})
    assert finding.status == Status.ERROR and finding.blocks
    assert finding.message == (
        f"cannot evaluate: {check} compares {what}, which regression predictions do not have; for "
        "regression, compare errors (metric mae or rmse) or predicted levels (mean_prediction) with "
        "fairness.group_metric")


@pytest.mark.parametrize("check, metric, params", [
    ("fairness.demographic_parity_difference", "demographic_parity_difference", {"max": 0.1}),
    ("fairness.demographic_parity_ratio", "demographic_parity_ratio", {"min": 0.8}),
    ("fairness.equalized_odds_difference", "equalized_odds_difference", {"max": 0.1}),
    ("fairness.equal_opportunity_difference", "equal_opportunity_difference", {"max": 0.1}),
])
def test_fairness_checks_on_multiclass_take_the_worst_class(check, metric, params):
    predictions = multiclass()
    report = rai.fairness_report(predictions.y_true, predictions.y_pred, predictions.sensitive[["sex"]],
                                 task="multiclass", classes=np.arange(len(predictions.classes)))
    finding = run_rule(check, Evidence(predictions=predictions), {**SEX, **params})
    assert finding.observed == pytest.approx(report.metrics[metric], rel=1e-12)
    worst = predictions.classes[report.worst_class[metric]]
    assert f"of class {worst!r}" in finding.message
    assert finding.evidence["task"] == "multiclass" and finding.evidence["worst_class"][metric] == worst
    assert finding.message.endswith("; every group has at least 30 rows")


def test_favourable_class_decides_alone():
    data = adult_tasks()
    finding = run_rule("fairness.demographic_parity_difference", Evidence(predictions=multiclass(favorable_label="Husband")),
                       {**SEX, "max": 0.5})
    frame = MetricFrame(metrics=selection_rate, y_true=data["rel_true"] == "Husband",
                        y_pred=data["rel_pred"] == "Husband", sensitive_features=data["sex"])
    assert finding.observed == pytest.approx(frame.difference(), rel=1e-12)
    assert finding.status == Status.PASSED and "of class 'Husband'" in finding.message


def test_group_metric_min_on_multiclass_names_group_and_class():
    data = adult_tasks()
    finding = run_rule("fairness.group_metric_min", Evidence(predictions=multiclass()),
                       {**SEX, "metric": "tpr", "min": 0.2})
    lowest = min(MetricFrame(metrics=true_positive_rate, y_true=data["rel_true"] == k, y_pred=data["rel_pred"] == k,
                             sensitive_features=data["sex"]).by_group.min() for k in data["rel_true"].unique())
    assert finding.observed == pytest.approx(lowest) and finding.status == Status.FAILED
    assert ", class '" in finding.message
    accuracy = run_rule("fairness.group_metric_min", Evidence(predictions=multiclass()),
                        {**SEX, "metric": "accuracy", "min": 0.1})
    assert accuracy.observed == pytest.approx(min(skm.accuracy_score(g["rel_true"], g["rel_pred"])
                                                  for _, g in data.groupby("sex")))


def test_binary_checks_count_the_favourable_label():
    data = adult_tasks()
    predictions = rai.Predictions(data["bin_true"], data["bin_pred"], data[["sex"]], favorable_label=0)
    finding = run_rule("fairness.demographic_parity_ratio", Evidence(predictions=predictions), SEX)
    def favourable_selection_rate(y_true, y_pred):
        return selection_rate(y_true, y_pred, pos_label=0)

    frame = MetricFrame(metrics=favourable_selection_rate, y_true=data["bin_true"],
                        y_pred=data["bin_pred"], sensitive_features=data["sex"])
    assert finding.observed == pytest.approx(frame.ratio(), rel=1e-12)
    assert finding.evidence["favorable"] == "negative"


def test_group_metric_reads_regression_predictions_as_regression():
    """fairness.group_metric on rai.Predictions(task='regression') equals its RegressionPredictions numbers."""
    predictions = regression()
    other = RegressionPredictions(predictions.y_true, predictions.y_pred, predictions.sensitive)
    params = {**SEX, "metric": "mae", "aggregate": "difference", "max": 10.0}
    ours, theirs = (run_rule("fairness.group_metric", Evidence(predictions=p), params) for p in (predictions, other))
    assert ours.status == theirs.status == Status.PASSED and ours.observed == theirs.observed
    refused = run_rule("fairness.group_metric", Evidence(predictions=multiclass()),
                       {**SEX, "metric": "mae", "aggregate": "max", "max": 10.0})
    assert refused.status == Status.ERROR and refused.blocks
    assert refused.message == ("cannot evaluate: metric 'mae' is a regression metric, but the predictions are "
                               "multiclass classification predictions")


# --- performance -------------------------------------------------------------------------------

SKLEARN = {
    "accuracy": skm.accuracy_score, "balanced_accuracy": skm.balanced_accuracy_score,
    "macro_f1": partial(skm.f1_score, average="macro"), "mae": skm.mean_absolute_error,
    "rmse": skm.root_mean_squared_error, "r2": skm.r2_score,
}


@pytest.mark.parametrize("metric", TASK_METRICS["multiclass"])
def test_multiclass_performance_equals_sklearn(metric):
    predictions, data = multiclass(), adult_tasks()
    if metric == "log_loss":
        expected = skm.log_loss(data["rel_true"], data[proba_columns(data)], labels=list(predictions.classes))
    else:
        expected = SKLEARN[metric](data["rel_true"], data["rel_pred"])
    assert predictions_metric(metric, predictions) == pytest.approx(expected, rel=1e-12)
    check = "performance.error" if metric == "log_loss" else "performance.metric"
    bound = {"max": round(expected + 0.01, 4)} if metric == "log_loss" else {"min": round(expected - 0.01, 4)}
    finding = run_rule(check, Evidence(predictions=predictions), {"metric": metric, **bound})
    assert finding.status == Status.PASSED and finding.observed == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("metric", TASK_METRICS["regression"])
def test_regression_performance_equals_sklearn(metric):
    data = adult_tasks()
    expected = SKLEARN[metric](data["hours_true"], data["hours_pred"])
    assert predictions_metric(metric, regression()) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("seed", range(12))
def test_random_multiclass_and_regression_metrics_equal_sklearn(seed):
    y_true, y_pred, sensitive, _ = random_multiclass(seed)
    labels = sorted(set(y_true) | set(y_pred))
    proba = np.random.default_rng(seed).dirichlet(np.ones(len(labels)), len(y_true))
    predictions = rai.Predictions(y_true, y_pred, sensitive, task="multiclass", y_score=proba)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for metric in ("accuracy", "balanced_accuracy", "macro_f1"):
            assert predictions_metric(metric, predictions) == pytest.approx(SKLEARN[metric](y_true, y_pred), rel=1e-12)
    assert predictions_metric("log_loss", predictions) == pytest.approx(skm.log_loss(y_true, proba, labels=labels))
    t, p, s, _ = random_regression(seed)
    for metric in TASK_METRICS["regression"]:
        value = predictions_metric(metric, rai.Predictions(t, p, s, task="regression"))
        assert value == pytest.approx(SKLEARN[metric](t, p), rel=1e-12)


def test_binary_log_loss_and_macro_f1_equal_sklearn():
    data = adult_tasks()
    predictions = rai.Predictions(data["bin_true"], data["bin_pred"], data[["sex"]], y_score=data["bin_score"])
    assert predictions_metric("log_loss", predictions) == pytest.approx(skm.log_loss(data["bin_true"], data["bin_score"]))
    assert predictions_metric("macro_f1", predictions) == pytest.approx(
        skm.f1_score(data["bin_true"], data["bin_pred"], average="macro"))


@pytest.mark.parametrize("check, params, predictions, message", [
    ("performance.metric", {"metric": "f1", "min": 0.5}, multiclass,
     "cannot evaluate: metric 'f1' does not apply to multiclass predictions (metrics for multiclass: "
     "accuracy, balanced_accuracy, macro_f1, log_loss)"),
    ("performance.metric", {"metric": "accuracy", "min": 0.5}, regression,
     "cannot evaluate: metric 'accuracy' does not apply to regression predictions (metrics for regression: "
     "mae, rmse, r2)"),
    ("performance.error", {"metric": "mae", "max": 5}, multiclass,
     "cannot evaluate: metric 'mae' does not apply to multiclass predictions (metrics for multiclass: "
     "accuracy, balanced_accuracy, macro_f1, log_loss)"),
    ("performance.metric", {"metric": "r2", "min": 0.5},
     lambda: rai.Predictions([3.0, 3.0, 3.0], [1.0, 2.0, 3.0], {"g": [1, 1, 1]}, task="regression"),
     "cannot evaluate: r2 is undefined: y_true is constant"),
    ("performance.error", {"metric": "log_loss", "max": 1},
     lambda: rai.Predictions(["a", "b"], ["a", "a"], {"g": [1, 1]}, task="multiclass"),
     "missing evidence 'predictions.y_score': log_loss needs prediction scores"),
])
def test_performance_of_the_wrong_task_is_an_error(check, params, predictions, message):
    finding = run_rule(check, Evidence(predictions=predictions()), params)
    assert finding.status == Status.ERROR and finding.blocks
    assert finding.message.startswith(message)


def test_error_bounds_are_in_the_metrics_units():
    data = adult_tasks()
    mae = skm.mean_absolute_error(data["hours_true"], data["hours_pred"])  # about 7.8 hours
    assert run_rule("performance.error", Evidence(predictions=regression()), {"metric": "mae", "max": 8}).status == Status.PASSED
    failing = run_rule("performance.error", Evidence(predictions=regression()), {"metric": "mae", "max": 5})
    assert failing.status == Status.FAILED and failing.message == f"mae {mae:.4g} above max 5.0"


@pytest.mark.parametrize("check, params, message", [
    ("performance.error", {"metric": "mae"}, "give max, or relative_to with max_decrease, max_increase or "),
    ("performance.error", {"metric": "mae", "max": -1}, "greater than or equal to 0"),
    ("performance.error", {"metric": "mae", "max": 1, "min": 2}, r"min \(2.0\) must not exceed max \(1.0\)"),
    ("performance.error", {"metric": "r2", "max": 1}, "'log_loss', 'mae' or 'rmse'"),
    ("optimize.error_increase", {"metric": "mae_difference", "max": 1}, "compares groups: give sensitive_features"),
    ("optimize.error_increase", {"metric": "mae", "max": 1, "sensitive_features": ["sex"]},
     "is not a gap between groups: remove sensitive_features"),
    ("optimize.error_increase", {"metric": "mae"}, "max\n  Field required"),
])
def test_bad_params(check, params, message):
    with pytest.raises(ValidationError, match=message):
        get_check(check).Params(**params)


# --- optimize ----------------------------------------------------------------------------------


def _pair(parent: rai.Predictions, new_pred, new_score=None) -> Evidence:
    return Evidence(parent_predictions=parent, predictions=parent.with_outputs(new_pred, new_score))


def test_accuracy_drop_and_gap_increase_on_multiclass():
    parent = multiclass()
    flipped = parent.y_pred.copy()
    women = np.flatnonzero(parent.sensitive["sex"].to_numpy() == "Female")[:300]
    flipped[women] = (flipped[women] + 1) % len(parent.classes)
    evidence = _pair(parent, flipped)
    drop = run_rule("optimize.accuracy_drop", evidence, {"max": 0.01})
    expected = (np.sum(parent.y_pred == parent.y_true) - np.sum(flipped == parent.y_true)) / len(flipped)
    assert drop.observed == pytest.approx(expected)
    gap = run_rule("optimize.fairness_gap_increase", evidence, {**SEX, "metric": "demographic_parity_difference", "max": 1})
    before = rai.fairness_report(parent.y_true, parent.y_pred, parent.sensitive[["sex"]], task="multiclass",
                                 classes=np.arange(6)).metrics["demographic_parity_difference"]
    after = rai.fairness_report(parent.y_true, flipped, parent.sensitive[["sex"]], task="multiclass",
                                classes=np.arange(6)).metrics["demographic_parity_difference"]
    assert gap.observed == pytest.approx(after - before)


def test_regression_variants_compare_errors_and_gaps():
    parent = regression()
    worse = parent.y_pred + np.where(parent.sensitive["sex"].to_numpy() == "Female", 3.0, 0.0)
    evidence = _pair(parent, worse)
    mae = run_rule("optimize.error_increase", evidence, {"metric": "mae", "max": 0.5})
    expected = skm.mean_absolute_error(parent.y_true, worse) - skm.mean_absolute_error(parent.y_true, parent.y_pred)
    assert mae.observed == pytest.approx(expected) and mae.status == Status.FAILED
    gap = run_rule("optimize.error_increase", evidence, {"metric": "mean_prediction_difference", "max": 5, **SEX})
    level = pd.DataFrame({"p": parent.y_pred, "w": worse, "s": parent.sensitive["sex"]}).groupby("s").mean()
    expected_gap = (level["w"].max() - level["w"].min()) - (level["p"].max() - level["p"].min())
    assert gap.observed == pytest.approx(expected_gap) and gap.status == Status.PASSED
    refused = run_rule("optimize.accuracy_drop", evidence)
    assert refused.status == Status.ERROR and refused.message == (
        "cannot evaluate: optimize.accuracy_drop compares accuracy, which regression predictions do not "
        "have; use optimize.error_increase with metric mae or rmse")


def test_log_loss_increase_of_a_classifier():
    data = adult_tasks()
    parent = rai.Predictions(data["bin_true"], data["bin_pred"], data[["sex"]], y_score=data["bin_score"])
    blurred = 0.5 + (data["bin_score"].to_numpy() - 0.5) * 0.5
    finding = run_rule("optimize.error_increase", _pair(parent, (blurred >= 0.5).astype(int), blurred),
                       {"metric": "log_loss", "max": 0.01})
    expected = skm.log_loss(data["bin_true"], blurred) - skm.log_loss(data["bin_true"], data["bin_score"])
    assert finding.observed == pytest.approx(expected, rel=1e-9)
    refused = run_rule("optimize.error_increase", _pair(regression(), regression().y_pred), {"metric": "log_loss", "max": 1})
    assert refused.status == Status.ERROR and "log_loss, which regression predictions do not have" in refused.message


def test_parent_and_variant_of_different_tasks_are_an_error():
    parent = regression()
    variant = rai.Predictions((parent.y_true > 40).astype(int), (parent.y_pred > 40).astype(int), parent.sensitive)
    finding = run_rule("optimize.error_increase", Evidence(parent_predictions=parent, predictions=variant),
                       {"metric": "mae", "max": 1})
    assert finding.status == Status.ERROR
    assert finding.message == "cannot evaluate: parent predictions are regression but the variant's are binary"


def test_performance_reads_regression_predictions_of_either_class():
    predictions = regression()
    other = RegressionPredictions(predictions.y_true, predictions.y_pred, predictions.sensitive)
    ours, theirs = (run_rule("performance.error", Evidence(predictions=p), {"metric": "rmse", "max": 20})
                    for p in (predictions, other))
    assert ours.status == theirs.status == Status.PASSED and ours.observed == theirs.observed
    assert theirs.evidence["task"] == "regression"
