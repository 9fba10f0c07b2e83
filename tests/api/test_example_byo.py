"""examples/bring-your-own/train.py: a user's own Keras script governed by rai, end to end."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import rai

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "examples" / "bring-your-own" / "train.py"

pytestmark = pytest.mark.tf


def test_example_runs_and_its_run_has_a_report_and_a_model_card(tmp_path, rai_cli, monkeypatch):
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    done = subprocess.run([sys.executable, str(SCRIPT), "--workspace", str(tmp_path / "ws")],
                          capture_output=True, text=True, timeout=300, cwd=tmp_path, env=env)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "registered bring-your-own v1" in done.stdout
    with rai.open_trail(tmp_path / "ws") as trail:
        run_id = trail.runs()[-1]
        kinds = [e.kind for e in trail.events(run_id=run_id)]
    assert kinds[0] == "run.started" and kinds[-1] == "run.finished"
    assert {"gate.decided", "stage.completed", "model.registered", "model.deployed"} <= set(kinds)
    assert rai.verify_trail(tmp_path / "ws").ok
    monkeypatch.chdir(tmp_path)
    code, out, err = rai_cli("report", run_id, "--format", "json", "--workspace", "ws")
    assert code == 0, err
    report = json.loads(out)
    assert report["verdict"]["decision"] == "passed"
    code, out, err = rai_cli("model-card", run_id, "--format", "md", "--workspace", "ws")
    assert code == 0 and "bring-your-own" in out, err
