"""Fixtures of the serving tests: a workspace with the fixture model registered, and servers of it."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from governance.workspace import Workspace

from .harness import Server, register_demo


@pytest.fixture
def demo_ws(tmp_path) -> Workspace:
    """A fresh workspace with the fixture model registered as ``demo`` v1."""
    ws = Workspace(tmp_path / "ws")
    register_demo(ws)
    return ws


@pytest.fixture(scope="module")
def shared_ws(tmp_path_factory) -> Workspace:
    """One workspace for a module's read-only server."""
    ws = Workspace(tmp_path_factory.mktemp("served") / "ws")
    register_demo(ws)
    return ws


@pytest.fixture(scope="module")
def server(shared_ws):
    """``rai serve demo`` on an ephemeral port of 127.0.0.1, shared by a module's tests."""
    with Server(shared_ws, "--timeout", "2") as running:
        yield running


@dataclass
class TaskServer:
    """A running server of one task's fixture model, in one format."""

    task: str
    fmt: str
    ws: Workspace
    server: Server


#: (task, format) of the non-binary entries served by the task tests.
TASK_ENTRIES = [("multiclass", "litert"), ("multiclass", "keras"), ("regression", "litert"), ("regression", "keras")]


@pytest.fixture(scope="module", params=TASK_ENTRIES, ids=["-".join(entry) for entry in TASK_ENTRIES])
def task_server(request, tmp_path_factory):
    """``rai serve demo`` of the multiclass or regression fixture model, shared by a module's tests."""
    task, fmt = request.param
    ws = Workspace(tmp_path_factory.mktemp(f"{task}-{fmt}") / "ws")
    register_demo(ws, task=task, fmt=fmt)
    with Server(ws, "--timeout", "2") as running:
        yield TaskServer(task, fmt, ws, running)
