"""Bad datasets for the streaming engine: one line naming the file and the column, exit 2, no partial result."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from .conftest import predictions, write

FAIRNESS = ("audit", "fairness", "--y-true", "y_true", "--y-pred", "y_pred", "--sensitive", "race,sex",
            "--engine", "stream", "--batch-rows", "100", "--json")


def parts(tmp_path, frames, fmt="parquet"):
    folder = tmp_path / "ds"
    folder.mkdir()
    for i, frame in enumerate(frames):
        write(frame, folder / f"part-{i}.{fmt}")
    return folder


def case_missing_column(tmp_path):
    base = predictions(300)
    return parts(tmp_path, [base, base.drop(columns=["sex"])]), "ds/part-1.parquet: has no column 'sex', which"


def case_extra_column(tmp_path):
    base = predictions(300)
    return parts(tmp_path, [base, base.assign(extra=1)]), "ds/part-1.parquet: has a column 'extra', which"


def case_column_order(tmp_path):
    base = predictions(300)
    return parts(tmp_path, [base, base[base.columns[::-1]]]), "ds/part-1.parquet: orders its columns differently from"


def case_type_differs(tmp_path):
    base = predictions(300)
    other = base.assign(age=base["age"].astype(str))
    return parts(tmp_path, [base, other]), "ds/part-1.parquet: column 'age' is string here but int64 in"


def case_csv_header_differs(tmp_path):
    base = predictions(300)
    return parts(tmp_path, [base, base.rename(columns={"sex": "gender"})], "csv"), "ds/part-1.csv: has no column 'sex'"


def case_two_formats(tmp_path):
    folder = parts(tmp_path, [predictions(100)])
    write(predictions(100), folder / "more.csv")
    return folder, "ds: holds both CSV and Parquet files; a dataset is one format"


def case_empty_directory(tmp_path):
    (tmp_path / "ds").mkdir()
    (tmp_path / "ds" / "_SUCCESS").write_text("")
    return tmp_path / "ds", "ds: directory holds no CSV or Parquet file"


def case_glob_without_match(tmp_path):
    return f"{tmp_path}/nothing-*.parquet", "nothing-*.parquet: no CSV or Parquet file matches this pattern"


def case_missing_value_in_second_file(tmp_path):
    second = predictions(300, seed=2)
    second.loc[[17, 40], "race"] = None
    return (parts(tmp_path, [predictions(300), second]),
            "ds/part-1.parquet: column 'race' has 2 missing value(s) (first in data row 18); fill or drop them first")


def case_three_labels(tmp_path):
    frame = predictions(300)
    frame.loc[250, "y_true"] = 2
    return write(frame, tmp_path / "p.parquet"), "p.parquet: column 'y_true' has 3 distinct labels (1, 0, 2); a binary audit needs two"


def case_csv_row_with_extra_field(tmp_path):
    path = write(predictions(300), tmp_path / "p.csv")
    lines = path.read_text().splitlines()
    lines[250] += ",surplus"
    path.write_text("\n".join(lines) + "\n")
    return path, "p.csv:251: 7 fields where the header has 6; the value 'surplus' after column 'age' is in no column"


def case_nested_column(tmp_path):
    table = pa.Table.from_pandas(predictions(50)).append_column("tags", pa.array([[1, 2]] * 50))
    pq.write_table(table, tmp_path / "p.parquet")
    return tmp_path / "p.parquet", "p.parquet: column 'tags' holds nested values"


def case_duplicate_column(tmp_path):
    table = pa.table([pa.array([0, 1]), pa.array([1, 1]), pa.array(["a", "b"])], names=["y_true", "y_true", "race"])
    pq.write_table(table, tmp_path / "p.parquet")
    return tmp_path / "p.parquet", "p.parquet: column 'y_true' is named twice in the schema (columns 1 and 2)"


def case_no_rows(tmp_path):
    return write(predictions(10).iloc[:0], tmp_path / "p.parquet"), "p.parquet: no rows"


def case_labels_of_a_regression(tmp_path):
    frame = predictions(3000)
    frame["y_pred"] = np.arange(3000)  # scores passed as labels: refused before memory fills
    return write(frame, tmp_path / "p.parquet"), "p.parquet: column 'y_pred' has more than 1000 distinct labels"


CASES = {name[5:]: factory for name, factory in globals().items() if name.startswith("case_")}


@pytest.mark.parametrize("case", CASES)
def test_bad_dataset_is_one_line_and_exit_2(tmp_path, monkeypatch, rai, case):
    monkeypatch.chdir(tmp_path)
    data, message = CASES[case](tmp_path)
    shown = str(data).replace(f"{tmp_path}/", "")
    code, out, err = rai(*FAIRNESS[:2], "--data", shown, *FAIRNESS[2:])
    assert (code, out) == (2, ""), err
    assert err.startswith("error: ") and message in err and err.count("\n") == 1, err


@pytest.mark.parametrize("options, message", [
    (("--engine", "stream", "--policy", "p.yaml"), "--policy runs on the in-memory engine only"),
    (("--engine", "stream", "--task", "multiclass"), "--task runs on the in-memory engine only"),
    (("--spark-master", "local[1]"), "--spark-master applies to --engine spark only"),
    (("--engine", "memory", "--batch-rows", "0"), "Invalid value for '--batch-rows'"),
])
def test_options_the_engine_cannot_honour_are_refused(tmp_path, monkeypatch, rai, options, message):
    monkeypatch.chdir(tmp_path)
    write(predictions(100), tmp_path / "p.parquet")
    code, out, err = rai(*FAIRNESS[:2], "--data", "p.parquet", *FAIRNESS[2:8], *options)
    assert code == 2 and out == "" and message in err


def test_drift_dataset_with_a_column_missing_in_one_file(tmp_path, monkeypatch, rai):
    monkeypatch.chdir(tmp_path)
    frame = pd.DataFrame({"x": np.arange(50.0), "g": ["a", "b"] * 25})
    parts(tmp_path, [frame, frame[["x"]]])
    write(frame, tmp_path / "ref.parquet")
    code, out, err = rai("audit", "drift", "--reference", "ref.parquet", "--current", "ds", "--engine", "stream")
    assert (code, out) == (2, "") and "ds/part-1.parquet: has no column 'g'" in err and err.count("\n") == 1


@pytest.mark.parametrize("case", ["three_labels", "csv_row_with_extra_field", "no_rows", "missing_value_single_file"])
def test_single_file_errors_are_the_in_memory_engines_own(tmp_path, monkeypatch, rai, case):
    monkeypatch.chdir(tmp_path)
    if case == "missing_value_single_file":
        frame = predictions(300)
        frame.loc[[120, 130], "sex"] = None
        data = write(frame, tmp_path / "p.parquet")
    else:
        data, _ = CASES[case](tmp_path)
    errors = {engine: rai(*FAIRNESS[:2], "--data", data.name, *FAIRNESS[2:8], "--engine", engine)[2]
              for engine in ("memory", "stream")}
    assert errors["memory"] == errors["stream"] and errors["stream"].count("\n") == 1
