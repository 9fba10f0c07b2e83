"""Readable sensitive groups: value labels and numeric bands, their order, and one exact line per mistake."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import rai
from governance.errors import UserError
from governance.groups import apply_groups, band_labels, parse_bins, parse_labels

FRAME = pd.DataFrame({"sex": [1, 2, 1, 2, 2], "age": [17, 25, 39.5, 40, 120], "race": list("abcab")})


def test_labels_keep_the_order_of_the_values_not_of_the_labels():
    out = apply_groups(FRAME, {"sex": {2: "female", 1: "male"}})
    assert out["sex"].tolist() == ["male", "female", "male", "female", "female"]
    assert out["sex"].cat.categories.tolist() == ["male", "female"] and out["sex"].cat.ordered
    assert out["age"].tolist() == FRAME["age"].tolist()  # other columns untouched


def test_labels_given_as_text_name_numbers_in_numeric_order():
    """From a command line every value is text; codes 1, 2, 10 keep that order (not '1', '10', '2')."""
    column = pd.Series(pd.Categorical(["10", "2", "1", "2"]))  # a CSV column read as categories of text
    out = apply_groups(pd.DataFrame({"edu": column}), parse_labels(["edu=1:primary,2:secondary,10:tertiary"]))
    assert out["edu"].cat.categories.tolist() == ["primary", "secondary", "tertiary"]
    assert out["edu"].tolist() == ["tertiary", "secondary", "primary", "secondary"]


@pytest.mark.parametrize("edges, expected", [
    ([0, 25, 40, 60, 120], ["0-25", "25-40", "40-60", "60-120"]),
    ([-10, 0, 10], ["-10 to 0", "0 to 10"]),
    ([0.5, 1.5, 2.25], ["0.5-1.5", "1.5-2.25"]),
    ([1e-3, 0.1], ["0.001-0.1"]),
])
def test_band_labels(edges, expected):
    assert band_labels([float(e) for e in edges]) == expected


def test_bands_hold_their_lower_edge_and_the_last_band_both():
    out = apply_groups(FRAME, bins={"age": [17, 25, 40, 60, 120]})
    assert out["age"].tolist() == ["17-25", "25-40", "25-40", "40-60", "60-120"]
    assert out["age"].cat.categories.tolist() == ["17-25", "25-40", "40-60", "60-120"]


def test_bands_of_a_categorical_column_and_missing_values_stay_missing():
    column = pd.Series(pd.Categorical(["30", "70", None, "30"]))
    out = apply_groups(pd.DataFrame({"age": column}), bins={"age": [0, 50, 100]})
    assert out["age"].tolist()[:2] == ["0-50", "50-100"] and pd.isna(out["age"][2])


def test_groups_of_a_report_follow_the_band_order():
    """Alphabetically '25-100' would come before '5-25'; the numbers decide."""
    ages = np.tile([3, 10, 30, 60], 10)
    report = rai.fairness_report(np.tile([0, 1], 20), np.tile([1, 1, 0, 0], 10), {"age": ages},
                                 bins={"age": [0, 5, 25, 100]}, min_group_size=1)
    assert report.groups["age"].tolist() == ["0-5", "5-25", "25-100"]
    assert report.groups["count"].tolist() == [10, 10, 20]


def test_labels_and_bins_through_predictions_and_intersections():
    predictions = rai.Predictions([1, 0, 1, 0, 1], [1, 1, 0, 0, 1], FRAME[["sex", "age"]],
                                  value_labels={"sex": {1: "male", 2: "female"}}, bins={"age": [0, 40, 120]})
    report = rai.fairness_report(predictions.y_true, predictions.y_pred, predictions.sensitive, min_group_size=1)
    assert [tuple(g.values()) for g in (r["group"] for r in report.group_dicts())] == [
        ("male", "0-40"), ("female", "0-40"), ("female", "40-120")]


BAD = [
    ({"value_labels": ["sex"]}, "value_labels: expected a mapping {column: {value: label}}, got list"),
    ({"value_labels": {"sex": ["a"]}}, "value_labels for 'sex': expected a non-empty mapping {value: label}, got ['a']"),
    ({"value_labels": {"sex": {}}}, "value_labels for 'sex': expected a non-empty mapping {value: label}, got {}"),
    ({"value_labels": {"sex": {1: "", 2: "f"}}}, "value_labels for 'sex': the label of 1 must be non-empty text, got ''"),
    ({"value_labels": {"sex": {1: 3, 2: "f"}}}, "value_labels for 'sex': the label of 1 must be non-empty text, got 3"),
    ({"value_labels": {"sexx": {1: "m"}}},
     "value_labels: 'sexx' is not a sensitive column; did you mean 'sex'? (sensitive: sex, age, race)"),
    ({"value_labels": {"age": {1: "m"}}, "bins": {"age": [0, 200]}}, "value_labels and bins both name column 'age'; "
     "give one of them"),
    ({"value_labels": {"sex": {1: "male"}}}, "value_labels for 'sex': 1 value(s) of the column have no label: 2"),
    ({"value_labels": {"sex": {1: "m", 2: "f", 3: "x"}}},
     "value_labels for 'sex': 3 does not occur in the column (values: 1, 2)"),
    ({"value_labels": {"sex": {1: "m", 2: "f", 3: "x", 4: "y"}}},
     "value_labels for 'sex': 3, 4 do not occur in the column (values: 1, 2)"),
    ({"value_labels": {"sex": {1: "m", "1": "f"}}}, "value_labels for 'sex': 1 and '1' name the same value"),
    ({"value_labels": {"sex": {1: "x", 2: "x"}}}, "value_labels for 'sex': label 'x' is given to 1 and 2"),
    ({"bins": {"age": "0,25"}}, "bins for 'age': edges must be numbers, got '0,25'"),
    ({"bins": {"age": [0, float("inf")]}}, "bins for 'age': edges must be numbers, got inf"),
    ({"bins": {"age": [0, True]}}, "bins for 'age': edges must be numbers, got True"),
    ({"bins": {"age": [0]}}, "bins for 'age': give at least two edges, got 1"),
    ({"bins": {"age": [0, 25, 25, 130]}}, "bins for 'age': edges must increase, got 0, 25, 25, 130"),
    ({"bins": {"age": [18, 65]}}, "bins for 'age' (18, 65) leave 2 row(s) outside every band, with values 17, 120; "
     "widen the first or last edge"),
    ({"bins": {"race": [0, 1]}}, "bins for 'race': the column holds values that are not numbers: 'a', 'b', 'c'"),
    ({"bins": ["age"]}, "bins: expected a mapping {column: [edges]}, got list"),
]


@pytest.mark.parametrize("options, message", BAD, ids=[m[:60] for _, m in BAD])
def test_bad_labels_and_bins_are_one_exact_line(options, message):
    with pytest.raises(UserError) as caught:
        apply_groups(FRAME, **options)
    assert str(caught.value) == message
    with pytest.raises(rai.UserError) as through_predictions:
        rai.Predictions([1, 0, 1, 0, 1], [1, 0, 1, 0, 1], FRAME, **options)
    assert str(through_predictions.value) == message


def test_bins_of_a_boolean_column_are_refused():
    with pytest.raises(UserError, match=r"^bins for 'flag': the column holds values that are not numbers: True, False$"):
        apply_groups(pd.DataFrame({"flag": [True, False]}), bins={"flag": [0, 1]})


@pytest.mark.parametrize("texts, message", [
    (["sex"], "--labels: expected COL=VALUE:LABEL[,VALUE:LABEL...], got 'sex'"),
    (["sex=1"], "--labels: expected COL=VALUE:LABEL[,VALUE:LABEL...], got 'sex=1'"),
    (["sex=1:male,2:"], "--labels: expected COL=VALUE:LABEL[,VALUE:LABEL...], got 'sex=1:male,2:'"),
    (["=1:male"], "--labels: expected COL=VALUE:LABEL[,VALUE:LABEL...], got '=1:male'"),
    (["sex=1:male,1:man"], "--labels: value '1' of 'sex' is labelled twice"),
    (["sex=1:male", "sex=2:female"], "--labels: column 'sex' is given twice"),
])
def test_bad_labels_option(texts, message):
    with pytest.raises(UserError) as caught:
        parse_labels(texts)
    assert str(caught.value) == message


@pytest.mark.parametrize("texts, message", [
    (["age"], "--bins: expected COL=EDGE,EDGE[,EDGE...], got 'age'"),
    (["age=0,x"], "--bins: edge 'x' of 'age' is not a number"),
    (["age=0,1", "age=2,3"], "--bins: column 'age' is given twice"),
])
def test_bad_bins_option(texts, message):
    with pytest.raises(UserError) as caught:
        parse_bins(texts)
    assert str(caught.value) == message


def test_options_parse():
    assert parse_labels(["sex=1:male, 2 : female", "flag=true:yes:really"]) == {
        "sex": {"1": "male", "2": "female"}, "flag": {"true": "yes:really"}}
    assert parse_bins(["age=0, 25,40.5"]) == {"age": [0.0, 25.0, 40.5]}
