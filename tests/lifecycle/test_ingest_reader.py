"""One table reader: the pipeline's ingest reads a file as ``rai audit`` reads it.

Both go through :func:`governance.io.read_table`. The same CSV or Parquet file gives equal
frames (values, dtypes and missing values) when both are given the same missing-value markers;
a pipeline's ``data.na_values`` (default ``?`` and the empty field) are the only extra markers,
and the bundled Adult files read exactly as they did before the pipeline shared the reader.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

import rai.commands.audit
import rai.commands.audit_drift
from governance.io import read_table
from lifecycle.data import read_data
from lifecycle.specload import load_spec

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "adult-income" / "pipeline.yaml"
# Every marker a user meets: empty fields, pandas' standard markers, Adult's "?" (after ", ").
MARKED = """\
age, job, sex, note, income
39, clerk, Male, NA, <=50K
, ?, Female, null, >50K
41, N/A, , ?, <=50K
NaN, exec, Male, none, >50K
50, #N/A, Female, ok, <=50K
"""


def data_spec(**changes):
    from lifecycle.spec import DataSpec

    return DataSpec(**{"train": "data.csv", "target": "income", "sensitive_features": ["sex"], **changes})


@pytest.fixture
def marked(tmp_path) -> Path:
    path = tmp_path / "data.csv"
    path.write_text(MARKED)
    return path


def test_rai_audit_reads_with_the_shared_reader():
    assert rai.commands.audit.read_table is read_table
    assert rai.commands.audit_drift.read_table is read_table


@pytest.mark.parametrize("markers", [[], ["?"], ["?", ""], ["none", "?"]], ids=["none", "adult", "spec-default", "two"])
def test_the_same_csv_gives_equal_frames_in_rai_audit_and_in_the_pipeline(marked, markers):
    audited = read_table(marked, na_values=markers)
    ingested = read_data(marked, data_spec(na_values=markers))
    assert_frame_equal(ingested, audited)
    # pandas' standard markers are missing in both, whatever the markers given.
    assert audited["age"].isna().tolist() == [False, True, False, True, False]
    assert audited["age"].dtype == "float64"
    assert audited.loc[[0, 1], "note"].isna().all() and audited.loc[[2, 4], "job"].isna().all()
    assert audited["sex"].isna().tolist() == [False, False, True, False, False]
    assert (audited.loc[1, "job"] == "?") == ("?" not in markers)
    assert (audited.loc[3, "note"] == "none") == ("none" not in markers)


def test_the_spec_default_marks_adults_question_mark_missing_and_rai_audit_does_not(marked):
    ingested = read_data(marked, data_spec())
    assert data_spec().na_values == ["?", ""]
    assert pd.isna(ingested.loc[1, "job"]) and pd.isna(ingested.loc[2, "note"])
    audited = read_table(marked)
    assert audited.loc[1, "job"] == "?" and audited.loc[2, "note"] == "?"
    assert_frame_equal(ingested, read_table(marked, na_values=["?", ""]))


def test_parquet_markers_are_missing_as_in_csv(marked, tmp_path):
    parquet = tmp_path / "data.parquet"
    pd.read_csv(marked, skipinitialspace=True, dtype=str, keep_default_na=False).to_parquet(parquet)
    markers = ["?", "", "NA", "null", "N/A", "NaN", "#N/A"]
    ingested = read_data(parquet, data_spec(train="data.parquet", na_values=markers))
    assert_frame_equal(ingested, read_table(parquet, na_values=markers))
    from_csv = read_table(marked, na_values=["?"]).astype({"age": object})
    expected = from_csv.assign(age=[None if pd.isna(v) else str(int(v)) for v in from_csv["age"]])
    assert ingested.isna().equals(expected.isna())
    assert ingested.loc[0, "job"] == "clerk" and ingested.loc[3, "note"] == "none"


def test_the_bundled_adult_files_read_as_before(tmp_path):
    """The example pipeline's frames equal pandas' reading with the pipeline's former arguments."""
    data = load_spec(EXAMPLE, check_policy=False).spec.data
    assert data.na_values == ["?"]
    for name in (data.train, data.test):
        path = EXAMPLE.parent / name
        before = pd.read_csv(path, skipinitialspace=True, na_values=data.na_values, low_memory=False)
        before.columns = [str(c).strip() for c in before.columns]
        now = read_data(path, data)
        assert_frame_equal(now, before)
        assert now["workclass"].isna().sum() > 0 and not (now.select_dtypes(object) == "?").any().any()


@pytest.mark.parametrize("case, text, message", [
    ("empty", "", "data file is empty"),
    ("header only", "age, sex, income\n", "data file has a header but no rows"),
    ("extra field", "age, sex, income\n39, Male, >50K, x\n",
     "2: 4 fields where the header has 3; the value 'x' after column 'income' is in no column "
     "(quote values that contain the separator)"),
    ("a column named twice", "age, sex, age\n1, Male, 2\n",
     "1: column 'age' is named twice in the header (columns 1 and 3); rename one, so that every column has its own name"),
], ids=lambda v: v if isinstance(v, str) and len(v) < 25 else None)
def test_bad_files_are_one_line_naming_the_file_in_both(tmp_path, case, text, message):
    from governance.errors import UserError

    path = tmp_path / "data.csv"
    path.write_text(text)
    with pytest.raises(UserError) as ingest:
        read_data(path, data_spec())
    expected = f"{path}:{message}" if message[0].isdigit() else f"{path}: {message}"
    assert str(ingest.value) == expected
    if case != "header only":  # rai audit reads a header-only file as no rows and says so later
        with pytest.raises(UserError) as audit:
            read_table(path)
        assert str(audit.value) == expected


def test_an_unknown_file_type_is_refused_with_the_allowed_ones(tmp_path):
    from governance.errors import UserError

    path = tmp_path / "adult.data"
    path.write_text(MARKED)
    with pytest.raises(UserError, match=r"adult\.data: unknown file type \(expected one of \.csv, \.csv\.gz, "):
        read_data(path, data_spec(train="adult.data"))
    assert np.isnan(read_data(path.rename(tmp_path / "adult.csv"), data_spec())["age"][1])
