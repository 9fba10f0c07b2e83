"""Installed plugins: packages registering checks through the ``rai.checks`` entry point group.

Each test lays out an installed distribution (a ``.dist-info`` beside its module) in a directory
put on ``sys.path``, as pip would in site-packages, and lets rai find it through
``importlib.metadata``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from governance.checks import base
from governance.checks._plugins import PluginError
from governance.policy.loader import load_policy

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "plugin"


def install(site: Path, dist: str, module: str, source: str, entry: str | None = None) -> None:
    """A minimal installed distribution ``dist`` 0.1 whose ``rai.checks`` entry point is ``entry``."""
    (site / f"{module}.py").write_text(source)
    info = site / f"{dist.replace('-', '_')}-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(f"[rai.checks]\n{dist} = {entry or module}\n")


@pytest.fixture
def site(tmp_path, monkeypatch):
    directory = tmp_path / "site"
    directory.mkdir()
    monkeypatch.syspath_prepend(str(directory))
    yield directory
    for name in [m for m in sys.modules if m.startswith(("acme_", "broken_"))]:
        del sys.modules[name]


def example_source() -> str:
    return (EXAMPLE / "src" / "rai_example_checks" / "checks.py").read_text()


def test_an_installed_plugin_registers_its_checks_and_they_gate(site, tmp_path, rai):
    install(site, "acme-checks", "acme_checks", example_source())
    base.load_installed_plugins()
    assert base.origin_of("example.selection_rate_floor") == "plugin acme-checks 0.1 (entry point acme-checks = acme_checks)"
    assert base.REGISTRY["example.selection_rate_floor"].cases()  # ships its own cases
    policy = load_policy(EXAMPLE / "policy.yaml")
    rule = next(r for r in policy.rules if r.id == "selection-floor")
    assert rule.validated is None  # takes the run's sensitive features at the gate
    code, out, _ = rai("checks", "--json")
    assert code == 0 and "example.selection_rate_floor" in {c["name"] for c in json.loads(out)}


def test_an_entry_point_may_name_an_object_of_its_module(site):
    install(site, "acme-object", "acme_object", example_source(), entry="acme_object:SelectionRateFloor")
    base.load_installed_plugins()
    assert "example.selection_rate_floor" in base.REGISTRY


@pytest.mark.parametrize("source, reason", [
    ("import nowhere_to_be_found\n", "ModuleNotFoundError: No module named 'nowhere_to_be_found' ({site}/broken_mod.py, line 1)"),
    ("from governance.checks.base import Check, register\n\n@register('drift.dataset')\nclass Mine(Check):\n"
     "    stages = ('monitor',)\n", "RuntimeError: check 'drift.dataset' is registered twice (first by built-in) "
     "({site}/broken_mod.py, line 3)"),
], ids=["import-error", "taken-name"])
def test_a_broken_installed_plugin_is_one_line_and_exit_2(site, rai, monkeypatch, source, reason):
    install(site, "broken-checks", "broken_mod", source)
    before = set(base.REGISTRY)
    with pytest.raises(PluginError) as info:
        base.load_installed_plugins()
    expected = ("rai.checks: plugin broken-checks 0.1 (entry point broken-checks = broken_mod): cannot load plugin: "
                + reason.format(site=site))
    assert str(info.value) == expected
    assert set(base.REGISTRY) == before
    monkeypatch.setattr(base, "_FAMILIES_LOADED", False)  # as in a fresh process: load_all finds plugins
    code, out, err = rai("checks")
    assert code == 2 and err == f"error: {expected}\n" and out == ""
