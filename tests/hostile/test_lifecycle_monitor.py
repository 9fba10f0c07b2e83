"""Hostile batches and registries for ``rai monitor`` and ``rai serve``.

Labels are mapped exactly as at training: a batch coded 0/1 for a model trained on ``<=50K``
and ``>50K``, an unknown label or a missing one is one line naming the file, the column and the
values, exit 2, and the batch is refused before the model is loaded. A registry entry is bound
to its name and version: a verified copy of one model's entry under another name or version is
refused, and a model name is never a path. These cases need no TensorFlow: the entry is real
and signed, and everything is decided before its model would be loaded.

The TensorFlow cases train one small model: monitoring its own test set gives exactly the
accuracy its gate measured, the same batch coded 0/1 is refused, and a batch with a single
measurable group records its demographic parity difference as not measured (null, and an
``error`` finding that blocks), never as 0.
"""

from __future__ import annotations

import json
import shutil
import socket
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from governance.policy.loader import load_policy
from governance.trail import open_trail
from governance.trail.signing import KeyRing, Signer
from lifecycle.deploy import register

from .rai_case import one_clean_line, run, run_process

PIPELINE = Path(__file__).resolve().parents[1] / "pipeline"
ADULT = Path(__file__).resolve().parents[2] / "examples" / "adult-income" / "data"
MONITOR_RULES = """
  - id: live-accuracy
    check: performance.metric
    stage: monitor
    severity: high
    params: {metric: accuracy, min: 0.70}
  - id: live-parity
    check: fairness.demographic_parity_difference
    stage: monitor
    severity: high
    params: {sensitive_features: [sex], max: 0.5}
"""
SCHEMA = {"numeric": ["age", "hours-per-week"], "categorical": ["education"], "sensitive": ["sex"], "target": "Y",
          "positive_label": ">50K", "label_strip": ".", "labels": ["<=50K", ">50K"], "na_values": ["?", ""]}
MODEL = "adult-small"


@pytest.fixture(scope="module")
def adult_test() -> pd.DataFrame:
    return pd.read_csv(ADULT / "adult.test.csv.gz", nrows=1000, skipinitialspace=True, dtype=str)


@pytest.fixture
def registered(tmp_path, adult_test, monkeypatch) -> Path:
    """A workspace ``ws`` with a signed entry adult-small v1 (stand-in model bytes) and its policy."""
    monkeypatch.chdir(tmp_path)
    policy = tmp_path / "policy.yaml"
    policy.write_text((PIPELINE / "policy.yaml").read_text() + MONITOR_RULES)
    src = tmp_path / "src"
    src.mkdir()
    features = SCHEMA["numeric"] + SCHEMA["categorical"]
    adult_test[features].head(200).to_parquet(src / "reference.parquet")
    pd.DataFrame({"y_score": np.linspace(0, 1, 200)}).to_parquet(src / "predictions.parquet")
    (src / "model.tflite").write_bytes(b"stand-in: never loaded in these cases")
    (src / "preprocess.keras").write_bytes(b"stand-in")
    files = {"model.tflite": ("model", src / "model.tflite"), "preprocess.keras": ("preprocess", src / "preprocess.keras"),
             "reference.parquet": ("reference", src / "reference.parquet"),
             "reference_predictions.parquet": ("reference_predictions", src / "predictions.parquet")}
    loaded = load_policy(policy)
    body = {"run_id": "r1", "format": "litert", "variant": "dynamic_range", "model_sha256": "0" * 64,
            "schema": SCHEMA, "policy": {"name": loaded.policy, "sha256": loaded.sha256, "source": str(policy)}}
    register(tmp_path / "ws" / "registry", MODEL, files, body, {"owner": "tests"}, Signer.generate(),
             KeyRing(tmp_path / "ws" / "keys"))
    return tmp_path


def _batch(frame: pd.DataFrame, labels, name: str = "batch.csv") -> str:
    out = frame.drop(columns=["Y"]).copy()
    if labels is not None:
        out["Y"] = labels
    out.to_csv(name, index=False)
    return name


def _coded(frame: pd.DataFrame) -> list[int]:
    return [int(v.strip(".") == ">50K") for v in frame["Y"]]


LABEL_CASES = [
    ("coded 0/1", lambda f: _coded(f),
     "batch.csv: column 'Y' holds labels the model was not trained on: 0, 1 (training labels: '<=50K', '>50K'); "
     "code them as in training"),
    ("coded 1.0/0.0", lambda f: [float(v) for v in _coded(f)], "holds labels the model was not trained on: 0.0, 1.0"),
    ("coded true/false", lambda f: [bool(v) for v in _coded(f)], "holds labels the model was not trained on: False, True"),
    ("an unknown label", lambda f: ["maybe"] + list(f["Y"][1:]),
     "batch.csv: column 'Y' holds labels the model was not trained on: 'maybe' (training labels: '<=50K', '>50K')"),
    ("a missing label", lambda f: list(f["Y"][:5]) + [None] + list(f["Y"][6:]),
     "batch.csv: column 'Y' has 1 missing label(s) (first in data row 6); fill them, or drop the column to "
     "monitor without labels"),
    ("every label missing", lambda f: [None] * len(f), "batch.csv: column 'Y' has 1000 missing label(s) (first in data row 1)"),
    ("a 'nan' label", lambda f: ["NaN"] + list(f["Y"][1:]), "column 'Y' has 1 missing label(s) (first in data row 1)"),
    ("labels of another task", lambda f: ["yes" if c else "no" for c in _coded(f)],
     "holds labels the model was not trained on: 'no', 'yes'"),
]


@pytest.mark.parametrize("case, labels, message", LABEL_CASES, ids=[c[0] for c in LABEL_CASES])
def test_labels_not_mapped_as_at_training_are_refused(registered, rai, adult_test, case, labels, message):
    batch = _batch(adult_test, labels(adult_test))
    code, out, err = run(rai, "monitor", batch, "--model", MODEL, "--workspace", "ws", "--json", seconds=60)
    assert code == 2 and out == ""
    assert one_clean_line(err, message).startswith("error: batch.csv: column 'Y' ")
    with open_trail(registered / "ws") as trail:
        assert not [e for e in trail.events() if e.kind in ("drift.checked", "gate.decided")]


NUMBERS = [("text", "forty", "'forty'"), ("infinity", "inf", "inf"), ("minus infinity", "-Infinity", "-inf"),
           ("overflow", "1e999", "'1e999'"), ("beyond float32", "1e308", "1e+308")]


@pytest.mark.parametrize("case, value, shown", NUMBERS, ids=[n[0] for n in NUMBERS])
def test_a_numeric_feature_that_is_not_a_finite_number_is_refused(registered, rai, adult_test, case, value, shown):
    frame = adult_test.copy()
    frame.loc[3, "age"] = value
    batch = _batch(frame, list(frame["Y"]))
    code, out, err = run(rai, "monitor", batch, "--model", MODEL, "--workspace", "ws")
    assert code == 2 and out == ""
    one_clean_line(err, f"error: batch.csv: numeric feature 'age' holds {shown} in data row 4; a value must be a "
                   "finite number of magnitude up to 3.4e+38, or empty (missing)")


def test_labels_are_refused_in_a_child_process_before_tensorflow(registered, adult_test):
    batch = _batch(adult_test, _coded(adult_test))
    done = run_process(["monitor", batch, "--model", MODEL, "--workspace", "ws"], registered, seconds=60)
    assert done.returncode == 2
    one_clean_line(done.stderr, "error: batch.csv: column 'Y' holds labels the model was not trained on: 0, 1")


def _copy_entry(root: Path, name: str, version: int, link: bool = False) -> None:
    source, target = root / "ws" / "registry" / MODEL / "1", root / "ws" / "registry" / name / str(version)
    target.parent.mkdir(parents=True, exist_ok=True)
    if link:
        target.symlink_to(source, target_is_directory=True)
    else:
        shutil.copytree(source, target)


PLACES = [
    ("copied under another name", "credit-model", 7, False,
     "manifest is signed for 'adult-small' v1, but the entry is 'credit-model' v7"),
    ("copied under another version", MODEL, 2, False, "manifest is signed for 'adult-small' v1, but the entry is "
     "'adult-small' v2 (an entry copied or moved within the registry is not that model)"),
    ("symlinked under another name", "credit-model", 1, True,
     "manifest is signed for 'adult-small' v1, but the entry is 'credit-model' v1"),
]


@pytest.mark.parametrize("case, name, version, link, problem", PLACES, ids=[p[0] for p in PLACES])
def test_monitor_refuses_an_entry_away_from_its_place(registered, rai, adult_test, case, name, version, link, problem):
    _copy_entry(registered, name, version, link)
    batch = _batch(adult_test, list(adult_test["Y"]))
    code, out, err = run(rai, "monitor", batch, "--model", name, "--version", str(version), "--workspace", "ws")
    assert code == 2 and out == ""
    one_clean_line(err, f"refusing to load {name} v{version}: {problem}")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.parametrize("case, name, version, link, problem", PLACES, ids=[p[0] for p in PLACES])
def test_serve_refuses_an_entry_away_from_its_place(registered, case, name, version, link, problem):
    _copy_entry(registered, name, version, link)
    # Were the entry accepted, the server would run until the deadline kills it.
    done = run_process(["serve", name, "--version", str(version), "--workspace", "ws", "--port", str(_free_port())],
                       registered, seconds=60)
    assert done.returncode == 2
    one_clean_line(done.stderr, f"refusing to load {name} v{version}: {problem}")


NAMES = [
    ("../adult-small", "model name must be letters, digits, '.', '_' and '-' (up to 64, starting with a letter or "
     "digit, no '..'), got '../adult-small'"),
    ("ws/registry/adult-small", "got 'ws/registry/adult-small'"),
    ("..", "got '..'"),
    ("adult..small", "got 'adult..small'"),
    ("", "got ''"),
    ("x" * 65, "got '" + "x" * 65 + "'"),
]


@pytest.mark.parametrize("name, message", NAMES, ids=["parent", "separators", "dot-dot", "inner-dot-dot", "empty",
                                                      "too-long"])
def test_a_model_name_is_never_a_path(registered, rai, adult_test, name, message):
    batch = _batch(adult_test, None)
    code, out, err = run(rai, "monitor", batch, "--model", name, "--workspace", "ws")
    assert code == 2 and out == ""
    line = one_clean_line(err, message)
    assert line.startswith("error: model name must be letters, digits") and line.endswith(message)


def test_batch_that_is_not_a_file_is_one_line(registered, rai):
    Path("batch-dir").mkdir()
    code, _, err = run(rai, "monitor", "batch-dir", "--model", MODEL, "--workspace", "ws")
    assert code == 2
    one_clean_line(err, "error: batch-dir: not a regular file (a batch is a CSV or Parquet file)")
    code, _, err = run(rai, "monitor", "b" * 300 + ".csv", "--model", MODEL, "--workspace", "ws")
    assert code == 2
    one_clean_line(err, ".csv: cannot read batch: File name too long")


# --- with a trained model ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def trained(tmp_path_factory, adult_test):
    """A real pipeline run (3,000 Adult rows, two epochs) deployed to ``ws``; (project, --json summary)."""
    from rai.cli import main

    project = tmp_path_factory.mktemp("monitor-tf")
    pd.read_csv(ADULT / "adult.data.csv.gz", nrows=3000, skipinitialspace=True, dtype=str).to_csv(
        project / "train.csv", index=False)
    adult_test.to_csv(project / "test.csv", index=False)
    from pipeline.conftest import SPEC

    (project / "pipeline.yaml").write_text(SPEC)
    (project / "policy.yaml").write_text((PIPELINE / "policy.yaml").read_text() + MONITOR_RULES)
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(project)
        import contextlib
        import io

        out = io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
            with pytest.raises(SystemExit) as done:
                main(["run", "pipeline.yaml", "--workspace", "ws", "--json"])
    assert done.value.code == 0, out.getvalue()
    return project, json.loads(out.getvalue())


@pytest.mark.tf
def test_monitoring_the_test_set_gives_the_audited_accuracy_and_0_1_labels_are_refused(trained, rai, monkeypatch):
    project, summary = trained
    monkeypatch.chdir(project)
    code, out, err = run(rai, "monitor", "test.csv", "--model", MODEL, "--workspace", "ws", "--json", seconds=120)
    assert code == 0, err
    result = json.loads(out)
    (variant,) = summary["variants"]
    # The same model on the same rows: the accuracy the optimize gate audited, to the last digit.
    assert result["numbers"]["performance"]["accuracy"] == pytest.approx(variant["accuracy"], abs=1e-12)
    assert {f["rule_id"]: f["status"] for f in result["findings"]}["live-accuracy"] == "passed"
    frame = pd.read_csv("test.csv", dtype=str)
    frame["Y"] = _coded(frame)
    frame.to_csv("coded.csv", index=False)
    code, out, err = run(rai, "monitor", "coded.csv", "--model", MODEL, "--workspace", "ws", "--json", seconds=120)
    assert code == 2 and out == ""
    one_clean_line(err, "error: coded.csv: column 'Y' holds labels the model was not trained on: 0, 1")


@pytest.mark.tf
def test_a_gap_with_one_measurable_group_is_not_measured_and_blocks(trained, rai, monkeypatch):
    project, _ = trained
    monkeypatch.chdir(project)
    frame = pd.read_csv("test.csv", dtype=str)
    one_group = pd.concat([frame[frame["sex"] == "Male"], frame[frame["sex"] == "Female"].head(5)])
    one_group.to_csv("one-group.csv", index=False)
    code, out, err = run(rai, "monitor", "one-group.csv", "--model", MODEL, "--workspace", "ws", "--json",
                         seconds=120)
    assert code == 1, err
    result = json.loads(out)
    gaps = result["numbers"]["group_gaps"]
    assert gaps["sex.demographic_parity_difference"] is None and gaps["sex.equalized_odds_difference"] is None
    parity = next(f for f in result["findings"] if f["rule_id"] == "live-parity")
    assert parity["status"] == "error" and "fewer than 2 groups of sex" in parity["message"]
    assert result["decision"] == "blocked"
    with open_trail(project / "ws", create=False) as trail:
        (checked,) = [e for e in trail.events(run_id=result["run_id"]) if e.kind == "drift.checked"]
    assert checked.payload["numbers"]["group_gaps"]["sex.demographic_parity_difference"] is None



@pytest.mark.tf
def test_a_score_that_is_not_a_number_is_refused_not_counted_as_negative(trained, rai, monkeypatch):
    project, _ = trained
    monkeypatch.chdir(project)
    frame = pd.read_csv("test.csv", dtype=str)
    for column in ("age", "education-num", "capital-gain", "capital-loss", "hours-per-week"):
        frame.loc[3, column] = "3e38"  # each fits float32, but together they overflow inside the model
    frame.to_csv("huge.csv", index=False)
    with open_trail(project / "ws", create=False) as trail:
        before = len(trail.events())
    code, out, err = run(rai, "monitor", "huge.csv", "--model", MODEL, "--workspace", "ws", "--json", seconds=120)
    assert code == 2 and out == ""
    one_clean_line(err, "error: huge.csv: the model gives no finite score for data row 4 (a value far outside the "
                   "training data's range?); nothing was recorded")
    with open_trail(project / "ws", create=False) as trail:
        assert len(trail.events()) == before
