"""Fixtures of the dashboard tests: seeded workspaces and a way to run one page on one of them."""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from dashboards import integrity

from . import workspaces

PAGES = Path(__file__).resolve().parents[2] / "dashboards" / "views"
APP = PAGES.parent / "app.py"


def plain(markdown: str) -> str:
    """Markdown source with its backslash escapes removed: the text a reader sees."""
    return re.sub(r"\\(.)", r"\1", markdown)


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch):
    # A developer's own settings must not leak into the tests.
    for name in ("RAI_SIGNING_KEY", "RAI_TRAIL_URL", "RAI_WORKSPACE"):
        monkeypatch.delenv(name, raising=False)
    # Wait for the integrity verification as long as it takes, so the badge is always final.
    monkeypatch.setattr(integrity, "WAIT_S", 120.0)


@pytest.fixture(scope="session")
def seeded(tmp_path_factory) -> Path:
    """The seeded workspace, built once; tests must not modify it (see ``workspace``)."""
    return workspaces.build(tmp_path_factory.mktemp("dashboard") / "ws")


@pytest.fixture
def workspace(seeded, tmp_path) -> Path:
    """A private copy of the seeded workspace that a test may modify."""
    return Path(shutil.copytree(seeded, tmp_path / "ws"))


@pytest.fixture
def hostile(workspace) -> Path:
    """The seeded workspace plus a run whose every recorded string is markup."""
    workspaces.add_hostile_run(workspace)
    return workspace


@pytest.fixture
def open_page(monkeypatch) -> Callable[..., AppTest]:
    """``open_page("run", ws, run=ID)``: run one page script on workspace ``ws``; the AppTest."""

    def run(page: str, ws: Path, **query: str) -> AppTest:
        monkeypatch.setenv("RAI_WORKSPACE", str(ws))
        at = AppTest.from_file(str(PAGES / f"{page}.py"), default_timeout=120)
        for name, value in query.items():
            at.query_params[name] = value
        at.run()
        assert not at.exception, [e.value for e in at.exception]
        return at

    return run
