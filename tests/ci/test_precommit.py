"""The pre-commit hooks (.pre-commit-hooks.yaml) on a temporary repository, offline.

The hooks run the installed `rai` (language: system), so pre-commit only clones the hook
repository, here a local copy of the hook definitions.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PRE_COMMIT = Path(sys.executable).parent / "pre-commit"
FIXTURE = ROOT / "policies" / "tests" / "fixtures" / "unequal-opportunity.csv"
POLICY = "policy: team\nversion: 1\nowner: o\nextends: rai:default\n"
TEST = """\
policy: ../../team.yaml
cases:
  - name: unequal-opportunity-blocks
    stage: evaluate
    evidence:
      predictions: {file: preds.csv, y_true: y, y_pred: pred, y_score: score, sensitive: [sex]}
    expect: {decision: blocked, findings: {equal-opportunity: failed}}
"""

pytestmark = pytest.mark.skipif(not PRE_COMMIT.exists(), reason="pre-commit is a dev extra")


def git(cwd: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, timeout=60, check=True)
    return done.stdout.strip()


@pytest.fixture
def env(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    return {**os.environ, "HOME": str(home), "PRE_COMMIT_HOME": str(tmp_path / "cache"),
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
            "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.org", "GIT_COMMITTER_NAME": "t",
            "GIT_COMMITTER_EMAIL": "t@example.org", "GIT_CONFIG_GLOBAL": str(home / "gitconfig")}


@pytest.fixture
def project(tmp_path, env, monkeypatch):
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    hooks = tmp_path / "hooks"
    hooks.mkdir()
    shutil.copy(ROOT / ".pre-commit-hooks.yaml", hooks)
    git(hooks, "init", "-q")
    git(hooks, "add", ".")
    git(hooks, "commit", "-q", "-m", "hooks")
    repo = tmp_path / "repo"
    (repo / "policies" / "tests" / "team").mkdir(parents=True)
    (repo / "policies" / "team.yaml").write_text(POLICY)
    (repo / "policies" / "tests" / "team" / "policy-test.yaml").write_text(TEST)
    shutil.copy(FIXTURE, repo / "policies" / "tests" / "team" / "preds.csv")
    (repo / ".pre-commit-config.yaml").write_text(
        f"repos:\n  - repo: {hooks}\n    rev: {git(hooks, 'rev-parse', 'HEAD')}\n"
        "    hooks: [{id: rai-policy-lint}, {id: rai-policy-test}]\n")
    git(repo, "init", "-q")
    git(repo, "add", ".")
    return repo


def pre_commit(repo: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(PRE_COMMIT), "run", "--all-files", "--color", "never"], cwd=repo,
                          capture_output=True, text=True, timeout=300)


def test_the_hooks_pass_on_a_valid_tested_policy(project):
    done = pre_commit(project)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "rai policy lint" in done.stdout and "rai policy test" in done.stdout
    assert done.stdout.count("Passed") == 2


def test_the_lint_hook_fails_with_the_located_line(project):
    (project / "policies" / "team.yaml").write_text(POLICY + "fail_on: hihg\n")
    done = pre_commit(project)
    assert done.returncode == 1
    assert ("policies/team.yaml:5:10: fail_on: must be one of low, medium, high, critical, got 'hihg'"
            in done.stdout)


def test_the_test_hook_fails_when_a_case_no_longer_holds(project):
    (project / "policies" / "team.yaml").write_text(POLICY + "rules:\n  - {id: equal-opportunity, check: "
                                                    "fairness.equal_opportunity_difference, stage: evaluate, "
                                                    "severity: high, params: {max: 0.5}}\n")
    done = pre_commit(project)
    assert done.returncode == 1
    assert "FAIL  unequal-opportunity-blocks" in done.stdout
    assert "equal-opportunity: expected failed, got passed" in done.stdout
