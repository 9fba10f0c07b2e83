"""Fixtures of the report tests: the fixed synthetic workspace and its reports."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from governance.report import build_report
from governance.trail import open_trail

from .synthetic import BLOCKED_RUN, PASSED_RUN, build_workspace

# Reports are stamped with this time so that golden files do not change from day to day.
GENERATED_AT = "2025-03-02T10:00:00Z"


@pytest.fixture(scope="session")
def fixed_workspace(tmp_path_factory) -> Path:
    """The synthetic workspace, built once; tests must not modify it (see ``workspace``)."""
    return build_workspace(tmp_path_factory.mktemp("report") / "ws")


@pytest.fixture
def workspace(fixed_workspace, tmp_path) -> Path:
    """A private copy of the synthetic workspace that a test may modify."""
    return Path(shutil.copytree(fixed_workspace, tmp_path / "ws"))


@pytest.fixture(scope="session")
def reports(fixed_workspace) -> dict[str, dict]:
    """``{run_id: ReportDocument.to_dict()}`` of both synthetic runs."""
    with open_trail(fixed_workspace, create=False) as trail:
        return {run: build_report(trail, run, generated_at=GENERATED_AT).to_dict() for run in (PASSED_RUN, BLOCKED_RUN)}
