"""A real MLflow tracking server on 127.0.0.1 (SQLite backend, local artifact store) for these tests.

The server is started once per test session (per xdist worker) in a session of its own, waited
for with a deadline, and stopped with its whole process group (TERM, then KILL) at the end. A
test can stop it and start it again on the same port and database (``MlflowServer.stop`` /
``start``), as an outage would. Every client call the tests make has a timeout.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from pipeline.conftest import adult_rows, project  # noqa: F401  (fixtures: the pipeline tests' small Adult project)

pytest.importorskip("mlflow", reason="MLflow support is not installed: pip install 'rai[mlflow]'")

STARTUP_TIMEOUT_S = 240  # a cold MLflow server creates its SQLite schema first; slow on a busy 2-core machine
SERVE_FIXTURES = Path(__file__).resolve().parents[1] / "serve" / "fixtures"

POLICY = """\
policy: mlflow-test
version: '1'
owner: qa
fail_on: high
rules:
  - {id: four-fifths-sex, check: fairness.demographic_parity_ratio, stage: evaluate, severity: high,
     params: {sensitive_features: [sex], min: 0.8}}
  - {id: accuracy-floor, check: performance.metric, stage: evaluate, severity: high,
     params: {metric: accuracy, min: 0.6}}
"""
APPROVALS = """\
  - {id: risk-sign-off, check: accountability.approvals, stage: deploy, severity: high, params: {roles: [risk]}}
"""


class MlflowServer:
    """``mlflow server`` as a subprocess: ``uri``, ``artifacts`` (the local artifact root), stop/start."""

    def __init__(self, root: Path):
        self.root = root
        self.port = free_port()
        self.uri = f"http://127.0.0.1:{self.port}"
        self.artifacts = root / "artifacts"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        env = {**os.environ, "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"}  # no background job workers
        log = open(self.root / "server.log", "ab")  # noqa: SIM115 - the server process owns it
        self.process = subprocess.Popen(
            [sys.executable, "-m", "mlflow", "server", "--backend-store-uri", f"sqlite:///{self.root / 'mlflow.db'}",
             "--default-artifact-root", self.artifacts.as_uri(), "--host", "127.0.0.1", "--port", str(self.port),
             "--workers", "1"],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env, start_new_session=True)
        log.close()
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while not self.healthy():
            if self.process.poll() is not None:
                raise RuntimeError(f"mlflow server exited with {self.process.returncode}: {self.log_tail()}")
            if time.monotonic() > deadline:
                self.stop()
                raise TimeoutError(f"mlflow server not healthy after {STARTUP_TIMEOUT_S} s: {self.log_tail()}")
            time.sleep(0.5)

    def healthy(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.uri}/health", timeout=2) as response:
                return response.status == 200
        except OSError:
            return False

    def stop(self) -> None:
        """TERM the server's process group (uvicorn and its workers), KILL after 20 s."""
        if self.process is None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=20)
        self.process = None

    def log_tail(self) -> str:
        text = (self.root / "server.log").read_text(errors="replace") if (self.root / "server.log").exists() else ""
        return text[-2000:]

    def client(self):
        from mlflow import MlflowClient

        return MlflowClient(tracking_uri=self.uri, registry_uri=self.uri)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def mlflow_server(tmp_path_factory):
    server = MlflowServer(tmp_path_factory.mktemp("mlflow-server"))
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(autouse=True)
def bounded_mlflow_requests(monkeypatch):
    """The tests' own MLflow client calls fail fast too (the code under test sets its own bounds)."""
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_TIMEOUT", "30")
    monkeypatch.setenv("MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT", "true")
    monkeypatch.setenv("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    """A fresh working directory with the policy; the workspace is ``.rai`` inside it."""
    monkeypatch.chdir(tmp_path)
    Path("policy.yaml").write_text(POLICY)
    return tmp_path


@pytest.fixture
def data() -> pd.DataFrame:
    """400 rows of labels, 85%-accurate predictions and sex, fair enough for the four-fifths rule."""
    rng = np.random.default_rng(7)
    n = 400
    frame = pd.DataFrame({"sex": np.where(rng.random(n) < 0.5, "female", "male"), "y": rng.integers(0, 2, n)})
    frame["pred"] = np.where(rng.random(n) < 0.85, frame["y"], 1 - frame["y"])
    return frame


def unfair(frame: pd.DataFrame) -> np.ndarray:
    """Predictions selecting one woman in eight: the four-fifths rule fails."""
    women = frame["sex"].to_numpy() == "female"
    return np.where(women, (np.arange(len(frame)) % 8 == 0).astype(int), frame["pred"].to_numpy())


class SavedKerasModel:
    """A trained Keras model already saved to a file (the serving tests' fixture).

    ``run.register`` saves the model it is given into the registry entry; this one copies its
    file, so registering needs no TensorFlow. Nothing here scores it.
    """

    def __init__(self, path: Path = SERVE_FIXTURES / "model.keras"):
        self.path = path

    def save(self, target) -> None:
        shutil.copyfile(self.path, target)

    def predict(self, x):  # pragma: no cover - registration never predicts
        raise AssertionError("registering a model does not score it")


@pytest.fixture
def rai_cli(request):
    """``rai_cli(*args) -> (exit code, stdout, stderr)``: the in-process CLI of tests/conftest.py."""
    return request.getfixturevalue("rai")


def tracked(server: MlflowServer, experiment: str = "rai-tests", **extra) -> dict:
    """The ``mlflow=`` mapping of ``rai.start_run`` for ``server``, with short timeouts."""
    return {"mlflow": server.uri, "experiment": experiment, "timeout_s": 10, "attempts": 2, **extra}


def mlflow_run(server: MlflowServer, run_id: str, experiment: str = "rai-tests"):
    """The one MLflow run mirroring rai run ``run_id``."""
    client = server.client()
    found = client.search_runs([client.get_experiment_by_name(experiment).experiment_id],
                               filter_string=f"tags.`rai.run_id` = '{run_id}'")
    assert len(found) == 1, f"{len(found)} MLflow runs mirror {run_id}"
    return found[0]


def trail_events(run_id: str, workspace: str = ".rai") -> list:
    import rai

    with rai.open_trail(workspace) as trail:
        return trail.events(run_id=run_id)
