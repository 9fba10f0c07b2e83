"""Runs that stop early: SIGTERM, SIGHUP and SIGINT, and ``rai run --resume`` with ids that are not ids.

Every run that stops for any reason ends with ``run.finished`` (decision ``failed``) saying why,
in a trail that still verifies; the command prints one line and exits 128 + the signal's number.
The runs are real ``rai run`` processes; to stop them at a known point without racing the
stages, a stage is paused (it waits after leaving a marker file) and the signal arrives while it
waits. The TensorFlow case stops a real training run.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from governance.trail import open_trail

from .rai_case import one_clean_line, run

PIPELINE = Path(__file__).resolve().parents[1] / "pipeline"
ADULT = Path(__file__).resolve().parents[2] / "examples" / "adult-income" / "data"
DEADLINE = 60

# `rai run` with one function replaced by one that leaves a marker file and waits to be stopped.
_PAUSED = """
import sys, time
from pathlib import Path
import {module} as target

def paused(*args, **kwargs):
    Path("paused").write_text("")
    time.sleep(120)
    raise SystemExit("the signal never came")

setattr(target, "{name}", paused)
from rai.cli import main
main(sys.argv[1:])
"""


@pytest.fixture
def project(tmp_path) -> Path:
    for name, rows, target in (("adult.data.csv.gz", 600, "train.csv"), ("adult.test.csv.gz", 200, "test.csv")):
        pd.read_csv(ADULT / name, nrows=rows, skipinitialspace=True, dtype=str).to_csv(tmp_path / target, index=False)
    from pipeline.conftest import SPEC

    (tmp_path / "pipeline.yaml").write_text(SPEC)
    shutil.copy(PIPELINE / "policy.yaml", tmp_path / "policy.yaml")
    return tmp_path


def _start_paused(project: Path, module: str, name: str) -> subprocess.Popen:
    code = _PAUSED.format(module=module, name=name)
    return subprocess.Popen([sys.executable, "-c", code, "run", "pipeline.yaml", "--workspace", "ws", "--json"],
                            cwd=project, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _wait_for(path: Path, child: subprocess.Popen) -> None:
    deadline = time.monotonic() + DEADLINE
    while not path.exists():
        assert child.poll() is None, child.communicate()
        assert time.monotonic() < deadline, "the run never reached the pause"
        time.sleep(0.05)


def _stop(child: subprocess.Popen, signum: int) -> tuple[int, str, str]:
    child.send_signal(signum)
    try:
        out, err = child.communicate(timeout=DEADLINE)
    except subprocess.TimeoutExpired:
        child.kill()
        child.communicate()
        raise
    return child.returncode, out, err


def _run_events(workspace: Path) -> list:
    with open_trail(workspace, create=False) as trail:
        events = trail.events()
        assert trail.verify().ok
    return events


@pytest.mark.parametrize("signum, code", [(signal.SIGTERM, 143), (signal.SIGHUP, 129), (signal.SIGINT, 130)],
                         ids=["SIGTERM", "SIGHUP", "SIGINT"])
def test_a_signal_during_a_stage_ends_the_run_with_a_recorded_reason(project, signum, code):
    child = _start_paused(project, "lifecycle.stages", "ingest")
    _wait_for(project / "paused", child)
    returncode, out, err = _stop(child, signum)
    name = signal.Signals(signum).name
    assert returncode == code and out == "" and "Traceback" not in err
    events = _run_events(project / "ws")
    run_id = events[0].run_id
    assert err.splitlines()[-1] == f"error: run {run_id} interrupted by {name}; the trail records it as failed"
    assert [(e.kind, e.payload.get("stage"), e.payload.get("status")) for e in events] == [
        ("run.started", None, None), ("stage.completed", "ingest", "failed"), ("run.finished", None, None)]
    assert events[1].payload["error"] == f"interrupted by {name}"
    finished = events[-1].payload
    assert (finished["decision"], finished["blocked_at"], finished["reasons"]) == (
        "failed", "ingest", [f"interrupted by {name}"])


def test_a_signal_before_the_run_started_still_records_start_and_end(project):
    child = _start_paused(project, "lifecycle.pipeline", "load_spec")
    _wait_for(project / "paused", child)
    returncode, out, err = _stop(child, signal.SIGTERM)
    assert returncode == 143 and "Traceback" not in err
    started, finished = _run_events(project / "ws")
    assert (started.kind, started.payload["spec"], started.payload["spec_file"]) == ("run.started", None,
                                                                                    "pipeline.yaml")
    assert finished.kind == "run.finished" and finished.payload["reasons"] == ["interrupted by SIGTERM"]


@pytest.mark.tf
@pytest.mark.slow
def test_sigterm_during_training_is_recorded(project):
    spec = (project / "pipeline.yaml").read_text().replace("  epochs: 2", "  epochs: 1000")
    (project / "pipeline.yaml").write_text(spec)
    child = subprocess.Popen([sys.executable, "-m", "rai", "run", "pipeline.yaml", "--workspace", "ws", "--json"],
                             cwd=project, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + DEADLINE
        while not _ingest_gated(project / "ws"):
            assert child.poll() is None, child.communicate()
            assert time.monotonic() < deadline
            time.sleep(0.2)
        time.sleep(15)  # TensorFlow is imported and the model trains (1,000 epochs outlast this)
        assert child.poll() is None, child.communicate()
    except BaseException:
        child.kill()
        child.communicate()
        raise
    returncode, out, err = _stop(child, signal.SIGTERM)
    assert returncode == 143 and out == "" and "Traceback" not in err, err
    events = _run_events(project / "ws")
    assert events[-1].kind == "run.finished"
    assert (events[-1].payload["blocked_at"], events[-1].payload["reasons"]) == ("train", ["interrupted by SIGTERM"])
    assert not (project / "ws" / "registry").exists()


def _ingest_gated(workspace: Path) -> bool:
    if not (workspace / "trail.db").exists():
        return False
    try:
        with open_trail(workspace, create=False) as trail:
            return any(e.kind == "gate.decided" for e in trail.events())
    except Exception:  # the run is creating the trail right now
        return False


@pytest.mark.parametrize("run_id", ["", " ", "../../etc/passwd", "a" * 500, "-x", "run id"])
def test_resume_with_something_that_is_not_a_run_id_is_one_line(tmp_path, rai, monkeypatch, run_id):
    monkeypatch.chdir(tmp_path)
    code, out, err = run(rai, "run", "--resume", run_id, "--workspace", "ws")
    assert code == 2 and out == ""
    one_clean_line(err, "is not a run id (such as 20250131T093000Z-a1b2c3; `rai trail show` lists them)")
    assert not (tmp_path / "ws").exists()


def test_resume_of_an_unknown_run_is_one_line(project, rai, monkeypatch):
    monkeypatch.chdir(project)
    assert run(rai, "run", "pipeline.yaml", "--until", "ingest", "--workspace", "ws")[0] == 0
    code, _, err = run(rai, "run", "--resume", "20250131T093000Z-a1b2c3", "--workspace", "ws")
    assert code == 2
    one_clean_line(err, "run 20250131T093000Z-a1b2c3 cannot be resumed: the trail has no started pipeline run")


def test_signal_handlers_are_restored_after_a_run(project, rai, monkeypatch):
    monkeypatch.chdir(project)
    before = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
    assert run(rai, "run", "pipeline.yaml", "--until", "ingest", "--workspace", "ws")[0] == 0
    assert {s: signal.getsignal(s) for s in before} == before
