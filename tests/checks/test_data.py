"""Data-quality checks on the ingested frame: columns, missing values, label balance, group sizes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

from governance.checks.base import get_check
from governance.evidence import Evidence
from governance.vocabulary import Status

from .cases import frame
from .support import family_cases, run_rule


@pytest.mark.parametrize("name, factory, params, expected", family_cases("data"))
def test_table_through_the_engine(name, factory, params, expected):
    finding = run_rule(name, factory(), params)
    assert finding.status is (Status.PASSED if expected else Status.FAILED), finding.message


@pytest.mark.parametrize("check, params", [
    ("data.required_columns", {"columns": ["age"]}),
    ("data.missing_values", {}),
    ("data.label_balance", {}),
    ("data.group_size", {"sensitive_features": ["sex"]}),
])
def test_missing_dataset_is_an_error(check, params):
    finding = run_rule(check, Evidence(target="income"), params, stage="monitor")
    assert finding.status is Status.ERROR
    assert finding.message == "missing evidence 'dataset' at stage 'monitor'"


def test_label_balance_needs_the_target_name():
    finding = run_rule("data.label_balance", Evidence(dataset=frame()))
    assert finding.status is Status.ERROR and finding.message == "missing evidence 'target' at stage 'ingest'"


@pytest.mark.parametrize("check, params", [
    ("data.missing_values", {"columns": ["age", "sexx"]}),
    ("data.group_size", {"sensitive_features": ["sexx"]}),
])
def test_a_rule_naming_an_absent_column_is_an_error_with_a_hint(check, params):
    finding = run_rule(check, Evidence(dataset=frame(), target="income"), params)
    assert finding.status is Status.ERROR
    assert "dataset: no column 'sexx'" in finding.message and "did you mean 'sex'?" in finding.message


def test_required_columns_suggests_close_names():
    finding = run_rule("data.required_columns", Evidence(dataset=frame()), {"columns": ["age", "Sex", "zip"]})
    assert finding.status is Status.FAILED
    assert finding.observed == ["Sex", "zip"]
    assert "no column 'Sex'" in finding.message and "did you mean 'sex'?" in finding.message


def test_missing_values_observes_the_worst_column_and_lists_offenders():
    data = frame(n=200, missing_age=30)
    data.loc[:9, "race"] = None
    finding = run_rule("data.missing_values", Evidence(dataset=data), {"max_share": 0.04})
    assert finding.status is Status.FAILED
    assert finding.observed == pytest.approx(0.15)
    assert finding.message == "missing-value share above 4.00%: age 15.00%, race 5.00%"
    shares = {row["column"]: row["missing_share"] for row in finding.evidence["columns"]}
    assert shares == pytest.approx(data.isna().mean().to_dict())


def test_missing_values_boundary_is_inclusive():
    finding = run_rule("data.missing_values", Evidence(dataset=frame(n=100, missing_age=5)), {"max_share": 0.05})
    assert finding.status is Status.PASSED


def test_empty_dataset_fails():
    empty = frame().iloc[:0]
    for check, params in (("data.missing_values", {}), ("data.group_size", {"sensitive_features": ["sex"]}),
                          ("data.label_balance", {})):
        finding = run_rule(check, Evidence(dataset=empty, target="income"), params)
        assert finding.status is Status.FAILED, check


def test_label_balance_value_and_edge_cases():
    finding = run_rule("data.label_balance", Evidence(dataset=frame(n=200, positives=30), target="income"))
    assert finding.observed == pytest.approx(0.15) and finding.status is Status.PASSED
    assert finding.evidence["counts"] == {"0": 170, "1": 30}

    single = run_rule("data.label_balance", Evidence(dataset=frame(positives=0), target="income"))
    assert single.observed == 0.0 and single.message == "target 'income' has a single class (0)"

    # Unlabelled rows are left out of the share and reported.
    data = frame(n=200, positives=20).astype({"income": float})
    data.loc[100:, "income"] = np.nan
    finding = run_rule("data.label_balance", Evidence(dataset=data, target="income"))
    assert finding.observed == pytest.approx(0.2) and finding.evidence["unlabelled"] == 100


def test_group_size_is_intersectional_and_keeps_missing_groups():
    data = frame(n=200)
    data.loc[:4, "sex"] = np.nan  # five rows without a recorded sex
    finding = run_rule("data.group_size", Evidence(dataset=data), {"sensitive_features": ["sex", "race"], "min_count": 10})
    counts = {(g["group"]["sex"], g["group"]["race"]): g["count"] for g in finding.evidence["groups"]}
    expected = data.fillna({"sex": "?"}).groupby(["sex", "race"]).size()
    assert sorted(counts.values()) == sorted(expected.tolist())
    assert sum(counts.values()) == 200
    assert finding.status is Status.FAILED and finding.observed == min(counts.values())
    assert "sex=missing, race=" in finding.message


def test_group_size_single_feature_keys_are_named():
    finding = run_rule("data.group_size", Evidence(dataset=frame(n=100)), {"sensitive_features": ["sex"], "min_count": 50})
    assert finding.status is Status.PASSED
    assert finding.evidence["groups"] == [
        {"group": {"sex": "Female"}, "count": 50, "too_small": False},
        {"group": {"sex": "Male"}, "count": 50, "too_small": False},
    ]
    assert finding.message == "all 2 groups have >= 50 rows (smallest 50)"


def test_categorical_columns_with_unused_categories_are_not_groups():
    data = frame(n=100).astype({"sex": pd.CategoricalDtype(["Female", "Male", "Other"])})
    finding = run_rule("data.group_size", Evidence(dataset=data), {"sensitive_features": ["sex"], "min_count": 50})
    assert finding.status is Status.PASSED and len(finding.evidence["groups"]) == 2


@pytest.mark.parametrize("check, params", [
    ("data.missing_values", {"max_share": 1.5}),
    ("data.missing_values", {"columns": []}),
    ("data.label_balance", {"min_minority_share": 0.6}),
    ("data.label_balance", {"min_minority_share": 0}),
    ("data.group_size", {"sensitive_features": []}),
    ("data.group_size", {"sensitive_features": ["sex"], "min_count": 0}),
    ("data.required_columns", {"columns": []}),
])
def test_params_are_validated(check, params):
    with pytest.raises(ValidationError):
        get_check(check).Params(**params)
