"""Drift numbers equal evidently 0.7's on the same frames; the drift checks and their bad inputs.

Oracle runs are grouped into a few evidently reports (module fixtures), since each report costs
seconds; every rai row is then compared with evidently's row: method, threshold and drift flag
identical, statistic equal to 1e-9 relative.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from evidently.core.datasets import infer_column_type
from pydantic import ValidationError

from governance.checks.base import get_check
from governance.errors import UserError
from governance.evidence import Evidence
from governance.metrics.coltypes import infer_kind
from governance.metrics.drift import drift_report, prediction_drift
from governance.metrics.stattests import STATTESTS
from governance.vocabulary import Status

from .cases import drift_frame
from .drift_oracle import assert_rows_equal, preset, read_adult, same_number, shifted, value_drift
from .support import family_cases, run_rule


@pytest.fixture(scope="module")
def adult() -> tuple[pd.DataFrame, pd.DataFrame]:
    return read_adult("adult.data.csv.gz"), read_adult("adult.test.csv.gz")


def assert_report_equals_preset(reference, current, rows, share, dataset_drift, **options):
    report = drift_report(reference, current, **options)
    assert [row["column"] for row in report.columns] == list(current.columns)
    assert {row["column"] for row in report.columns} == set(rows)
    for row in report.columns:
        assert_rows_equal(row, rows[row["column"]])
    assert report.drifted_share == pytest.approx(share, rel=1e-12)
    assert report.dataset_drift is dataset_drift
    return report


# --- Adult ----------------------------------------------------------------------------------


@pytest.mark.parametrize("missing_marker", [False, True], ids=["question-mark-is-a-value", "question-mark-missing"])
def test_adult_train_vs_test_equals_evidently(missing_marker):
    reference, current = read_adult("adult.data.csv.gz", missing_marker), read_adult("adult.test.csv.gz", missing_marker)
    rows, share, dataset_drift = preset(reference, current)
    report = assert_report_equals_preset(reference, current, rows, share, dataset_drift)
    # Same population: only the label drifts, because the test file writes ">50K." with a dot.
    assert report.drifted_columns == ["Y"] and not report.dataset_drift
    assert {row["method"] for row in report.columns} == {"wasserstein", "jensenshannon"}


def test_adult_shifted_copy_equals_evidently(adult):
    reference, current = adult[0], shifted(adult[1])
    rows, share, dataset_drift = preset(reference, current)
    report = assert_report_equals_preset(reference, current, rows, share, dataset_drift)
    assert report.dataset_drift and report.n_drifted >= 8
    assert report.to_dict()["dataset_drift"] is True


@pytest.mark.parametrize("options, evidently_options", [
    ({"stattest_threshold": 0.01}, {"threshold": 0.01}),
    ({"stattest": "psi", "stattest_threshold": 0.002}, {"method": "psi", "threshold": 0.002}),
    ({"columns": ["age", "sex", "race"], "drift_share": 0.3}, {"columns": ["age", "sex", "race"], "drift_share": 0.3}),
    ({"per_column": {"age": {"stattest": "ks", "threshold": 0.5}, "sex": {"stattest": "z"}}},
     {"per_column_method": {"age": "ks", "sex": "z"}, "per_column_threshold": {"age": 0.5}}),
], ids=["global-threshold", "psi-everywhere", "columns-and-share", "per-column"])
def test_adult_overrides_equal_evidently(adult, options, evidently_options):
    reference, current = adult
    rows, share, dataset_drift = preset(reference, current, **evidently_options)
    report = drift_report(reference, current, **options)
    assert {row["column"] for row in report.columns} == set(rows)
    for row in report.columns:
        assert_rows_equal(row, rows[row["column"]])
    assert (report.drifted_share, report.dataset_drift) == (pytest.approx(share, rel=1e-12), dataset_drift)


# Every method on columns that take each path: integer ages (counted), continuous weights
# (sorted), mostly-zero gains, 16 education levels (binned per value, not by Sturges).
NUMERIC_METHODS = ["ks", "wasserstein", "t_test", "mannw", "ed", "anderson", "psi", "kl_div", "jensenshannon", "hellinger"]
CATEGORICAL_METHODS = ["chisquare", "z", "psi", "kl_div", "jensenshannon", "hellinger"]
OVERRIDES = (
    [(column, method) for column in ("age", "fnlwgt", "capital-gain", "education-num") for method in NUMERIC_METHODS]
    + [(column, method) for column in ("sex", "race", "education") for method in CATEGORICAL_METHODS]
)


@pytest.fixture(scope="module")
def adult_overrides(adult):
    reference, current = adult[0], shifted(adult[1])
    specs = [{"column": column, "method": method} for column, method in OVERRIDES]
    return {(row["column"], row["method"]): row for row in value_drift(reference, current, specs)}


@pytest.mark.parametrize("column, method", OVERRIDES, ids=[f"{c}-{m}" for c, m in OVERRIDES])
def test_each_method_equals_evidently(adult, adult_overrides, column, method):
    reference, current = adult[0], shifted(adult[1])
    (row,) = drift_report(reference, current, columns=[column], stattest=method).columns
    assert_rows_equal(row, adult_overrides[(column, method)])


def test_every_implemented_method_has_an_oracle_case():
    assert {method for _, method in OVERRIDES} == set(STATTESTS)


# --- the default method choice, on synthetic frames --------------------------------------


def synthetic(n: int, shift: float, seed: int) -> pd.DataFrame:
    """One column per branch of evidently's type inference and default method choice."""
    rng = np.random.default_rng(seed)
    p = [0.4, 0.3, 0.2, 0.1] if shift == 0 else [0.1, 0.2, 0.3, 0.4]
    return pd.DataFrame({
        "normal": rng.normal(shift, 1, n),
        "with_nan_and_inf": np.where(rng.random(n) < 0.05, np.inf,
                                     np.where(rng.random(n) < 0.1, np.nan, rng.exponential(1 + shift, n))),
        "four_floats": rng.choice([0.0, 1.5, 3.0, 4.5], n, p=p),
        "two_floats": rng.choice([0.0, 1.0], n, p=[0.5, 0.5] if shift == 0 else [0.3, 0.7]),
        "int_40_values": rng.integers(0, 40 + int(10 * shift), n),
        "int_4_values": rng.integers(0, 4, n),
        "int_2_values": rng.integers(0, 2, n),
        "five_labels": rng.choice(list("abcde"), n, p=[.3, .3, .2, .1, .1] if shift == 0 else [.1, .1, .2, .3, .3]),
        "labels_with_none": pd.Series(rng.choice(["u", "v", "w", None], n)).astype(object),
        "yes_no": rng.choice(["yes", "no"], n),
        "flag": rng.random(n) < 0.5 + shift / 4,
        "category_dtype": pd.Categorical(rng.choice(["p", "q", "r"], n)),
    })


SMALL = {"normal": "ks", "with_nan_and_inf": "ks", "four_floats": "chisquare", "two_floats": "z",
         "int_40_values": "ks", "int_4_values": "chisquare", "int_2_values": "z", "five_labels": "chisquare",
         "labels_with_none": "chisquare", "yes_no": "z", "flag": "z", "category_dtype": "chisquare"}
LARGE = {"normal": "wasserstein", "with_nan_and_inf": "wasserstein", "int_40_values": "wasserstein",
         **{column: "jensenshannon" for column in SMALL if SMALL[column] in ("chisquare", "z")}}
# The reference size is counted after missing values are dropped: 1001 rows with holes are small.
BARELY_LARGE = {**LARGE, "with_nan_and_inf": "ks", "labels_with_none": "chisquare"}


@pytest.mark.parametrize("n_reference, n_current, shift, methods", [
    (200, 300, 0.0, SMALL), (1000, 500, 1.0, SMALL), (1001, 800, 0.0, BARELY_LARGE), (5000, 7000, 1.0, LARGE),
], ids=["small-reference", "1000-rows-is-small", "1001-rows-is-large", "large-shifted"])
def test_default_methods_equal_evidently(n_reference, n_current, shift, methods):
    reference, current = synthetic(n_reference, 0.0, 1), synthetic(n_current, shift, 2)
    rows, share, dataset_drift = preset(reference, current)
    report = assert_report_equals_preset(reference, current, rows, share, dataset_drift)
    assert {row["column"]: row["method"] for row in report.columns} == methods


def test_infinities_dropped_like_value_drift():
    """A column with infinities but no NaN: evidently's ``ValueDrift`` drops them (rai too), while
    its ``DriftedColumnsCount`` skips the cleaning for columns without NaN; rai follows ValueDrift."""
    rng = np.random.default_rng(5)
    reference = pd.DataFrame({"x": np.where(rng.random(3000) < 0.05, np.inf, rng.normal(0, 1, 3000))})
    current = pd.DataFrame({"x": np.where(rng.random(2000) < 0.05, -np.inf, rng.normal(0.3, 1, 2000))})
    (theirs,) = value_drift(reference, current, [{"column": "x"}])
    (ours,) = drift_report(reference, current).columns
    assert_rows_equal(ours, theirs)


def test_edge_samples_equal_evidently():
    reference = pd.DataFrame({"new_value": list("abc") * 100, "one_value": ["a"] * 300,
                              "other_value": ["a"] * 300, "constant": np.ones(300)})
    current = pd.DataFrame({"new_value": list("abcd") * 50, "one_value": ["a"] * 200,
                            "other_value": ["b"] * 200, "constant": np.full(200, 2.0)})
    specs = [{"column": "new_value"}, {"column": "one_value"}, {"column": "other_value"},
             {"column": "one_value", "method": "chisquare"}, {"column": "constant"},
             {"column": "constant", "method": "hellinger"}, {"column": "constant", "method": "wasserstein"}]
    for spec, theirs in zip(specs, value_drift(reference, current, specs), strict=True):
        (ours,) = drift_report(reference, current, columns=[spec["column"]], stattest=spec.get("method")).columns
        assert_rows_equal(ours, theirs)
    one = drift_report(reference, current, columns=["one_value"], stattest="chisquare")
    assert one.to_dict()["columns"][0]["statistic"] is None  # NaN p-value: JSON null, not drift


def test_prediction_drift_equals_value_drift():
    rng = np.random.default_rng(7)
    reference = pd.DataFrame({"score": rng.beta(2, 5, 4000), "label": rng.integers(0, 2, 4000)})
    current = pd.DataFrame({"score": rng.beta(2.4, 5, 3000), "label": (rng.random(3000) < 0.45).astype(int)})
    specs = [{"column": "score"}, {"column": "label"}, {"column": "score", "method": "ks"}]
    for spec, theirs in zip(specs, value_drift(reference, current, specs), strict=True):
        column = spec["column"]
        ours = prediction_drift(reference[column], current[column], stattest=spec.get("method"))
        assert ours["column"] == column
        assert_rows_equal(ours, theirs)
    assert prediction_drift(pd.Series([0.1, 0.2] * 50), pd.Series([0.1, 0.3] * 50))["column"] == "prediction"


# --- column types -------------------------------------------------------------------------

rng = np.random.default_rng(0)
TYPE_CASES = {
    "float": pd.Series(rng.normal(size=50)),
    "float-all-missing": pd.Series([np.nan] * 5),
    "int-10-values": pd.Series(np.arange(50) % 10),
    "int-11-values": pd.Series(np.arange(50) % 11),
    "strings-few": pd.Series(list("ab") * 25),
    "strings-mostly-distinct": pd.Series([f"id{i}" for i in range(50)]),
    "strings-half-distinct": pd.Series([f"id{i % 25}" for i in range(50)]),
    "strings-then-number": pd.Series(["a", "b", 3], dtype=object),
    "objects-all-missing": pd.Series([None, None], dtype=object),
    "string-dtype": pd.Series(list("ab") * 25, dtype="string"),
    "bool": pd.Series([True, False] * 25),
    "category": pd.Series(pd.Categorical(list("abc") * 10)),
    "datetime": pd.Series(pd.date_range("2024-01-01", periods=5)),
    "uint8": pd.Series(np.arange(50, dtype=np.uint8)),
    "nullable-Int64": pd.Series(pd.array(np.arange(50), dtype="Int64")),
}


@pytest.mark.parametrize("series", TYPE_CASES.values(), ids=TYPE_CASES.keys())
def test_column_types_equal_evidently(series):
    assert infer_kind(series) == infer_column_type(series).value


def test_text_and_datetime_columns_are_skipped_and_listed():
    reference = pd.DataFrame({"id": [f"r{i}" for i in range(300)], "when": pd.date_range("2024", periods=300),
                              "x": rng.normal(size=300)})
    current = reference.assign(id=[f"c{i}" for i in range(300)])
    report = drift_report(reference, current)
    assert [row["column"] for row in report.columns] == ["x"]
    assert report.to_dict()["skipped"] == [
        {"column": "id", "type": "text", "reason": "free text (dtype object)"},
        {"column": "when", "type": "datetime", "reason": "a datetime (dtype datetime64[ns])"},
    ]


# --- bad inputs: one line naming the frame and the column ---------------------------------

BASE = drift_frame(300, seed=1)
BAD_INPUTS = [
    ({"current": BASE.drop(columns=["race"])},
     "cur.csv: no column 'race' (columns: age, hours, sex)"),
    ({"reference": BASE.drop(columns=["hours"])}, "ref.csv: no column 'hours' (columns: age, sex, race)"),
    ({"columns": ["sexx"]}, "cur.csv: no column 'sexx' (columns: age, hours, sex, race; did you mean 'sex'?)"),
    ({"stattest": "kss"}, "unknown stattest 'kss'; did you mean 'ks'? (available: anderson, chisquare, ed, "
     "hellinger, jensenshannon, kl_div, ks, mannw, psi, t_test, wasserstein, z)"),
    ({"stattest": "TVD"}, "stattest 'TVD' is an evidently method rai does not implement; available: anderson,"),
    ({"stattest": "ks"}, "stattest 'ks' applies to numerical columns; column 'sex' is categorical "
     "(methods for it: chisquare, z, jensenshannon, psi, kl_div, hellinger)"),
    ({"per_column": {"age": {"stattest": "z"}}}, "stattest 'z' applies to categorical columns; column 'age' is numerical"),
    ({"per_column": {"agee": {"stattest": "ks"}}}, "per-column options name column 'agee', which is not compared"),
    ({"per_column": {"age": {"method": "ks"}}}, "per-column options of 'age': unknown key 'method' (allowed: stattest, threshold)"),
    ({"stattest_threshold": 0}, "stattest threshold must be a positive number, got 0"),
    ({"drift_share": 1.5}, "drift_share must be a number in (0, 1], got 1.5"),
    ({"current": BASE.assign(age=np.nan)}, "cur.csv: column 'age' has no values (all missing) to compare for drift"),
    ({"current": BASE.assign(age=BASE["sex"])}, "cur.csv: column 'age' must hold numbers (it is numerical in "
     "the reference data), found dtype object"),
    ({"columns": ["when"], "current": BASE.assign(when=pd.Timestamp("2024-01-01")),
      "reference": BASE.assign(when=pd.Timestamp("2024-01-01"))},
     "ref.csv: column 'when' is a datetime (dtype datetime64"),
    ({"current": BASE[[]], "reference": BASE[[]]}, "cur.csv: no numerical or categorical column to compare for drift"),
]


@pytest.mark.parametrize("arguments, message", BAD_INPUTS, ids=[m[:40] for _, m in BAD_INPUTS])
def test_bad_inputs(arguments, message):
    arguments = {"reference": BASE, "current": BASE, **arguments}
    with pytest.raises(UserError) as raised:
        drift_report(names=("ref.csv", "cur.csv"), **arguments)
    assert str(raised.value).startswith(message) and "\n" not in str(raised.value)


# --- the checks -------------------------------------------------------------------------------


@pytest.mark.parametrize("name, factory, params, expected", family_cases("drift"))
def test_drift_cases_through_the_engine(name, factory, params, expected):
    finding = run_rule(name, factory(), params)
    assert finding.status == (Status.PASSED if expected else Status.FAILED), finding.message
    rows = finding.evidence["columns"]
    assert rows and all(set(row) >= {"column", "type", "method", "statistic", "threshold", "drifted"} for row in rows)
    assert finding.evidence["schema_version"] == 1


def test_dataset_check_numbers_equal_evidently():
    evidence = Evidence(reference=drift_frame(seed=1), current=drift_frame(shift=1.0, seed=2))
    rows, share, _ = preset(evidence.require("reference"), evidence.require("current"), drift_share=0.75)
    finding = run_rule("drift.dataset", evidence, {"drift_share": 0.75})
    assert finding.observed == pytest.approx(share) and finding.threshold == 0.75
    for row in finding.evidence["columns"]:
        assert row["drifted"] == rows[row["column"]]["drifted"]
        assert same_number(row["statistic"], rows[row["column"]]["statistic"])
    assert finding.message.startswith("4 of 4 columns drifted (100.0%), at or above the drift share 75.0%; drifted: age:")


@pytest.mark.parametrize("check, evidence, message", [
    ("drift.dataset", Evidence(reference=BASE), "missing evidence 'current' at stage 'ingest'"),
    ("drift.prediction", Evidence(prediction_current=BASE["age"]), "missing evidence 'prediction_reference'"),
    ("drift.column", Evidence(reference=BASE, current=BASE.drop(columns=["age"])),
     "cannot evaluate: current: no column 'age' (columns: hours, sex, race)"),
])
def test_checks_that_cannot_run_block(check, evidence, message):
    params = {"columns": ["age"]} if check == "drift.column" else {}
    finding = run_rule(check, evidence, params)
    assert finding.status == Status.ERROR and finding.blocks
    assert finding.message.startswith(message)


@pytest.mark.parametrize("check, params, message", [
    ("drift.dataset", {"stattest": "jensen"}, "unknown stattest 'jensen'; did you mean 'jensenshannon'"),
    ("drift.dataset", {"drift_share": 0}, "Input should be greater than 0"),
    ("drift.dataset", {"drift_share": 1.5}, "Input should be less than or equal to 1"),
    ("drift.dataset", {"columns": []}, "List should have at least 1 item"),
    ("drift.column", {}, "Field required"),
    ("drift.column", {"columns": ["age"], "stattest": "ks", "stattest_threshold": 1.0},
     "stattest_threshold of 'ks' is a p-value: it must be below 1, got 1.0"),
    ("drift.prediction", {"stattest_threshold": -0.1}, "Input should be greater than 0"),
    ("drift.prediction", {"threshold": 0.1}, "Extra inputs are not permitted"),
])
def test_bad_params(check, params, message):
    with pytest.raises(ValidationError) as raised:
        get_check(check).Params(**params)
    assert message in str(raised.value)


def test_stages():
    assert get_check("drift.dataset").stages == ("ingest", "monitor")
    assert get_check("drift.column").stages == ("ingest", "monitor")
    assert get_check("drift.prediction").stages == ("monitor",)
