"""Fairness statistics and checks; every number checked against fairlearn on the same rows."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

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
from pydantic import ValidationError
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score

import governance.metrics.fairness as fairness_module
from governance.checks.base import get_check
from governance.errors import UserError
from governance.evidence import Evidence, Predictions
from governance.metrics.fairness import METRICS, RATES, fairness_report
from governance.vocabulary import Status

from .support import family_cases, run_rule

DATA = Path(__file__).resolve().parents[2] / "examples" / "adult-income" / "data"
NUMERIC = ["age", "education-num", "capital-gain", "capital-loss", "hours-per-week"]
FAIRLEARN_METRICS = {
    "demographic_parity_difference": demographic_parity_difference,
    "demographic_parity_ratio": demographic_parity_ratio,
    "equalized_odds_difference": equalized_odds_difference,
    "equal_opportunity_difference": equal_opportunity_difference,
}
FAIRLEARN_RATES = {
    "selection_rate": selection_rate, "accuracy": accuracy_score,
    "tpr": true_positive_rate, "fpr": false_positive_rate,
}


@pytest.fixture(scope="module")
def adult() -> pd.DataFrame:
    """The Adult test split with ``y_true``, ``y_pred`` and ``score`` of a logistic regression."""
    read = dict(skipinitialspace=True)
    train = pd.read_csv(DATA / "adult.data.csv.gz", **read)
    test = pd.read_csv(DATA / "adult.test.csv.gz", **read)
    model = LogisticRegression(max_iter=1000).fit(train[NUMERIC], train["Y"].str.startswith(">50K"))
    test["score"] = model.predict_proba(test[NUMERIC])[:, 1]
    test["y_pred"] = (test["score"] >= 0.5).astype(int)
    test["y_true"] = test["Y"].str.startswith(">50K").astype(int)
    return test


def assert_matches_fairlearn(y_true, y_pred, sensitive: pd.DataFrame, min_group_size: int = 1):
    """Our groups, overall rates and metrics equal fairlearn's; excluded groups' rows left out."""
    ours = fairness_report(y_true, y_pred, sensitive, min_group_size)
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    features = list(sensitive.columns)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # sklearn warns on single-class groups; values still compare
        full = MetricFrame(metrics=FAIRLEARN_RATES, y_true=y_true, y_pred=y_pred,
                           sensitive_features=sensitive)
        expected = full.by_group.dropna(how="all")  # fairlearn lists empty combinations as NaN rows
        assert len(ours.groups) == len(expected)
        for row in ours.groups.itertuples(index=False):
            key = tuple(getattr(row, f) for f in features) if len(features) > 1 else getattr(row, features[0])
            for rate in RATES:
                assert getattr(row, rate) == pytest.approx(expected.loc[key, rate], rel=1e-12, abs=1e-15), (key, rate)
            assert row.excluded == (row.count < min_group_size)
        for rate in RATES:
            assert ours.overall[rate] == pytest.approx(full.overall[rate], rel=1e-12, abs=1e-15)

        keep = _rows_of_included_groups(ours, sensitive)
        for name, function in FAIRLEARN_METRICS.items():
            if not keep.any():
                assert np.isnan(ours.metrics[name])
                continue
            theirs = function(y_true[keep], y_pred[keep], sensitive_features=sensitive[keep])
            assert ours.metrics[name] == pytest.approx(theirs, rel=1e-12, abs=1e-15, nan_ok=True), name
    return ours


def _rows_of_included_groups(report, sensitive: pd.DataFrame) -> np.ndarray:
    included = report.included[report.sensitive_features].astype(object)
    rows = sensitive.astype(object).merge(included.drop_duplicates(), how="left", indicator=True)
    return (rows["_merge"] == "both").to_numpy()


# --- oracle: the bundled Adult data ----------------------------------------------------------


@pytest.mark.parametrize("features, min_group_size", [
    (["sex"], 1), (["race"], 200), (["sex", "race"], 100), (["race", "sex", "relationship"], 30),
])
def test_adult_equals_fairlearn(adult, features, min_group_size):
    report = assert_matches_fairlearn(adult["y_true"], adult["y_pred"], adult[features], min_group_size)
    assert report.groups["count"].sum() == len(adult)


def test_adult_sex_numbers_are_the_reference(adult):
    """The values a reviewer reads, next to fairlearn's functions called as documented."""
    report = fairness_report(adult["y_true"], adult["y_pred"], adult[["sex"]])
    for name, function in FAIRLEARN_METRICS.items():
        assert report.metrics[name] == function(adult["y_true"], adult["y_pred"], sensitive_features=adult["sex"])
    assert list(report.groups["sex"]) == ["Female", "Male"]
    assert report.metrics["demographic_parity_difference"] > 0.05  # the predictor is not fair by sex


# --- oracle: edge cases ----------------------------------------------------------------------

RNG = np.random.default_rng(7)
EDGE = {
    "unused-category": (
        [0, 1, 0, 1, 1, 0], [1, 1, 0, 0, 1, 0],
        pd.DataFrame({"g": pd.Categorical(list("aabbab"), categories=["a", "b", "c"])}), 1),
    "absent-intersection": (
        [0, 1, 0, 1, 1, 0, 1], [1, 1, 0, 0, 1, 0, 0],
        pd.DataFrame({"a": list("xxyyxyy"), "b": list("pqpqpqp")}), 1),
    "one-row-groups": ([1, 0, 1, 0], [1, 1, 0, 0], pd.DataFrame({"g": list("abcd")}), 1),
    "single-class-negative": ([0] * 6, [0, 1, 1, 0, 0, 1], pd.DataFrame({"g": list("aabbcc")}), 1),
    "single-class-positive": ([1] * 6, [0, 1, 1, 1, 0, 1], pd.DataFrame({"g": list("aabbcc")}), 1),
    "no-positive-predictions": ([0, 1, 1, 0], [0, 0, 0, 0], pd.DataFrame({"g": list("aabb")}), 1),
    "group-without-positives": ([0, 0, 1, 0], [1, 0, 1, 0], pd.DataFrame({"g": list("aabb")}), 1),
    "single-group": ([0, 1, 1, 0], [1, 1, 0, 0], pd.DataFrame({"g": list("aaaa")}), 1),
    "every-group-excluded": ([0, 1, 1, 0], [1, 1, 0, 0], pd.DataFrame({"g": list("aabb")}), 3),
    "one-group-left": ([0, 1, 1, 0, 1], [1, 1, 0, 0, 1], pd.DataFrame({"g": list("aaabb")}), 3),
    "integer-and-bool-features": (
        [0, 1, 1, 0, 1, 0], [1, 1, 0, 0, 1, 1],
        pd.DataFrame({"age_band": [3, 1, 2, 1, 3, 2], "flag": [True, False, True, True, False, False]}), 1),
    "bool-labels": (
        np.array([0, 1, 1, 0], bool), np.array([1, 1, 0, 0], bool), pd.DataFrame({"g": list("abab")}), 1),
}


@pytest.mark.parametrize("case", sorted(EDGE))
def test_edge_cases_equal_fairlearn(case):
    y_true, y_pred, sensitive, min_group_size = EDGE[case]
    assert_matches_fairlearn(y_true, y_pred, sensitive, min_group_size)


@pytest.mark.parametrize("seed", range(16))
def test_random_data_equals_fairlearn(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 400))
    sensitive = pd.DataFrame({
        "a": rng.choice(["p", "q", "r", "s"], n, p=[0.6, 0.3, 0.08, 0.02]),
        "b": rng.integers(0, 3, n),
    })
    features = [["a"], ["b"], ["a", "b"]][seed % 3]
    y_true = (rng.random(n) < rng.random()).astype(int)
    y_pred = (rng.random(n) < rng.random()).astype(int)
    assert_matches_fairlearn(y_true, y_pred, sensitive[features], int(rng.integers(1, 20)))


def test_empty_groups_are_not_listed():
    _, _, sensitive, _ = EDGE["unused-category"]
    report = fairness_report([0, 1, 0, 1, 1, 0], [1, 1, 0, 0, 1, 0], sensitive)
    assert list(report.groups["g"]) == ["a", "b"]


def test_single_group_and_no_positives_follow_fairlearn():
    single = fairness_report([0, 1, 1, 0], [1, 1, 0, 0], pd.DataFrame({"g": list("aaaa")}), 1)
    assert single.metrics["demographic_parity_difference"] == 0.0
    assert single.metrics["demographic_parity_ratio"] == 1.0
    none = fairness_report([0, 1, 1, 0], [0, 0, 0, 0], pd.DataFrame({"g": list("aabb")}), 1)
    assert np.isnan(none.metrics["demographic_parity_ratio"])  # 0 / 0, as fairlearn
    no_pos = fairness_report([0, 0, 1, 0], [1, 0, 1, 0], pd.DataFrame({"g": list("aabb")}), 1)
    assert no_pos.groups.loc[0, "tpr"] == 0.0  # no positives: fairlearn reports 0, not NaN


def test_nan_in_a_sensitive_column_is_refused_like_fairlearn():
    sensitive = pd.DataFrame({"sex": ["F", "M", None, "M"], "race": ["a", "b", "a", np.nan]})
    with pytest.raises(ValueError, match="missing values"):
        MetricFrame(metrics=selection_rate, y_true=[0, 1, 1, 0], y_pred=[1, 1, 0, 0],
                    sensitive_features=sensitive)
    with pytest.raises(UserError) as err:
        fairness_report([0, 1, 1, 0], [1, 1, 0, 0], sensitive)
    assert str(err.value).startswith("sensitive column 'sex' has 1 missing value(s) (first in data row 3)")


def test_compacted_group_keys_equal_the_dense_path(monkeypatch, adult):
    features = ["race", "sex", "relationship", "education"]
    dense = fairness_report(adult["y_true"], adult["y_pred"], adult[features], 20)
    monkeypatch.setattr(fairness_module, "_DENSE_LIMIT", 4)  # forces np.unique compaction
    compact = fairness_report(adult["y_true"], adult["y_pred"], adult[features], 20)
    pd.testing.assert_frame_equal(dense.groups, compact.groups)
    assert dense.metrics == compact.metrics


@pytest.mark.parametrize("y_true, y_pred, sensitive, message", [
    ([0, 2], [0, 1], pd.DataFrame({"g": ["a", "b"]}), "y_true must hold 0/1 labels, found 2 at row 1"),
    ([0, 1], [0, 1, 1], pd.DataFrame({"g": ["a", "b"]}), "y_pred has 3 labels but the sensitive features have 2 rows"),
    ([0, 1], ["x", "y"], pd.DataFrame({"g": ["a", "b"]}), "y_pred must hold 0/1 labels, got dtype <U1"),
    ([0, 1], [0, 1], pd.DataFrame(index=[0, 1]), "at least one sensitive feature is required"),
    ([0, 1], [0, 1], pd.DataFrame({"count": ["a", "b"]}), "sensitive column 'count' has the name of a group-table"),
])
def test_bad_inputs(y_true, y_pred, sensitive, message):
    with pytest.raises(ValueError if not message.startswith("sensitive column") else UserError, match=message):
        fairness_report(y_true, y_pred, sensitive)


def test_json_object(adult):
    report = fairness_report(adult["y_true"], adult["y_pred"], adult[["sex", "race"]], min_group_size=100)
    data = json.loads(json.dumps(report.to_dict(), allow_nan=False))
    assert set(data) == {"schema_version", "task", "favorable", "sensitive_features", "min_group_size", "overall",
                         "groups", "metrics"}
    assert data["schema_version"] == 1 and data["sensitive_features"] == ["sex", "race"]
    assert (data["task"], data["favorable"]) == ("binary", "positive")
    assert set(data["metrics"]) == set(METRICS)
    assert set(data["overall"]) == {"count", *RATES}
    row = data["groups"][0]
    assert set(row) == {"group", "count", *RATES, "excluded", "tp", "fp", "tn", "fn"}
    assert row["group"] == {"sex": "Female", "race": "Amer-Indian-Eskimo"}
    excluded = [g["group"] for g in data["groups"] if g["excluded"]]
    assert excluded == report.excluded and {"sex": "Female", "race": "Other"} in excluded
    assert sum(g["count"] for g in data["groups"]) == len(adult)


def test_undefined_metrics_become_null_in_json():
    report = fairness_report([0, 1], [1, 1], pd.DataFrame({"g": ["a", "b"]}), min_group_size=5)
    data = json.loads(json.dumps(report.to_dict(), allow_nan=False))
    assert data["metrics"] == {name: None for name in METRICS}
    assert [g["excluded"] for g in data["groups"]] == [True, True]


# --- checks -----------------------------------------------------------------------------------


@pytest.mark.parametrize("name, factory, params, expected", family_cases("fairness"))
def test_check_table_through_the_engine(name, factory, params, expected):
    finding = run_rule(name, factory(), params)
    assert finding.status == (Status.PASSED if expected else Status.FAILED), finding.message
    assert finding.evidence["schema_version"] == 1
    assert finding.evidence["excluded_groups"] == [g["group"] for g in finding.evidence["groups"] if g["excluded"]]


@pytest.mark.parametrize("check, metric, params", [
    ("fairness.demographic_parity_difference", "demographic_parity_difference", {"max": 0.1}),
    ("fairness.demographic_parity_ratio", "demographic_parity_ratio", {"min": 0.8}),
    ("fairness.equalized_odds_difference", "equalized_odds_difference", {"max": 0.1}),
    ("fairness.equal_opportunity_difference", "equal_opportunity_difference", {"max": 0.1}),
])
@pytest.mark.parametrize("features", [["race"], ["sex", "race"]])
def test_check_observes_fairlearns_number_on_adult(adult, check, metric, params, features):
    evidence = Evidence(predictions=Predictions(adult["y_true"], adult["y_pred"], adult[["sex", "race", "age"]]))
    finding = run_rule(check, evidence, {"sensitive_features": features, "min_group_size": 30, **params})
    report = fairness_report(adult["y_true"], adult["y_pred"], adult[features], 30)
    keep = _rows_of_included_groups(report, adult[features])
    expected = FAIRLEARN_METRICS[metric](adult["y_true"][keep], adult["y_pred"][keep],
                                         sensitive_features=adult[features][keep])
    assert finding.observed == pytest.approx(expected, rel=1e-12)
    bound = params.get("max", params.get("min"))
    holds = expected <= bound if "max" in params else expected >= bound
    assert finding.status == (Status.PASSED if holds else Status.FAILED)


def test_group_metric_min_names_the_worst_group(adult):
    evidence = Evidence(predictions=Predictions(adult["y_true"], adult["y_pred"], adult[["sex", "race"]]))
    finding = run_rule("fairness.group_metric_min", evidence,
                       {"sensitive_features": ["race"], "metric": "tpr", "min": 0.3, "min_group_size": 30})
    by_race = MetricFrame(metrics=true_positive_rate, y_true=adult["y_true"], y_pred=adult["y_pred"],
                          sensitive_features=adult["race"]).by_group
    assert finding.observed == by_race.min()
    assert f"race={by_race.idxmin()}" in finding.message


@pytest.mark.parametrize("evidence, params, message", [
    (lambda: Evidence(predictions=Predictions([0, 1, 1, 0], [1, 1, 0, 0], pd.DataFrame({"sex": list("FFFF")}))),
     {"sensitive_features": ["sex"], "min_group_size": 1},
     "fewer than 2 groups of sex have at least 1 rows (groups: sex=F (4)); a fairness comparison needs two"),
    (lambda: Evidence(predictions=Predictions([0, 1, 1, 0], [1, 1, 0, 0], pd.DataFrame({"sex": list("FMFF")}))),
     {"sensitive_features": ["sex"]},
     "fewer than 2 groups of sex have at least 30 rows (groups: sex=F (3), sex=M (1))"),
    (lambda: Evidence(predictions=Predictions([0, 1], [1, 1], pd.DataFrame({"sex": list("FM")}))),
     {"sensitive_features": ["sexx"]},
     "predictions: sensitive no column 'sexx' (columns: sex; did you mean 'sex'?)"),
    (lambda: Evidence(), {"sensitive_features": ["sex"]}, "missing evidence 'predictions'"),
])
def test_checks_that_cannot_compare_fail_closed(evidence, params, message):
    for name in ("fairness.demographic_parity_difference", "fairness.equalized_odds_difference"):
        finding = run_rule(name, evidence(), params)
        assert finding.status == Status.ERROR and finding.blocks
        assert message in finding.message


def test_a_row_of_no_known_group_is_refused_before_any_check_runs():
    with pytest.raises(UserError) as err:
        Predictions([0, 1], [1, 1], pd.DataFrame({"sex": ["F", None]}))
    assert str(err.value).startswith("sensitive: column 'sex' has 1 missing value(s) (first at row 1)")


def test_undefined_ratio_is_an_error():
    evidence = Evidence(predictions=Predictions([0, 1, 1, 0], [0, 0, 0, 0], pd.DataFrame({"sex": list("FMFM")})))
    finding = run_rule("fairness.demographic_parity_ratio", evidence,
                       {"sensitive_features": ["sex"], "min_group_size": 1})
    assert finding.status == Status.ERROR
    assert "undefined: no group has a positive prediction" in finding.message


@pytest.mark.parametrize("check, params, message", [
    ("fairness.demographic_parity_difference", {"sensitive_features": []}, "at least 1 item"),
    ("fairness.demographic_parity_difference", {"sensitive_features": ["sex"], "max": 1.5}, "less than or equal to 1"),
    ("fairness.demographic_parity_difference", {"sensitive_features": ["sex", "sex"]}, "must not repeat"),
    ("fairness.demographic_parity_difference", {"sensitive_features": ["sex"], "min_group_size": 0}, "greater than or equal to 1"),
    ("fairness.demographic_parity_ratio", {"sensitive_features": ["sex"], "min": -0.1}, "greater than or equal to 0"),
    ("fairness.equalized_odds_difference", {"sensitive_features": ["sex"], "maximum": 0.1}, "Extra inputs"),
    ("fairness.group_metric_min", {"sensitive_features": ["sex"], "metric": "fpr", "min": 0.5}, "'accuracy', 'tpr' or 'selection_rate'"),
    ("fairness.group_metric_min", {"sensitive_features": ["sex"], "metric": "tpr"}, "min\n  Field required"),
])
def test_bad_params(check, params, message):
    with pytest.raises(ValidationError, match=message):
        get_check(check).Params(**params)


def test_defaults_and_stages():
    for name in ("demographic_parity_difference", "demographic_parity_ratio", "equalized_odds_difference",
                 "equal_opportunity_difference", "group_metric_min"):
        check = get_check(f"fairness.{name}")
        assert check.stages == ("evaluate", "optimize", "monitor")
    params = get_check("fairness.demographic_parity_ratio").Params(sensitive_features=["sex"])
    assert (params.min, params.min_group_size) == (0.8, 30)
    assert get_check("fairness.equalized_odds_difference").Params(sensitive_features=["sex"]).max == 0.1
