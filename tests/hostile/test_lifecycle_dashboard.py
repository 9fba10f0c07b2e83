"""``rai dashboard`` stopped by a signal: nothing outlives the command, nothing keeps answering HTTP.

The command used to start Streamlit as a child and die alone on SIGTERM, leaving the child
serving the trail. A real ``rai dashboard`` process is started in a session of its own, stopped
with a signal once its health check answers, and then neither the port nor any process of its
session may remain.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

START_DEADLINE = 90
STOP_DEADLINE = 30


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _healthy(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.mark.parametrize("signum", [
    pytest.param(signal.SIGTERM, id="SIGTERM"),  # a few seconds: in the fast suite too
    pytest.param(signal.SIGINT, id="SIGINT", marks=pytest.mark.slow),
    pytest.param(signal.SIGHUP, id="SIGHUP", marks=pytest.mark.slow),
])
def test_a_signal_stops_the_dashboard_and_everything_it_started(tmp_path, signum):
    (tmp_path / "ws").mkdir()
    port = _free_port()
    log = tmp_path / "dashboard.log"
    env = {k: v for k, v in os.environ.items() if k != "RAI_WORKSPACE"}
    with open(log, "wb") as out:
        server = subprocess.Popen([sys.executable, "-m", "rai", "dashboard", "--workspace", "ws", "--port", str(port)],
                                  cwd=tmp_path, stdout=out, stderr=subprocess.STDOUT, start_new_session=True, env=env)
    try:
        deadline = time.monotonic() + START_DEADLINE
        while not _healthy(port):
            assert server.poll() is None, log.read_text()[-2000:]
            assert time.monotonic() < deadline, "the dashboard never answered its health check"
            time.sleep(0.2)
        server.send_signal(signum)  # to the command's own process, as a supervisor would
        server.wait(timeout=STOP_DEADLINE)
        assert not _healthy(port), "something still serves the dashboard after the command ended"
        deadline = time.monotonic() + 5
        while _group_alive(server.pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not _group_alive(server.pid), "a process of the dashboard outlived the command"
    finally:
        if _group_alive(server.pid):
            os.killpg(server.pid, signal.SIGKILL)
        if server.poll() is None:
            server.wait(timeout=STOP_DEADLINE)


def test_a_missing_workspace_is_one_line_before_anything_starts(tmp_path):
    done = subprocess.run([sys.executable, "-m", "rai", "dashboard", "--workspace", str(Path("nowhere"))],
                          cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr == "error: nowhere: no workspace here (run `rai run ...` first or pass --workspace)\n"
