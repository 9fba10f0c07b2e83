"""Reading user files: formats, column checks with did-you-mean, label coding, one-line errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from governance.errors import UserError
from governance.io import encode_binary, missing_column_message, read_columns, read_table


@pytest.fixture
def table(tmp_path):
    frame = pd.DataFrame({"sex": ["Male", "Female", "Female"], "y": [1, 0, 1], "label": [">50K", "<=50K", "<=50K"]})
    frame.to_csv(tmp_path / "t.csv", index=False)
    frame.to_parquet(tmp_path / "t.parquet", index=False)
    (tmp_path / "spaced.csv.gz").write_bytes(pd.io.common.gzip.compress(b"sex, y, label\nMale, 1, ?\n"))
    return tmp_path


@pytest.mark.parametrize("name", ["t.csv", "t.parquet"])
def test_read_selected_columns_with_sorted_categories(table, name):
    frame = read_table(table / name, ["y", "sex"], categorical=["sex"])
    assert list(frame.columns) == ["y", "sex"]
    assert list(frame["sex"].cat.categories) == ["Female", "Male"]
    assert read_columns(table / name) == ["sex", "y", "label"]


def test_comma_space_csv_keeps_question_marks(table):
    frame = read_table(table / "spaced.csv.gz")
    assert list(frame.columns) == ["sex", "y", "label"]
    assert frame.loc[0, "label"] == "?" and frame.loc[0, "sex"] == "Male"


@pytest.mark.parametrize("name, columns, message", [
    ("t.csv", ["sexx"], "t.csv: no column 'sexx' (columns: sex, y, label; did you mean 'sex'?)"),
    ("t.parquet", ["SEX"], "t.parquet: no column 'SEX' (columns: sex, y, label; did you mean 'sex'?)"),
    ("t.csv", ["zzz"], "t.csv: no column 'zzz' (columns: sex, y, label)"),
    ("nope.csv", None, "nope.csv: no such file"),
    ("t.json", None, "t.json: unknown file type (expected one of .csv, .csv.gz"),
])
def test_read_errors(table, monkeypatch, name, columns, message):
    monkeypatch.chdir(table)
    with pytest.raises(UserError) as err:
        read_table(name, columns)
    assert str(err.value).startswith(message)


def test_unreadable_parquet_is_one_line(table, monkeypatch):
    monkeypatch.chdir(table)
    (table / "bad.parquet").write_text("not parquet")
    with pytest.raises(UserError) as err:
        read_table("bad.parquet")
    assert str(err.value).startswith("bad.parquet: cannot read as PARQUET: ") and "\n" not in str(err.value)


def test_wide_files_list_twenty_columns():
    message = missing_column_message("x", [f"c{i}" for i in range(25)])
    assert message == "no column 'x' (columns: " + ", ".join(f"c{i}" for i in range(20)) + ", ... (5 more))"


@pytest.mark.parametrize("values, pos_label, expected", [
    ([0, 1, 1], None, [0, 1, 1]),
    ([True, False], None, [1, 0]),
    ([0.0, 1.0], None, [0, 1]),
    ([">50K", "<=50K"], ">50K", [1, 0]),
    ([" >50K", "<=50K"], ">50K", [1, 0]),
    ([0, 1, 1], ">50K", [0, 1, 1]),  # already coded while the labels are text
    ([0, 1, 1], "0", [1, 0, 0]),  # a number picks that value as positive
    ([2, 7, 7], "7", [0, 1, 1]),
    ([True, False], "false", [0, 1]),
    (["<=50K", "<=50K"], ">50K", [0, 0]),  # one class, the negative one
])
def test_encode_binary(values, pos_label, expected):
    coded = encode_binary(pd.Series(values), "y", pos_label, "f.csv")
    assert coded.dtype == np.int64 and coded.tolist() == expected


@pytest.mark.parametrize("values, pos_label, message", [
    ([">50K", "<=50K"], None, "f.csv: column 'y' holds labels '>50K', '<=50K'; pass --pos-label with the positive one"),
    ([2, 7], None, "f.csv: column 'y' holds labels 2, 7; pass --pos-label with the positive one"),
    (["a", "b", "c"], "a", "f.csv: column 'y' has 3 distinct labels ('a', 'b', 'c'); a binary audit needs two"),
    ([">50K.", "<=50K."], ">50K", "f.csv: --pos-label '>50K' is not a label of column 'y' (labels: '>50K.', '<=50K.')"),
    (["a", None], "a", "f.csv: column 'y' has 1 missing value(s) (first in data row 2); fill or drop them first"),
])
def test_encode_binary_errors(values, pos_label, message):
    with pytest.raises(UserError) as err:
        encode_binary(pd.Series(values), "y", pos_label, "f.csv")
    assert str(err.value) == message


# --- files pandas would misread silently -------------------------------------------------------


@pytest.mark.parametrize("text, columns, message", [
    ("a,b\n1,2\n3,4,5\n", None, "f.csv:3: 3 fields where the header has 2; the value '5' after column 'b'"),
    ("a,b\n1,2,5\n3,4\n", ["a"], "f.csv:2: 3 fields where the header has 2"),  # would become an index
    ("a,b,a\n1,2,3\n", None, "f.csv:1: column 'a' is named twice in the header (columns 1 and 3)"),
    ("a,b,a\n1,2,3\n", ["b"], "f.csv:1: column 'a' is named twice in the header"),
])
def test_csv_rows_and_headers_that_would_be_misread(tmp_path, monkeypatch, text, columns, message):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "f.csv").write_text(text)
    with pytest.raises(UserError) as err:
        read_table("f.csv", columns)
    assert str(err.value).startswith(message) and "\n" not in str(err.value)


def test_blank_header_names_are_not_duplicates(tmp_path):
    (tmp_path / "f.csv").write_text("a,,b,\n1,2,3,4\n")
    assert read_columns(tmp_path / "f.csv") == ["a", "Unnamed: 1", "b", "Unnamed: 3"]


def test_nested_parquet_column_is_refused_when_asked_for(tmp_path, monkeypatch):
    import pyarrow as pa
    import pyarrow.parquet as pq

    monkeypatch.chdir(tmp_path)
    pq.write_table(pa.table({"x": [1, 2], "tags": [["a"], ["b", "c"]]}), "n.parquet")
    assert list(read_table("n.parquet").columns) == ["x", "tags"]  # not asked for by name: the caller decides
    with pytest.raises(UserError, match=r"^n.parquet: column 'tags' holds nested values \(Arrow type list<"):
        read_table("n.parquet", ["tags"])
