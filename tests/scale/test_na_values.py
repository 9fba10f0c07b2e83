"""``--na-values``: text read as missing by every engine of ``rai audit``, as ``data.na_values`` in a pipeline.

A file whose cells hold ``?`` audited with ``--na-values ?`` gives the JSON of the same file with
those cells empty, in memory and streamed; the stream engine reads the CSV dialect as the memory
engine does; Spark refuses what it does not read.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import rai as rai_api
from governance.errors import UserError

from .conftest import drift_frame, predictions

DRIFT = ("audit", "drift", "--reference", "ref.csv", "--current", "cur.csv", "--json")
FAIRNESS = ("audit", "fairness", "--data", "p.csv", "--y-true", "y_true", "--y-pred", "y_pred",
            "--sensitive", "race,sex", "--json")


def with_gaps(frame: pd.DataFrame, columns: list[str], seed: int) -> pd.DataFrame:
    """``frame`` with about one cell in ten of ``columns`` missing (written as ``na_rep``)."""
    rng = np.random.default_rng(seed)
    out = frame.copy()
    for name in columns:
        out[name] = out[name].mask(rng.random(len(out)) < 0.1)
    return out


def drift_files(folder, marker, sep=",", decimal=".", encoding="utf-8"):
    """Reference and current files whose missing cells are written ``marker``."""
    folder.mkdir(exist_ok=True)
    for name, shift, seed in (("ref.csv", 0.0, 1), ("cur.csv", 0.1, 2)):
        frame = with_gaps(drift_frame(900, shift, seed), ["income", "hours", "workclass"], seed)
        frame.to_csv(folder / name, index=False, sep=sep, decimal=decimal, encoding=encoding, na_rep=marker)
    return folder


def audit(rai, monkeypatch, folder, *args):
    monkeypatch.chdir(folder)
    code, out, err = rai(*args)
    return code, out, err


@pytest.mark.parametrize("engine", ["memory", "stream"])
def test_drift_with_question_marks_equals_drift_with_empty_cells(tmp_path, monkeypatch, rai, engine):
    marked, empty = drift_files(tmp_path / "marked", "?"), drift_files(tmp_path / "empty", "")
    code, expected, err = audit(rai, monkeypatch, empty, *DRIFT, "--engine", "memory")
    assert code == 0, err
    code, out, err = audit(rai, monkeypatch, marked, *DRIFT, "--engine", engine, "--batch-rows", "100",
                           "--na-values", "?")
    assert code == 0, err
    assert json.loads(out) == json.loads(expected)
    assert {c["column"]: c for c in json.loads(out)["columns"]}["income"]["type"] == "num"


def test_without_na_values_a_question_mark_is_a_value(tmp_path, monkeypatch, rai):
    marked = drift_files(tmp_path / "marked", "?")
    code, out, err = audit(rai, monkeypatch, marked, *DRIFT, "--columns", "workclass")
    assert code == 0, err
    code, with_option, err = audit(rai, monkeypatch, marked, *DRIFT, "--columns", "workclass", "--na-values", "?")
    assert code == 0, err
    assert json.loads(out) != json.loads(with_option)


def test_markers_are_repeatable(tmp_path, monkeypatch, rai):
    folder = tmp_path / "two"
    folder.mkdir()
    for name, shift, seed in (("ref.csv", 0.0, 1), ("cur.csv", 0.1, 2)):
        frame = with_gaps(drift_frame(600, shift, seed), ["income", "hours"], seed).astype(object)
        frame.loc[frame["income"].isna(), "income"] = "?"
        frame.loc[frame["hours"].isna(), "hours"] = "unknown"
        frame.to_csv(folder / name, index=False)
    for engine in ("memory", "stream"):
        code, out, err = audit(rai, monkeypatch, folder, *DRIFT, "--columns", "income,hours", "--engine", engine,
                               "--na-values", "?", "--na-values", "unknown")
        assert code == 0, err
        assert {c["column"]: c["type"] for c in json.loads(out)["columns"]} == {"income": "num", "hours": "num"}


@pytest.mark.parametrize("column, engine", [("y_true", "memory"), ("y_true", "stream"), ("sex", "memory"),
                                            ("sex", "stream"), ("sex", "stream-parquet")])
def test_a_marker_in_a_label_or_sensitive_column_is_the_missing_value_error(tmp_path, monkeypatch, rai, column,
                                                                            engine):
    frame = predictions(500).astype({column: str})
    frame.loc[[7, 300], column] = "?"
    monkeypatch.chdir(tmp_path)
    frame.to_csv("p.csv", index=False, na_rep="")
    (tmp_path / "p.csv").write_text((tmp_path / "p.csv").read_text().replace("?", ""))
    _, _, expected = rai(*FAIRNESS, "--engine", "memory")
    data = "p.parquet" if engine.endswith("parquet") else "p.csv"
    if data.endswith("parquet"):
        frame.to_parquet(data, index=False)
    else:
        frame.to_csv(data, index=False)
    args = [a if a != "p.csv" else data for a in FAIRNESS]
    code, out, err = rai(*args, "--engine", engine.split("-")[0], "--batch-rows", "128", "--na-values", "?")
    assert (code, out) == (2, "")
    assert err == expected.replace("p.csv", data)
    assert err == f"error: {data}: column '{column}' has 2 missing value(s) (first in data row 8); fill or drop them first\n"


def test_the_stream_engine_reads_the_csv_dialect_as_the_memory_engine(tmp_path, monkeypatch, rai):
    plain = drift_files(tmp_path / "plain", "?")
    european = drift_files(tmp_path / "eu", "?", sep=";", decimal=",", encoding="latin-1")
    for name in ("ref.csv", "cur.csv"):  # a latin-1 character and a quoted separator
        text = (european / name).read_text(encoding="latin-1").replace("Gov", "'Gé;v'")
        (european / name).write_text(text, encoding="latin-1")
        (plain / name).write_text((plain / name).read_text().replace("Gov", "Gé;v"))
    dialect = ("--sep", ";", "--decimal", ",", "--encoding", "latin-1", "--quotechar", "'", "--na-values", "?")
    _, expected, _ = audit(rai, monkeypatch, plain, *DRIFT, "--engine", "memory", "--na-values", "?")
    for engine in ("memory", "stream", "auto"):
        code, out, err = audit(rai, monkeypatch, european, *DRIFT, "--engine", engine, *dialect)
        assert code == 0, err
        assert json.loads(out) == json.loads(expected), engine


@pytest.mark.parametrize("options, option", [(("--na-values", "?"), "--na-values"), (("--decimal", ","), "--decimal"),
                                             (("--sep", ";"), "--sep")])
def test_spark_refuses_the_reading_options_it_does_not_honour(tmp_path, monkeypatch, rai, options, option):
    monkeypatch.chdir(tmp_path)
    predictions(50).to_csv("p.csv", index=False)
    code, out, err = rai(*FAIRNESS, "--engine", "spark", *options)
    assert (code, out) == (2, "")
    assert err == f"error: --engine spark does not support {option}; use --engine stream or --engine memory\n"


def test_the_api_passes_na_values_to_the_reader(tmp_path):
    frame = with_gaps(drift_frame(200, 0.0, 3), ["income", "workclass"], 3)
    frame.to_csv(tmp_path / "d.csv", index=False, na_rep="?")
    frame.to_csv(tmp_path / "e.csv", index=False, na_rep="")
    expected = rai_api.read_table(tmp_path / "e.csv")
    assert expected["income"].isna().sum() == frame["income"].isna().sum() > 0
    for markers in (["?"], "?", ("?",)):
        pd.testing.assert_frame_equal(rai_api.read_table(tmp_path / "d.csv", na_values=markers), expected)
    assert rai_api.read_table(tmp_path / "d.csv")["workclass"].eq("?").sum() == frame["workclass"].isna().sum()
    with pytest.raises(UserError, match=r"^na_values: expected a list of texts, e.g. \['\?'\]$"):
        rai_api.read_table(tmp_path / "d.csv", na_values=[1])
