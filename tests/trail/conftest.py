"""Fixtures of the audit-trail tests: workspaces, trails, tampering, a real PostgreSQL server."""

from __future__ import annotations

import os
import sqlite3
from contextlib import contextmanager

import pytest

from governance.trail import open_trail
from governance.workspace import Workspace

from .pgserver import find_bin_dir, running_server


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch):
    # A developer's own settings must not leak into the tests.
    for name in ("RAI_SIGNING_KEY", "RAI_TRAIL_URL", "RAI_WORKSPACE"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def ws(tmp_path) -> Workspace:
    return Workspace(tmp_path / "ws")


@pytest.fixture
def trail(ws):
    t = open_trail(ws)
    yield t
    t.close()


@contextmanager
def raw_db(ws: Workspace):
    """A plain sqlite3 connection with the append-only triggers dropped: how an attacker edits."""
    conn = sqlite3.connect(ws.trail_db, isolation_level=None)
    for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall():
        conn.execute(f"DROP TRIGGER {name}")
    try:
        yield conn
    finally:
        conn.close()


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() not in ("", "0", "false", "no")


@pytest.fixture(scope="session")
def pg_server():
    """A PostgreSQL server for the session; skips without the binaries, but fails in CI."""
    bin_dir = find_bin_dir()
    if bin_dir is None:
        reason = ("PostgreSQL server binaries (initdb, pg_ctl) not found under /usr/lib/postgresql/*/bin, "
                  "on PATH or in $RAI_TEST_PG_BIN; install Debian's 'postgresql' package")
        if in_ci():
            pytest.fail(f"CI is set but {reason}", pytrace=False)
        pytest.skip(reason)
    with running_server(bin_dir) as server:
        yield server


@pytest.fixture
def pg_url(pg_server):
    """URL of a fresh database on the session's server."""
    with pg_server.database() as url:
        yield url
