"""Ingest: Adult's quirks are handled, the frames are typed and hashed, bad inputs get one clear line."""

from __future__ import annotations

import gzip
import io
from pathlib import Path

import pandas as pd
import pytest

from governance.errors import UserError
from lifecycle.data import load_dataset
from lifecycle.spec import DataSpec

CSV = """\
age, sex, job, income
39, Male, clerk, <=50K
50, Female, ?, >50K.
38, Female, exec, <=50K
41, Male, exec, >50K
"""


def spec(**changes) -> DataSpec:
    fields = dict(
        train="data.csv", target="income", positive_label=">50K", label_strip=".", sensitive_features=["sex"]
    )
    return DataSpec(**{**fields, **changes})


def write(tmp_path: Path, text: str, name: str = "data.csv") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_adult_slice_is_typed_coded_and_profiled(adult_small):
    ds = adult_small
    assert ds.numeric_features == ["age", "education-num", "capital-gain", "capital-loss", "hours-per-week"]
    assert "workclass" in ds.categorical_features and "sex" in ds.categorical_features
    assert "fnlwgt" not in ds.train.columns
    # ", " separators are gone, "?" is missing, and the test file's "<=50K." labels are stripped.
    assert set(ds.train["sex"]) == {"Male", "Female"}
    assert ds.train["workclass"].isna().sum() > 0 and "?" not in set(ds.train["workclass"].dropna())
    assert set(ds.test["Y"]) == {0, 1} and ds.test["Y"].dtype == "int64"
    assert ds.profile["rows"] == {"train": 2000, "test": 1000}
    assert ds.profile["label_balance"]["train"]["positive"] == int(ds.train["Y"].sum())
    assert sum(ds.profile["groups"]["sex"]["test"].values()) == 1000
    assert ds.profile["missing"]["train"]["workclass"] == int(ds.train["workclass"].isna().sum())
    assert set(ds.source_hashes) == set(ds.content_hashes) == {"train", "test"}
    assert all(len(h) == 64 for h in [*ds.source_hashes.values(), *ds.content_hashes.values()])


def test_reading_twice_gives_the_same_hashes(adult_dir, adult_spec, adult_small):
    again = load_dataset(adult_spec, adult_dir)
    assert again.content_hashes == adult_small.content_hashes
    assert again.source_hashes == adult_small.source_hashes


def test_without_a_test_file_a_stratified_seeded_split_is_made(adult_dir, adult_spec):
    split = adult_spec.model_copy(update={"test": None, "test_fraction": 0.25})
    first, second = load_dataset(split, adult_dir), load_dataset(split, adult_dir)
    assert (len(first.train), len(first.test)) == (1500, 500)
    assert first.content_hashes == second.content_hashes
    assert abs(first.train["Y"].mean() - first.test["Y"].mean()) < 0.005
    other = load_dataset(split.model_copy(update={"seed": 1}), adult_dir)
    assert other.content_hashes != first.content_hashes


def test_gzip_and_parquet_read_like_csv(tmp_path):
    plain = load_dataset(spec(test_fraction=0.5), write(tmp_path, CSV).parent)
    with gzip.open(tmp_path / "data.csv.gz", "wt") as handle:
        handle.write(CSV)
    zipped = load_dataset(spec(train="data.csv.gz", test_fraction=0.5), tmp_path)
    pd.read_csv(tmp_path / "data.csv", skipinitialspace=True).to_parquet(tmp_path / "data.parquet")
    parquet = load_dataset(spec(train="data.parquet", test_fraction=0.5), tmp_path)
    assert zipped.content_hashes == plain.content_hashes
    assert parquet.train["job"].isna().sum() + parquet.test["job"].isna().sum() == 1  # "?" is missing
    assert list(plain.train.columns) == ["age", "sex", "job", "income"]


def test_sensitive_columns_are_kept_but_not_fed_when_asked(tmp_path):
    ds = load_dataset(spec(use_sensitive_as_features=False, test_fraction=0.5), write(tmp_path, CSV).parent)
    assert ds.features == ["age", "job"]
    assert "sex" in ds.train.columns


BAD_INPUTS = [
    (
        "misspelled target",
        CSV,
        {"target": "incom"},
        "data.csv: column 'incom' (data.target) not found; did you mean 'income'?",
    ),
    (
        "misspelled sensitive",
        CSV,
        {"sensitive_features": ["sexx"]},
        "data.csv: column 'sexx' (data.sensitive_features) not found; did you mean 'sex'?",
    ),
    (
        "unknown column",
        CSV,
        {"drop_columns": ["zzz"]},
        "data.csv: column 'zzz' (data.drop_columns) not found; columns are: age, sex, job, income",
    ),
    (
        "one class",
        CSV.replace(">50K.", "<=50K").replace(">50K", "<=50K"),
        {},
        "data.csv: target column 'income' has a single class '<=50K'; need two",
    ),
    (
        "positive label absent",
        CSV,
        {"positive_label": "rich"},
        "data.csv: positive_label 'rich' not found in target column 'income'; values are: '<=50K', '>50K'",
    ),
    ("empty file", "", {}, "data.csv: data file is empty"),
    ("header only", "age, sex, job, income\n", {}, "data.csv: data file has a header but no rows"),
    (
        "too few rows to split",
        CSV,
        {},
        "data.csv: 4 rows are too few to split off a test_fraction of 0.2 with both classes on each side; "
        "give data.test or more rows",
    ),
    (
        "text in a numeric column",
        CSV.replace("41,", "forty-one,"),
        {"numeric_features": ["age"]},
        "data.csv: numeric feature 'age' holds text, e.g. 'forty-one'",
    ),
]


@pytest.mark.parametrize("case, text, changes, message", BAD_INPUTS, ids=[case[0] for case in BAD_INPUTS])
def test_bad_inputs_are_one_clear_line(tmp_path, case, text, changes, message):
    write(tmp_path, text)
    with pytest.raises(UserError) as raised:
        load_dataset(spec(**changes), tmp_path)
    assert str(raised.value) == f"{tmp_path / message}"


def test_missing_and_unreadable_files_name_the_file(tmp_path):
    with pytest.raises(UserError, match=r"nowhere\.csv: data file not found$"):
        load_dataset(spec(train="nowhere.csv"), tmp_path)
    (tmp_path / "broken.csv.gz").write_bytes(b"not gzip at all")
    with pytest.raises(UserError, match=r"broken\.csv\.gz: cannot read as CSV: Not a gzipped file") as raised:
        load_dataset(spec(train="broken.csv.gz"), tmp_path)
    assert "\n" not in str(raised.value)


def test_a_test_file_missing_a_training_column_is_named(tmp_path):
    write(tmp_path, CSV)
    write(tmp_path, CSV.replace(" job,", " occupation,"), "test.csv")
    with pytest.raises(
        UserError, match=r"test\.csv: column 'job' \(present in the training file\) not found"
    ):
        load_dataset(spec(test="test.csv"), tmp_path)


def test_test_file_labels_must_be_the_training_labels(tmp_path):
    # Without label_strip Adult's test labels ">50K." are not ">50K": every positive would count as negative.
    write(tmp_path, CSV.replace(">50K.", ">50K"))
    write(tmp_path, CSV, "test.csv")
    with pytest.raises(UserError) as raised:
        load_dataset(spec(test="test.csv", label_strip=""), tmp_path)
    assert str(raised.value) == (f"{tmp_path / 'test.csv'}: target column 'income' holds labels the training file "
                                 "does not have: '>50K.' (training labels: '<=50K', '>50K'); code them alike or set "
                                 "data.label_strip")
    ds = load_dataset(spec(test="test.csv"), tmp_path)
    assert ds.label_classes == ["<=50K", ">50K"] and ds.test["income"].tolist() == [0, 1, 0, 1]


@pytest.mark.parametrize("positive, labels", [(1, ["1", "0", "1.0", "0"]), ("1", [1, 0, 1, 0]), (">50K", None)])
def test_labels_are_keyed_the_same_way_as_text_or_numbers(tmp_path, positive, labels):
    frame = pd.read_csv(io.StringIO(CSV), skipinitialspace=True)
    if labels is not None:
        frame["income"] = labels
    frame.to_csv(tmp_path / "data.csv", index=False)
    frame.to_csv(tmp_path / "test.csv", index=False)
    ds = load_dataset(spec(test="test.csv", positive_label=positive), tmp_path)
    expected = [0, 1, 0, 1] if labels is None else [1, 0, 1, 0]
    assert ds.train["income"].tolist() == expected and ds.test["income"].tolist() == expected


def test_columns_that_become_the_same_model_input_are_refused_at_ingest(tmp_path):
    write(tmp_path, CSV.replace("age, sex, job,", "age, sex, job title, job_title,").replace(", clerk,", ", clerk, a,")
          .replace(", ?,", ", ?, b,").replace(", exec,", ", exec, c,"))
    with pytest.raises(UserError) as raised:
        load_dataset(spec(test="data.csv"), tmp_path)
    assert str(raised.value) == (f"{tmp_path / 'data.csv'}: columns 'job title' and 'job_title' both become the "
                                 "model input 'job_title' (names keep only letters, digits, '_' and '.'); rename or "
                                 "drop one")


def test_rows_without_a_label_are_left_out_and_counted(tmp_path):
    write(tmp_path, CSV + "44, Male, exec, \n45, Female, clerk, ?\n")  # empty and "?" are missing labels
    write(tmp_path, CSV + "46, Female, exec, \n", "test.csv")
    ds = load_dataset(spec(test="test.csv"), tmp_path)
    assert (len(ds.train), len(ds.test)) == (4, 4)
    assert ds.profile["unlabelled"] == {"train": 2, "test": 1}


def test_the_ingest_stage_reports_unlabelled_rows_only_when_there_are_some(tmp_path):
    from governance.workspace import Workspace
    from lifecycle.artifacts import RunArtifacts
    from lifecycle.stages import ingest

    header, rows = CSV.split("\n", 1)
    write(tmp_path, header + "\n" + rows * 20)
    artifacts = RunArtifacts(Workspace.at(tmp_path / "ws").ensure(), "run-1")
    both = dict(train=str(tmp_path / "data.csv"), test=str(tmp_path / "test.csv"))
    write(tmp_path, header + "\n" + rows * 20 + "46, Female, exec, \n", "test.csv")
    assert ingest(spec(**both), artifacts).metrics["unlabelled_rows"] == 1
    write(tmp_path, header + "\n" + rows * 20, "test.csv")
    assert "unlabelled_rows" not in ingest(spec(**both), artifacts).metrics
