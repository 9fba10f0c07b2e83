"""Fixtures of the serving tests: a workspace with the fixture model registered, and servers of it."""

from __future__ import annotations

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
