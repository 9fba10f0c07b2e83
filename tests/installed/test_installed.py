"""rai as users get it: a wheel installed (not editable) into a fresh virtual environment, with the
example plugin package beside it, all offline.

The fresh environment reaches rai's dependencies through a ``.pth`` line naming this test run's
site-packages (nothing is downloaded); rai itself and the plugin are installed into it by pip from
a wheel built here and from ``examples/plugin``, and imported from there.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ("pyproject.toml", "setup.py", "MANIFEST.in", "README.md", "LICENSE", "governance", "lifecycle",
           "dashboards", "rai", "policies")

pytestmark = pytest.mark.slow


def run(*args: str | Path, cwd: Path, env: dict | None = None, timeout: int = 600) -> subprocess.CompletedProcess:
    return subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


def build_env(base: Path) -> dict[str, str]:
    """The environment of an offline build (--no-build-isolation) of a PEP 639 project.

    setuptools >= 77 needs packaging >= 24.2 for the SPDX ``license`` field, which
    tensorflow-privacy's pin keeps out of this environment; the build gets the copy pip vendors
    (nothing is downloaded), first on its path.
    """
    import pip._vendor.packaging as vendored

    shim = base / "build-path"
    if not (shim / "packaging").exists():
        shutil.copytree(Path(vendored.__file__).parent, shim / "packaging")
    return {**os.environ, "PYTHONPATH": str(shim)}


@pytest.fixture(scope="module")
def venv(tmp_path_factory) -> Path:
    """A fresh virtual environment with rai installed from a wheel built from this checkout."""
    base = tmp_path_factory.mktemp("installed")
    source = base / "source"
    source.mkdir()
    for name in SOURCES:
        (shutil.copytree if (ROOT / name).is_dir() else shutil.copy)(
            ROOT / name, source / name, **({"ignore": shutil.ignore_patterns("__pycache__", "tests")}
                                           if (ROOT / name).is_dir() else {}))
    built = run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
                "-w", base / "dist", source, cwd=base, env=build_env(base))
    assert built.returncode == 0, built.stderr
    (wheel,) = (base / "dist").glob("rai-*.whl")
    env_dir = base / "venv"
    made = run(sys.executable, "-m", "venv", env_dir, cwd=base)
    assert made.returncode == 0, made.stderr
    site = Path(run(env_dir / "bin" / "python", "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])",
                    cwd=base).stdout.strip())
    (site / "rai-test-dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    installed = run(env_dir / "bin" / "python", "-m", "pip", "install", "--no-index", "--no-build-isolation",
                    "--no-deps", wheel, cwd=base)
    assert installed.returncode == 0, installed.stderr
    return env_dir


def rai(venv: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    return run(venv / "bin" / "rai", *args, cwd=cwd, env=env)


def test_the_installed_rai_is_the_wheel_and_carries_the_packs(venv, tmp_path):
    where = run(venv / "bin" / "python", "-c", "import governance, governance.packs as p; "
                "print(governance.__file__); print(p.pack_dir())", cwd=tmp_path).stdout.split()
    assert all(path.startswith(str(venv)) for path in where), where
    assert sorted(p.name for p in Path(where[1]).glob("*.yaml")) == ["default.yaml", "eu-ai-act-high-risk.yaml"]


def test_the_installed_rai_lints_a_policy_extending_a_pack_by_name(venv, tmp_path):
    (tmp_path / "team.yaml").write_text("policy: team\nversion: 1\nowner: o\nextends: rai:default\n"
                                        "sensitive_features: [sex]\n")
    done = rai(venv, "policy", "lint", "team.yaml", "rai:eu-ai-act-high-risk", cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.splitlines() == ["team.yaml: ok (17 rules, fail_on high)",
                                        "rai:eu-ai-act-high-risk: ok (19 rules, fail_on medium)"]
    done = rai(venv, "policy", "lint", "rai:nope", cwd=tmp_path)
    assert done.returncode == 2 and "(packs: rai:default, rai:eu-ai-act-high-risk)" in done.stdout


def test_the_example_plugin_installed_beside_it_gates_an_audit_end_to_end(venv, tmp_path):
    plugin = tmp_path / "plugin"
    shutil.copytree(ROOT / "examples" / "plugin", plugin)
    # Built with this environment's setuptools (the fresh one's is Python's old bundled copy),
    # installed by the fresh environment's pip, which finds its dependency, rai, installed there.
    built = run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
                "-w", tmp_path / "dist", plugin, cwd=tmp_path, env=build_env(tmp_path))
    assert built.returncode == 0, built.stderr
    (wheel,) = (tmp_path / "dist").glob("rai_example_checks-*.whl")
    installed = run(venv / "bin" / "python", "-m", "pip", "install", "--no-index", wheel, cwd=tmp_path)
    assert installed.returncode == 0, installed.stderr
    listed = {c["name"]: c for c in json.loads(rai(venv, "checks", "--json", cwd=tmp_path).stdout)}
    assert listed["example.selection_rate_floor"]["origin"] == (
        "plugin rai-example-checks 0.1.0 (entry point example = rai_example_checks.checks)")
    lint = rai(venv, "policy", "lint", str(plugin / "policy.yaml"), cwd=tmp_path)
    assert lint.returncode == 0, lint.stdout

    rng = np.random.default_rng(4)
    n = 400
    sex = np.where(np.arange(n) % 2 == 0, "F", "M")
    pred = np.where(sex == "F", rng.random(n) < 0.05, rng.random(n) < 0.5).astype(int)
    pd.DataFrame({"y": pred, "pred": pred, "score": np.where(pred == 1, 0.9, 0.1), "sex": sex}).to_csv(
        tmp_path / "preds.csv", index=False)
    audit = rai(venv, "audit", "fairness", "--data", "preds.csv", "--y-true", "y", "--y-pred", "pred", "--y-score",
                "score", "--sensitive", "sex", "--policy", str(plugin / "policy.yaml"), "--json", "--record",
                "--workspace", "ws", cwd=tmp_path)
    assert audit.returncode == 1, audit.stderr  # women are selected at about 5%: under the plugin's floor
    finding = next(f for f in json.loads(audit.stdout)["findings"] if f["rule_id"] == "selection-floor")
    assert finding["check"] == "example.selection_rate_floor" and finding["status"] == "failed"
    assert finding["evidence"]["sensitive_features"] == ["sex"]  # the run's, from --sensitive
    report = rai(venv, "report", "latest", "--format", "md", "--workspace", "ws", cwd=tmp_path)
    assert report.returncode == 0, report.stderr
    assert "| selection-floor | evaluate | example.selection_rate_floor | high |" in report.stdout
    sarif = rai(venv, "audit", "fairness", "--data", "preds.csv", "--y-true", "y", "--y-pred", "pred", "--y-score",
                "score", "--sensitive", "sex", "--policy", str(plugin / "policy.yaml"), "--format", "sarif", cwd=tmp_path)
    result = next(r for r in json.loads(sarif.stdout)["runs"][0]["results"] if r["ruleId"] == "selection-floor")
    assert result["locations"][0]["physicalLocation"]["region"]["startLine"] == 7
    own_tests = run(venv / "bin" / "python", "-m", "pytest", "-q", "-p", "no:cacheprovider", plugin / "tests",
                    cwd=tmp_path)
    assert own_tests.returncode == 0, own_tests.stdout
