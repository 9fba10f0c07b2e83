"""CSV dialects (separator, encoding, decimal mark, quote character) in the API, on `rai audit` and
in the pipeline spec, read as strictly as a plain comma-separated file."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import rai as rai_api
from governance.csvoptions import CsvOptions, using
from governance.errors import LocatedError, UserError
from governance.io import read_table
from governance.yamlsafe import load_document
from governance.yamlvalidate import validate

FRAME = pd.DataFrame({"name": ["Zoë", "Ana; María", "Jürgen"], "score": [0.25, 1.5, 3.75], "y": [0, 1, 1]})


def test_semicolons_and_decimal_commas_read_the_same_numbers(tmp_path):
    FRAME.to_csv(tmp_path / "eu.csv", sep=";", decimal=",", index=False)
    read = rai_api.read_table(tmp_path / "eu.csv", sep=";", decimal=",")
    pd.testing.assert_frame_equal(read, FRAME)
    assert read["score"].dtype == np.float64


def test_an_encoding_and_a_quote_character(tmp_path):
    (tmp_path / "latin.csv").write_bytes("name,score,y\n'Zoë, Jr',0.5,1\n".encode("latin-1"))
    read = read_table(tmp_path / "latin.csv", csv_options=CsvOptions(encoding="latin-1", quotechar="'"))
    assert read.to_dict("records") == [{"name": "Zoë, Jr", "score": 0.5, "y": 1}]
    with pytest.raises(UserError, match=r"latin.csv: cannot read as CSV: 'utf-8' codec can't decode byte 0xeb"):
        read_table(tmp_path / "latin.csv")


def test_a_row_with_an_extra_field_is_refused_whatever_the_separator(tmp_path):
    (tmp_path / "extra.csv").write_text("a;b;c\n1;2;3\n4;5;6;7\n")
    with pytest.raises(UserError) as info:
        read_table(tmp_path / "extra.csv", csv_options=CsvOptions(sep=";"))
    assert str(info.value) == (f"{tmp_path}/extra.csv:3: 4 fields where the header has 3; the value '7' after "
                               "column 'c' is in no column (quote values that contain the separator)")


def test_the_options_of_a_using_block_apply_to_every_read(tmp_path):
    FRAME.to_csv(tmp_path / "tab.txt.csv", sep="\t", index=False)
    with using(CsvOptions(sep="\t")):
        assert list(read_table(tmp_path / "tab.txt.csv").columns) == ["name", "score", "y"]
    assert list(read_table(tmp_path / "tab.txt.csv").columns) == ["name\tscore\ty"]


def test_a_file_read_with_the_wrong_separator_says_which_one_it_seems_to_use(tmp_path):
    FRAME.to_csv(tmp_path / "eu.csv", sep=";", index=False)
    with pytest.raises(UserError) as info:
        read_table(tmp_path / "eu.csv", ["y"])
    assert str(info.value).endswith("; the file seems separated by ';': give the separator (--sep, or data.csv.sep "
                                    "in a spec)")


@pytest.mark.parametrize("options, message", [
    (["--sep", ";;"], "--sep: must be one character (e.g. ';' or '\\t'), got ';;'"),
    (["--sep", ""], "--sep: must be one character (e.g. ';' or '\\t'), got ''"),
    (["--sep", "\n"], "--sep: must be one character (e.g. ';' or '\\t'), got '\\n'"),
    (["--decimal", ",,"], "--decimal: must be one character (e.g. ','), got ',,'"),
    (["--quotechar", ""], "--quotechar: must be one character (e.g. \"'\"), got ''"),
    (["--encoding", "utf-9"], "--encoding: unknown encoding 'utf-9' (e.g. utf-8, latin-1, cp1252)"),
    (["--sep", ";", "--decimal", ";"], "--sep: sep and decimal must differ, both are ';'"),
    (["--sep", "'", "--quotechar", "'"], "--sep: sep and quotechar must differ, both are \"'\""),
], ids=["two-characters", "empty", "newline", "decimal", "quotechar", "encoding", "sep-is-decimal", "sep-is-quote"])
def test_a_malformed_option_on_the_command_line_is_one_line(tmp_path, rai, options, message):
    FRAME.to_csv(tmp_path / "f.csv", index=False)
    code, out, err = rai("audit", "fairness", "--data", str(tmp_path / "f.csv"), "--y-true", "y", "--y-pred", "y",
                         "--sensitive", "name", *options)
    assert (code, out, err) == (2, "", f"error: {message}\n")


def test_rai_audit_reads_a_semicolon_file(tmp_path, rai):
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"y": rng.integers(0, 2, 200), "pred": rng.integers(0, 2, 200),
                          "sex": rng.choice(["F", "M"], 200)})
    frame.to_csv(tmp_path / "comma.csv", index=False)
    frame.to_csv(tmp_path / "semi.csv", sep=";", index=False)
    args = ["--y-true", "y", "--y-pred", "pred", "--sensitive", "sex", "--json"]
    _, comma, _ = rai("audit", "fairness", "--data", str(tmp_path / "comma.csv"), *args)
    code, semi, err = rai("audit", "fairness", "--data", str(tmp_path / "semi.csv"), "--sep", ";", *args)
    assert code == 0, err
    assert json.loads(semi)["metrics"] == json.loads(comma)["metrics"]


def test_the_api_refuses_a_malformed_separator():
    with pytest.raises(UserError, match=r"^sep: must be one character \(e.g. ';' or '\\t'\), got ';;'$"):
        rai_api.read_table("any.csv", sep=";;")


@pytest.mark.parametrize("csv, message", [
    ('{sep: ";;"}', "data.csv.sep: must be one character (e.g. ';' or '\\t'), got ';;'"),
    ("{sep: 59}", "data.csv.sep: must be a string, got 59; put it in quotes"),
    ("{encoding: klingon}", "data.csv.encoding: unknown encoding 'klingon' (e.g. utf-8, latin-1, cp1252)"),
    ('{sep: ";", decimal: ";"}', "data.csv: sep and decimal must differ, both are ';'"),
    ("{separator: x}", "data.csv.separator: unknown key 'separator' (allowed: sep, encoding, decimal, quotechar)"),
], ids=["two-characters", "number", "encoding", "sep-is-decimal", "unknown-key"])
def test_spec_csv_options_are_validated_with_their_location(tmp_path, csv, message):
    from lifecycle.spec import PipelineSpec

    path = tmp_path / "pipeline.yaml"
    path.write_text("name: p\ndata:\n  train: t.csv\n  target: y\n  positive_label: 1\n  sensitive_features: [s]\n"
                    f"  csv: {csv}\ndeploy: {{model_name: p}}\npolicy: p.yaml\n")
    with pytest.raises(LocatedError) as info:
        validate(load_document(path), PipelineSpec)
    assert str(info.value).split(": ", 1)[1] == message and str(info.value).startswith(f"{path}:7:")


def test_a_pipeline_reads_its_semicolon_data(tmp_path, rai, monkeypatch):
    monkeypatch.chdir(tmp_path)
    rng = np.random.default_rng(1)
    for name, rows in (("train.csv", 400), ("test.csv", 200)):
        pd.DataFrame({"age": np.round(rng.normal(40, 9, rows), 2), "sex": rng.choice(["F", "M"], rows),
                      "y": rng.choice(["yes", "no"], rows)}).to_csv(name, sep=";", decimal=",", index=False)
    Path("policy.yaml").write_text("policy: p\nversion: 1\nowner: o\nrules:\n"
                                   "  - {id: groups, check: data.group_size, stage: ingest, severity: high}\n")
    Path("pipeline.yaml").write_text(
        "name: semi\ndata:\n  train: train.csv\n  test: test.csv\n  target: y\n  positive_label: 'yes'\n"
        "  sensitive_features: [sex]\n  csv: {sep: ';', decimal: ','}\n"
        "deploy: {model_name: semi}\npolicy: policy.yaml\n")
    code, out, err = rai("run", "pipeline.yaml", "--until", "ingest", "--workspace", "ws", "--json")
    assert code == 0, err
    (ingest,) = json.loads(out)["stages"]
    assert ingest["metrics"]["train_rows"] == 400 and ingest["metrics"]["test_rows"] == 200
    assert [f["status"] for f in ingest["findings"]] == ["passed"]  # the spec's sex, the run's features
