"""A model trained on CSV files of another dialect (``data.csv``) is monitored on batches in that dialect.

The registered schema records the spec's ``data.csv`` fields that differ from the defaults (a
default spec records none, so its manifest is unchanged); ``rai monitor`` reads a CSV batch with
them, and ``--sep``, ``--encoding``, ``--decimal`` and ``--quotechar`` replace recorded fields for
a batch written otherwise. The models are the serving tests' fixture, registered with the schema
the pipeline builds from a real ingest of the same rows (no training).
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from serve.harness import register_demo, training_frame

from governance.csvoptions import CsvOptions
from governance.errors import UserError
from governance.trail import open_trail
from governance.workspace import Workspace
from lifecycle.data import load_dataset
from lifecycle.monitor import read_batch
from lifecycle.registration import schema
from lifecycle.results import Ingested
from lifecycle.spec import DataSpec

from .conftest import monitor_policy

SEMICOLON = {"sep": ";", "decimal": ","}
RULES = """\
  - {id: drift, check: drift.dataset, stage: monitor, severity: high, params: {}}
  - {id: parity-sex, check: fairness.demographic_parity_difference, stage: monitor, severity: high,
     params: {sensitive_features: [sex], max: 0.5}}
  - {id: live-accuracy, check: performance.metric, stage: monitor, severity: high, params: {metric: accuracy, min: 0.1}}
"""


def _pipeline_schema(tmp_path: Path, name: str, dialect: dict[str, str]) -> dict:
    """The schema ``rai run`` registers for the fixture's rows written in ``dialect`` (``data.csv``)."""
    training_frame().to_csv(tmp_path / name, index=False, **dialect)
    spec = DataSpec.model_validate({
        "train": name, "target": "Y", "positive_label": 1, "sensitive_features": ["sex", "group"],
        "numeric_features": ["age", "hours-per-week"], "categorical_features": ["color", "sex"],
        **({"csv": dialect} if dialect else {})})
    return schema(Ingested(dataset=load_dataset(spec, tmp_path), lineage={}), spec)


@pytest.fixture
def registered(tmp_path, monkeypatch):
    """A workspace with ``comma`` (a default spec) and ``semicolon`` (``data.csv: {sep: ';', decimal: ','}``)
    registered, the same live rows as ``batch.csv`` and ``batch-semicolon.csv``, and a monitor policy."""
    monkeypatch.chdir(tmp_path)
    ws = Workspace(tmp_path / "ws")
    schemas = {"comma": _pipeline_schema(tmp_path, "train.csv", {}),
               "semicolon": _pipeline_schema(tmp_path, "train-semicolon.csv", SEMICOLON)}
    for name, built in schemas.items():
        register_demo(ws, name=name, schema=built)
    live = training_frame().tail(120)
    live.to_csv("batch.csv", index=False)
    live.to_csv("batch-semicolon.csv", index=False, **SEMICOLON)
    return ws, schemas, monitor_policy(tmp_path / "policy.yaml", RULES)


def test_only_a_spec_dialect_is_recorded_and_a_default_spec_schema_is_unchanged(registered):
    _, schemas, _ = registered
    assert "csv" not in schemas["comma"]  # manifests of default specs stay as they were, hash and signature alike
    assert schemas["semicolon"]["csv"] == SEMICOLON
    assert {k: v for k, v in schemas["semicolon"].items() if k != "csv"} == schemas["comma"]


def test_a_batch_reads_in_the_recorded_dialect_or_the_one_given(registered):
    _, schemas, _ = registered
    expected, labels = read_batch(Path("batch.csv"), schemas["comma"])
    assert expected["hours-per-week"].dtype == "float64" and labels is not None
    for path, model, given in (("batch-semicolon.csv", "semicolon", None),
                               ("batch-semicolon.csv", "comma", CsvOptions(**SEMICOLON)),
                               ("batch.csv", "semicolon", CsvOptions(sep=",", decimal="."))):
        frame, coded = read_batch(Path(path), schemas[model], given)
        pd.testing.assert_frame_equal(frame, expected)
        assert list(coded) == list(labels)
    # Only the fields given replace recorded ones: a comma separator with the recorded decimal comma is refused.
    with pytest.raises(UserError, match=r"^batch.csv: CSV dialect of the batch \(the model's schema.csv with the "
                       r"options given\): csv.sep: sep and decimal must differ, both are ','$"):
        read_batch(Path("batch.csv"), schemas["semicolon"], CsvOptions(sep=","))


BAD = [
    ("a semicolon batch read as commas", ["batch-semicolon.csv", "--model", "comma"],
     "batch-semicolon.csv: no column 'age' (columns: age;hours-per-week;color;sex;group;Y)"),
    ("a comma batch for a semicolon model", ["batch.csv", "--model", "semicolon"],
     "batch.csv: no column 'age' (columns: age,hours-per-week,color,sex,group,Y)"),
    ("a separator equal to the recorded decimal mark", ["batch.csv", "--model", "semicolon", "--sep", ","],
     "csv.sep: sep and decimal must differ, both are ','"),
    ("a bad separator", ["batch.csv", "--model", "comma", "--sep", ";;"], "--sep: must be one character"),
    ("dialect options with --log", ["--log", "--model", "comma", "--sep", ";"],
     "rai monitor: --sep, --encoding, --decimal and --quotechar go with a BATCH file, not --log"),
]


@pytest.mark.parametrize("case, args, message", BAD, ids=[b[0] for b in BAD])
def test_a_batch_in_the_wrong_dialect_is_one_line_and_records_nothing(registered, rai, case, args, message):
    ws, _, policy = registered
    with open_trail(ws) as trail:
        before = len(trail.events())
    code, out, err = rai("monitor", *args, "--policy", str(policy), "--workspace", str(ws.root))
    lines = err.strip().splitlines()
    assert (code, out) == (2, "") and len(lines) == 1 and message in lines[0], lines
    with open_trail(ws) as trail:
        assert len(trail.events()) == before


@pytest.mark.tf  # scoring loads the fixture's Keras preprocessing (no training)
def test_rai_monitor_gives_the_same_numbers_in_either_dialect(registered, rai):
    ws, _, policy = registered

    def monitor(*args: str) -> dict:
        code, out, err = rai("monitor", *args, "--policy", str(policy), "--workspace", str(ws.root), "--json")
        assert code in (0, 1), err
        return json.loads(out)

    comma = monitor("batch.csv", "--model", "comma")
    assert comma["batch"]["rows"] == 120 and comma["batch"]["labelled"] and comma["numbers"]
    for summary in (monitor("batch-semicolon.csv", "--model", "semicolon"),
                    monitor("batch-semicolon.csv", "--model", "comma", "--sep", ";", "--decimal", ",")):
        assert summary["numbers"] == comma["numbers"] and summary["decision"] == comma["decision"]
        assert summary["findings"] == comma["findings"] and summary["batch"]["rows"] == 120
