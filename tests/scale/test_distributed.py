"""model.distribute: two local worker processes train on CPU; the run is recorded once and gated alike."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from pipeline.conftest import SPEC as SMALL_SPEC

pytestmark = [pytest.mark.tf, pytest.mark.slow]

TESTS = Path(__file__).resolve().parents[1]
ADULT = TESTS.parent / "examples" / "adult-income" / "data"
POLICY = TESTS / "pipeline" / "policy.yaml"
TWO_WORKERS = "  distribute: {strategy: multi_worker, workers: 2}\n"


def project(root: Path, distribute: str, extra: str = "") -> Path:
    root.mkdir()
    for name, rows, target in (("adult.data.csv.gz", 3000, "train.csv"), ("adult.test.csv.gz", 1000, "test.csv")):
        pd.read_csv(ADULT / name, nrows=rows, skipinitialspace=True, dtype=str).to_csv(root / target, index=False)
    # the pipeline tests' small Adult spec, with the model distributed as asked
    spec = SMALL_SPEC.replace("  batch_size: 128\n", "  batch_size: 128\n" + distribute, 1)
    assert spec != SMALL_SPEC or not distribute
    (root / "pipeline.yaml").write_text(spec + extra)
    (root / "policy.yaml").write_text(POLICY.read_text())
    return root


def run(root: Path) -> tuple[int, dict, str]:
    """``rai run --json`` in a fresh process (workers must start TensorFlow afresh too)."""
    done = subprocess.run([sys.executable, "-m", "rai", "run", "pipeline.yaml", "--workspace", "ws", "--json"],
                          cwd=root, capture_output=True, text=True, timeout=900,
                          env={**os.environ, "TF_USE_LEGACY_KERAS": "1"})
    return done.returncode, json.loads(done.stdout) if done.stdout.strip() else {}, done.stderr


def trail_events(workspace: Path) -> list:
    from governance.trail import open_trail

    with contextlib.closing(open_trail(workspace, create=False)) as trail:
        return trail.events()


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("distributed")
    return {name: (path, *run(project(path, distribute)))
            for name, distribute in (("two-workers", TWO_WORKERS), ("one-process", ""))
            for path in [root / name]}


def test_two_workers_train_and_the_run_is_recorded_once(runs):
    path, code, summary, err = runs["two-workers"]
    assert code == 0, err[-2000:]
    assert summary["decision"] == "passed"
    events = trail_events(path / "ws")
    assert [e.kind for e in events].count("run.started") == 1 and [e.kind for e in events].count("run.finished") == 1
    trained = [e.payload for e in events if e.kind == "stage.completed" and e.payload["stage"] == "train"]
    assert len(trained) == 1  # the workers never write the trail
    blob_spec = json.dumps(trained[0])
    assert "stage" in blob_spec


def test_the_distributed_run_passes_the_same_gates(runs):
    decisions = {}
    for name in ("two-workers", "one-process"):
        path, code, _, err = runs[name]
        assert code == 0, err[-2000:]
        decisions[name] = [(e.payload["stage"], e.payload["decision"], sorted(f["rule_id"] for f in e.payload["findings"]))
                           for e in trail_events(path / "ws") if e.kind == "gate.decided"]
    assert decisions["two-workers"] == decisions["one-process"]


def test_dp_sgd_under_distribution_is_refused(tmp_path):
    root = project(tmp_path / "dp", TWO_WORKERS, "privacy: {dp: true, noise_multiplier: 1.1}\n")
    code, _, err = run(root)
    errors = [line for line in err.splitlines() if line.startswith("error: ")]
    assert code == 2 and len(errors) == 1, err
    assert errors[0].startswith("error: pipeline.yaml:14:15: model.distribute: DP-SGD is not supported under "
                                "distributed training")
    assert "Traceback" not in err
