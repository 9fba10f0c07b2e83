"""Plugin tests register checks: each test gets the registry as it was, and leaves it so."""

from __future__ import annotations

import pytest

from governance.checks import base
from governance.policy import plugins


@pytest.fixture(autouse=True)
def isolated_registry(monkeypatch):
    """A copy of the check registry (and of what plugins this process loaded) for one test."""
    monkeypatch.setattr(base, "REGISTRY", dict(base.load_all()))
    monkeypatch.setattr(base, "ORIGINS", dict(base.ORIGINS))
    monkeypatch.setattr(base, "_ENTRY_POINTS_LOADED", set(base._ENTRY_POINTS_LOADED))
    monkeypatch.setattr(plugins, "_LOADED", {})
    monkeypatch.setattr(plugins, "_CHECK_FILES", {})
