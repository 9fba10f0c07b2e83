"""Hostile data files: rows and headers that pandas would silently misread, nested Parquet columns,
and ``--record`` to a workspace rai cannot write.

A file that cannot be read exactly as written is refused with one line naming the file, the line
and the column, exit 2: a row with one field too many must never shift its values into the groups,
and a second column of the same name must never be dropped in favour of the first.
"""

from __future__ import annotations

import gzip
import os
import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from .rai_case import one_clean_line, run, run_process

DATA = Path(__file__).parent / "data"
FAIRNESS = ("audit", "fairness", "--y-true", "y", "--y-pred", "pred", "--sensitive", "sex,race")


@pytest.fixture
def here(tmp_path, monkeypatch):
    """A working directory holding copies of the hostile files (messages show relative names)."""
    for path in DATA.iterdir():
        if path.is_file():
            shutil.copy(path, tmp_path / path.name)
    monkeypatch.chdir(tmp_path)
    return tmp_path


# (file, the line the error must start with)
MISREAD_CSV = [
    ("extra-field-late.csv", "extra-field-late.csv:4: 5 fields where the header has 4; the value 'Black' after "
     "column 'race' is in no column"),
    ("extra-field-first-row.csv", "extra-field-first-row.csv:2: 5 fields where the header has 4"),
    ("unquoted-separator.csv", "unquoted-separator.csv:4: 5 fields where the header has 4; the value 'Jane'"),
    ("trailing-separator.csv", "trailing-separator.csv:4: 5 fields where the header has 4; the value ''"),
    ("extra-field-after-multiline.csv", "extra-field-after-multiline.csv:5: 5 fields where the header has 4"),
    ("extra-field.tsv", "extra-field.tsv:3: 5 fields where the header has 4; the value 'Other'"),
    ("duplicate-columns.csv", "duplicate-columns.csv:1: column 'sex' is named twice in the header (columns 3 and 4)"),
    ("duplicate-columns-spaced.csv", "duplicate-columns-spaced.csv:1: column 'sex' is named twice in the header "
     "(columns 3 and 5)"),
]


@pytest.mark.parametrize("name, message", MISREAD_CSV, ids=[m[0] for m in MISREAD_CSV])
def test_fairness_audit_refuses_misread_csv(here, rai, name, message):
    sensitive = ["--sensitive", "sex"] if name.startswith("duplicate") else []
    code, out, err = run(rai, *FAIRNESS, *sensitive, "--data", name)
    assert code == 2 and out == ""
    one_clean_line(err, f"error: {message}")


@pytest.mark.parametrize("name, message", MISREAD_CSV[:3] + MISREAD_CSV[6:7], ids=[
    m[0] for m in MISREAD_CSV[:3] + MISREAD_CSV[6:7]])
def test_drift_audit_refuses_misread_csv(here, rai, name, message):
    clean = "clean.csv"
    Path(clean).write_text("y,pred,sex,race\n1,1,Male,White\n0,0,Female,Black\n1,0,Female,White\n0,1,Male,Other\n")
    for reference, current in ((clean, name), (name, clean)):
        code, out, err = run(rai, "audit", "drift", "--reference", reference, "--current", current)
        assert code == 2 and out == ""
        one_clean_line(err, f"error: {message}")


def test_gzipped_csv_with_an_extra_field(here, rai):
    Path("late.csv.gz").write_bytes(gzip.compress(Path("extra-field-late.csv").read_bytes()))
    code, _, err = run(rai, *FAIRNESS, "--data", "late.csv.gz")
    assert code == 2
    one_clean_line(err, "late.csv.gz:4: 5 fields where the header has 4")


def test_selected_columns_do_not_hide_an_extra_field(here, rai):
    # Reading only y, pred and sex, pandas would drop the extra field without a word.
    code, _, err = run(rai, "audit", "fairness", "--data", "extra-field-late.csv", "--y-true", "y", "--y-pred", "pred",
                       "--sensitive", "sex")
    assert code == 2
    one_clean_line(err, "extra-field-late.csv:4: 5 fields")


# --- Parquet -----------------------------------------------------------------------------------

NESTED = {
    "list": pa.array([["a"], ["b"], ["a"], ["b"]]),
    "struct": pa.array([{"x": 1}, {"x": 2}, {"x": 1}, {"x": 2}]),
    "map": pa.array([[("k", 1)], [("k", 2)], [("k", 1)], [("k", 2)]], type=pa.map_(pa.string(), pa.int64())),
    "fixed-list": pa.array([[1, 2], [3, 4], [1, 2], [3, 4]], type=pa.list_(pa.int64(), 2)),
}


@pytest.mark.parametrize("kind", NESTED)
@pytest.mark.parametrize("role", ["sensitive", "label"])
def test_nested_parquet_columns_are_one_line(here, rai, kind, role):
    pq.write_table(pa.table({"y": [0, 1, 1, 0], "pred": [0, 1, 0, 0], "sex": ["M", "F", "M", "F"],
                             "odd": NESTED[kind]}), "nested.parquet")
    roles = {"sensitive": ["--y-true", "y", "--sensitive", "odd"], "label": ["--y-true", "odd", "--sensitive", "sex"]}
    code, out, err = run(rai, "audit", "fairness", "--data", "nested.parquet", "--y-pred", "pred", *roles[role])
    assert code == 2 and out == ""
    one_clean_line(err, "error: nested.parquet: column 'odd' holds nested values (Arrow type ",
                   "an audit needs one plain value")


def test_nested_parquet_column_in_drift_is_skipped_and_named(here, rai):
    table = pa.table({"x": [1.0, 2.0, 3.0, 4.0] * 50, "odd": pa.array([["a"], ["b"]] * 100)})
    pq.write_table(table, "ref.parquet")
    pq.write_table(table, "cur.parquet")
    code, out, _ = run(rai, "audit", "drift", "--reference", "ref.parquet", "--current", "cur.parquet")
    assert code == 0 and "1 column not compared: odd (of an unsupported type (dtype object))" in out
    code, _, err = run(rai, "audit", "drift", "--reference", "ref.parquet", "--current", "cur.parquet",
                       "--columns", "odd")
    assert code == 2
    one_clean_line(err, "column 'odd' holds nested values")


def test_duplicate_parquet_columns_are_refused(here, rai):
    pq.write_table(pa.table([[0, 1], [1, 1], ["M", "F"], ["F", "M"]], names=["y", "pred", "sex", "sex"]), "dup.parquet")
    code, _, err = run(rai, "audit", "fairness", "--data", "dup.parquet", "--y-true", "y", "--y-pred", "pred",
                       "--sensitive", "sex")
    assert code == 2
    one_clean_line(err, "error: dup.parquet: column 'sex' is named twice in the schema (columns 3 and 4)")


# --- --record where nothing can be written -------------------------------------------------

CLEAN = ["--data", "clean.csv", "--y-true", "y", "--y-pred", "pred", "--sensitive", "sex", "--json", "--record"]


@pytest.fixture
def clean(here):
    Path("clean.csv").write_text("y,pred,sex\n1,1,Male\n0,0,Female\n1,0,Female\n0,1,Male\n")
    Path("a-file").write_text("not a directory\n")
    return here


@pytest.mark.parametrize("workspace", ["a-file/ws", "a-file/deeper/ws"])
def test_record_under_a_file_is_one_line(clean, rai, workspace):
    code, out, err = run(rai, "audit", "fairness", *CLEAN, "--workspace", workspace)
    assert code == 2 and out.startswith("{")  # the audit itself was printed; the record was refused
    one_clean_line(err, f"error: --record: cannot write to the workspace {workspace}: Not a directory; "
                   "nothing was recorded")


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root writes to read-only directories")
@pytest.mark.parametrize("existing_trail", [False, True], ids=["new-trail", "read-only-trail"])
def test_record_to_a_read_only_workspace_is_one_line(clean, rai, existing_trail):
    os.mkdir("ws")
    if existing_trail:
        assert run(rai, "audit", "fairness", *CLEAN, "--workspace", "ws")[0] == 0
        os.chmod("ws/trail.db", 0o444)
    os.chmod("ws", 0o555)
    try:
        code, _, err = run(rai, "audit", "fairness", *CLEAN, "--workspace", "ws")
    finally:
        os.chmod("ws", 0o755)
    assert code == 2
    one_clean_line(err, "error: --record: cannot write to the workspace ws: Permission denied")


def test_record_failure_in_a_child_process(clean):
    done = run_process(["audit", "drift", "--reference", "clean.csv", "--current", "clean.csv", "--record",
                        "--workspace", "a-file/ws"], clean)
    assert done.returncode == 2
    one_clean_line(done.stderr, "--record: cannot write to the workspace a-file/ws")
