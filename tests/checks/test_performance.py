"""Performance metrics and the ``performance.metric`` check; every number equal to scikit-learn's."""

from __future__ import annotations

import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError
from sklearn import metrics as skm
from sklearn.linear_model import LogisticRegression

from governance.checks.base import get_check
from governance.evidence import Evidence, Predictions
from governance.metrics.performance import PERFORMANCE_METRICS, performance_metric, roc_auc
from governance.vocabulary import Status

from .support import family_cases, run_rule

DATA = Path(__file__).resolve().parents[2] / "examples" / "adult-income" / "data"
NUMERIC = ["age", "education-num", "capital-gain", "capital-loss", "hours-per-week"]
SKLEARN = {
    "accuracy": skm.accuracy_score,
    "balanced_accuracy": skm.balanced_accuracy_score,
    "precision": skm.precision_score,
    "recall": skm.recall_score,
    "f1": skm.f1_score,
}


@pytest.fixture(scope="module")
def adult():
    """Labels, predictions and scores of a logistic regression on the Adult test split."""
    train = pd.read_csv(DATA / "adult.data.csv.gz", skipinitialspace=True)
    test = pd.read_csv(DATA / "adult.test.csv.gz", skipinitialspace=True)
    model = LogisticRegression(max_iter=1000).fit(train[NUMERIC], train["Y"].str.startswith(">50K"))
    score = model.predict_proba(test[NUMERIC])[:, 1]
    y_true = test["Y"].str.startswith(">50K").astype(int).to_numpy()
    return y_true, (score >= 0.5).astype(int), score, test[["sex"]]


def reference(name, y_true, y_pred, y_score=None):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zero-division and single-class warnings; the value counts
        if name == "roc_auc":
            return skm.roc_auc_score(y_true, y_score)
        return SKLEARN[name](y_true, y_pred)


@pytest.mark.parametrize("name", PERFORMANCE_METRICS)
def test_adult_equals_sklearn(adult, name):
    y_true, y_pred, score, _ = adult
    assert performance_metric(name, y_true, y_pred, score) == pytest.approx(
        reference(name, y_true, y_pred, score), rel=1e-12)


@pytest.mark.parametrize("decimals", [0, 1, 2])
def test_roc_auc_with_tied_scores_equals_sklearn(adult, decimals):
    y_true, _, score, _ = adult
    rounded = np.round(score, decimals)  # many ties: each counts half, as in sklearn's trapezoids
    assert roc_auc(y_true, rounded) == pytest.approx(skm.roc_auc_score(y_true, rounded), rel=1e-12)


EDGE = {
    "one-row": ([1], [1]),
    "all-negative-truth": ([0, 0, 0, 0], [0, 1, 0, 1]),
    "all-positive-truth": ([1, 1, 1], [0, 1, 1]),
    "no-positive-predictions": ([0, 1, 1, 0], [0, 0, 0, 0]),
    "nothing-positive": ([0, 0, 0], [0, 0, 0]),
    "all-wrong": ([0, 1, 0, 1], [1, 0, 1, 0]),
    "bool-labels": (np.array([True, False, True]), np.array([True, True, False])),
}


@pytest.mark.parametrize("name", [m for m in PERFORMANCE_METRICS if m != "roc_auc"])
@pytest.mark.parametrize("case", sorted(EDGE))
def test_edge_cases_equal_sklearn(name, case):
    y_true, y_pred = EDGE[case]
    assert performance_metric(name, y_true, y_pred) == pytest.approx(reference(name, y_true, y_pred), abs=1e-15)


@pytest.mark.parametrize("seed", range(30))
def test_random_data_equals_sklearn(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 300))
    y_true = (rng.random(n) < rng.random()).astype(int)
    y_pred = (rng.random(n) < rng.random()).astype(int)
    y_score = np.round(rng.random(n), int(rng.integers(0, 3)))
    for name in PERFORMANCE_METRICS:
        assert performance_metric(name, y_true, y_pred, y_score) == pytest.approx(
            reference(name, y_true, y_pred, y_score), rel=1e-12, abs=1e-15, nan_ok=True), name


@pytest.mark.parametrize("args, message", [
    (("roc_auc", [0, 1], [0, 1], None), "roc_auc needs prediction scores"),
    (("roc_auc", [0, 1], [0, 1], [0.1, np.nan]), "y_score contains NaN"),
    (("accuracy", [0, 3], [0, 1]), "y_true must hold 0/1 labels, found 3 at row 1"),
    (("accuracy", [0, 1], [0, 1, 1]), "y_true has 2 rows but y_pred has 3"),
    (("accuracy", [], []), "no rows"),
    (("auc", [0, 1], [0, 1]), "unknown metric 'auc'"),
])
def test_bad_inputs(args, message):
    with pytest.raises(ValueError, match=message):
        performance_metric(*args)


@pytest.mark.parametrize("y_true", [[0, 0, 0], [1, 1, 1]])
def test_single_class_roc_auc_is_nan_like_sklearn(y_true):
    assert np.isnan(performance_metric("roc_auc", y_true, y_true, [0.1, 0.2, 0.3]))
    assert np.isnan(reference("roc_auc", y_true, y_true, [0.1, 0.2, 0.3]))


def test_metrics_do_not_import_sklearn():
    code = ("import sys, governance.checks.performance, governance.metrics.performance as m;"
            "m.performance_metric('roc_auc', [0, 1, 1], [0, 1, 0], [0.2, 0.9, 0.4]);"
            "print(sorted(k for k in sys.modules if k.split('.')[0] in ('sklearn', 'tensorflow')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# --- the check --------------------------------------------------------------------------------


@pytest.mark.parametrize("name, factory, params, expected", family_cases("performance"))
def test_check_table_through_the_engine(name, factory, params, expected):
    finding = run_rule(name, factory(), params)
    assert finding.status == (Status.PASSED if expected else Status.FAILED), finding.message
    assert finding.evidence["metric"] == params["metric"]


@pytest.mark.parametrize("metric", PERFORMANCE_METRICS)
def test_check_observes_sklearns_number_on_adult(adult, metric):
    y_true, y_pred, score, sensitive = adult
    evidence = Evidence(predictions=Predictions(y_true, y_pred, sensitive, y_score=score))
    expected = reference(metric, y_true, y_pred, score)
    passing = run_rule("performance.metric", evidence, {"metric": metric, "min": round(expected - 0.01, 4)})
    failing = run_rule("performance.metric", evidence, {"metric": metric, "max": round(expected - 0.01, 4)})
    assert passing.observed == pytest.approx(expected, rel=1e-12) and passing.status == Status.PASSED
    assert failing.status == Status.FAILED and "above max" in failing.message


def test_roc_auc_without_scores_is_missing_evidence():
    evidence = Evidence(predictions=Predictions([0, 1], [0, 1], pd.DataFrame({"sex": ["F", "M"]})))
    finding = run_rule("performance.metric", evidence, {"metric": "roc_auc", "min": 0.7})
    assert finding.status == Status.ERROR
    assert finding.message.startswith("missing evidence 'predictions.y_score': roc_auc needs prediction scores")


def test_single_class_roc_auc_is_an_error():
    evidence = Evidence(predictions=Predictions([0, 0], [0, 1], pd.DataFrame({"sex": ["F", "M"]}), y_score=[0.2, 0.7]))
    finding = run_rule("performance.metric", evidence, {"metric": "roc_auc", "min": 0.7})
    assert finding.status == Status.ERROR
    assert finding.message == "cannot evaluate: roc_auc is undefined: y_true holds a single class"


@pytest.mark.parametrize("params, message", [
    ({"metric": "accuracy"}, "give at least one of min and max"),
    ({"metric": "accuracy", "min": 0.9, "max": 0.8}, r"min \(0.9\) must not exceed max \(0.8\)"),
    ({"metric": "auc", "min": 0.5},
     "'accuracy', 'balanced_accuracy', 'precision', 'recall', 'f1', 'roc_auc', 'macro_f1' or 'r2'"),
    ({"metric": "f1", "min": 0.5, "threshold": 0.5}, "Extra inputs are not permitted"),
])
def test_bad_params(params, message):
    with pytest.raises(ValidationError, match=message):
        get_check("performance.metric").Params(**params)
