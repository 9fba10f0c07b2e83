"""Reading a monitored batch: the pipeline's reader, labels and groups as at training, for every task.

``read_batch`` reads through :func:`governance.io.read_table` with the model's ``na_values``, as
ingest does: a row with a field too many, a column named twice or a nested Parquet column is one
line naming the file, exit 2, and nothing is recorded. Labels are coded for the model's task and
the sensitive columns grouped with its value labels and bins; what does not fit is refused
before the model is loaded (these cases need no TensorFlow).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from serve.harness import CLASSES, register_demo, training_frame

from governance.trail import open_trail
from governance.workspace import Workspace
from lifecycle.monitor import read_batch

from .conftest import monitor_policy


@pytest.fixture
def demo(tmp_path, monkeypatch):
    """A workspace with the fixture model of each task registered (binary ``demo``, ``tiers``, ``spend``)."""
    monkeypatch.chdir(tmp_path)
    ws = Workspace(tmp_path / "ws")
    schemas = {"demo": register_demo(ws).body["schema"],
               "tiers": register_demo(ws, name="tiers", task="multiclass").body["schema"],
               "spend": register_demo(ws, name="spend", task="regression").body["schema"]}
    labelled = register_demo(ws, name="grouped")
    schema = {**labelled.body["schema"], "sensitive": ["sex", "group", "age"],
              "value_labels": {"group": {"a": "alpha", "b": "beta"}}, "bins": {"age": [0, 50, 100]}}
    schemas["grouped"] = register_demo(ws, name="grouped", schema=schema).body["schema"]
    return ws, schemas


def _rows(target: str | None = None, values=None) -> pd.DataFrame:
    frame = training_frame().drop(columns=["Y"]).head(60)
    return frame if target is None else frame.assign(**{target: values})


def _write(name: str, frame: pd.DataFrame) -> str:
    if name.endswith(".parquet"):
        frame.to_parquet(name)
    else:
        frame.to_csv(name, index=False)
    return name


def _extra_field(name: str) -> str:
    lines = _rows().to_csv(index=False).splitlines()
    lines[2] += ",surplus"
    Path(name).write_text("\n".join(lines) + "\n")
    return name


def _twice(name: str) -> str:
    frame = _rows()
    text = frame.to_csv(index=False).splitlines()
    text[0] = text[0].replace("hours-per-week", "age")
    Path(name).write_text("\n".join(text) + "\n")
    return name


HOSTILE = [
    ("a field too many", "demo", lambda: _extra_field("batch.csv"),
     "batch.csv:3: 6 fields where the header has 5; the value 'surplus' after column 'group' is in no column"),
    ("a column named twice", "demo", lambda: _twice("batch.csv"),
     "batch.csv:1: column 'age' is named twice in the header (columns 1 and 2)"),
    ("a nested Parquet column", "demo", lambda: _write("batch.parquet", _rows().assign(color=[["red"]] * 60)),
     "batch.parquet: column 'color' holds nested values"),
    ("a multiclass label never trained on", "tiers", lambda: _write("batch.csv", _rows("tier", ["huge"] + ["low"] * 59)),
     "batch.csv: column 'tier' holds labels the model was not trained on: 'huge' (training labels: 'high', 'low', 'medium')"),
    ("a regression target that is text", "spend", lambda: _write("batch.csv", _rows("spend", ["lots"] + [1.0] * 59)),
     "batch.csv: column 'spend' holds targets that are not finite numbers: 'lots' (first in data row 1)"),
    ("an infinite regression target", "spend", lambda: _write("batch.csv", _rows("spend", [np.inf] + [1.0] * 59)),
     "batch.csv: column 'spend' holds targets that are not finite numbers: inf (first in data row 1)"),
    ("a missing regression target", "spend", lambda: _write("batch.csv", _rows("spend", [None] + [1.0] * 59)),
     "batch.csv: column 'spend' has 1 missing label(s) (first in data row 1)"),
    ("a group without a value label", "grouped",
     lambda: _write("batch.csv", _rows().assign(group=["c"] + ["a"] * 59, age=30.0)),
     "batch.csv: the model's value_labels for 'group': 1 value(s) of the column have no label: 'c'"),
    ("a missing sensitive value", "grouped", lambda: _write("batch.csv", _rows()),
     "batch.csv: sensitive: column 'age' has 6 missing value(s) (first at row 0); every row needs a known group"),
    ("an age outside the bins", "grouped", lambda: _write("batch.csv", _rows().assign(age=[130.0] + [30.0] * 59)),
     "batch.csv: the model's bins for 'age' (0, 50, 100) leave 1 row(s) outside every band, with values 130"),
]


@pytest.mark.parametrize("case, model, make, message", HOSTILE, ids=[h[0] for h in HOSTILE])
def test_a_batch_that_does_not_fit_the_model_is_one_line_and_records_nothing(demo, rai, case, model, make, message):
    ws, _ = demo
    batch = make()
    with open_trail(ws) as trail:
        before = len(trail.events())
    policy = monitor_policy(ws.root.parent / "policy.yaml", "  - {id: drift, check: drift.dataset, stage: monitor, "
                            "severity: high, params: {}}\n")
    code, out, err = rai("monitor", batch, "--model", model, "--policy", str(policy), "--workspace", str(ws.root))
    assert (code, out) == (2, "")
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], lines
    with open_trail(ws) as trail:
        assert len(trail.events()) == before


def test_the_models_na_values_are_missing_in_csv_and_parquet_alike(demo):
    _, schemas = demo
    frame = _rows()
    frame["age"] = [None if pd.isna(v) else str(int(v)) for v in frame["age"]]  # text, as a CSV column with "?" reads
    frame.loc[2, "age"], frame.loc[3, "color"] = "?", "?"
    for name in ("b.csv", "b.parquet"):
        read, labels = read_batch(Path(_write(name, frame)), schemas["demo"])
        assert labels is None and np.isnan(read.loc[2, "age"]) and pd.isna(read.loc[3, "color"])
        assert read["age"].dtype == np.float64 and read.loc[4, "age"] == float(frame.loc[4, "age"])


def test_labels_are_coded_for_the_task_and_groups_need_not_all_occur(demo):
    _, schemas = demo
    _, tiers = read_batch(Path(_write("t.csv", _rows("tier", (CLASSES * 20)[:60]))), schemas["tiers"])
    assert list(tiers[:3]) == CLASSES and tiers.dtype == object
    _, spend = read_batch(Path(_write("s.csv", _rows("spend", np.arange(60) * 1.5))), schemas["spend"])
    assert spend.dtype == np.float64 and spend[3] == 4.5
    only_a = _rows().assign(group="a", age=30.0)  # "b" is labelled but absent: a live batch need not hold every group
    read, _ = read_batch(Path(_write("g.csv", only_a)), schemas["grouped"])
    assert list(read["group"].unique()) == ["a"]
