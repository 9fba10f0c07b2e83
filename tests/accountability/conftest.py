"""Fixtures of the accountability tests: a policy with roles, runs started under it, approver keys."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from governance.policy.loader import load_policy
from governance.provenance import policy_payload
from governance.trail import open_trail
from governance.workspace import Workspace

POLICY = """\
policy: credit-scoring
version: "1"
owner: risk@example.org
roles:
  model-risk: {members: [alice, bob], min_approvals: 1}
  compliance: {members: [carol, bob]}
  ciso: {members: [erin]}
waiver_approvers: {critical: [ciso], high: [model-risk]}
rules:
  - id: sign-off
    check: accountability.approvals
    stage: deploy
    severity: critical
    params: {roles: [model-risk, compliance]}
"""


@pytest.fixture(autouse=True)
def _own_keys(tmp_path, monkeypatch):
    """Approver keys live in the test's directory; a developer's own settings never leak in."""
    monkeypatch.setenv("RAI_APPROVER_KEYS", str(tmp_path / "approver-keys"))
    for name in ("RAI_APPROVER_KEY", "RAI_SIGNING_KEY", "RAI_TRAIL_URL", "RAI_WORKSPACE"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def ws(tmp_path) -> Workspace:
    return Workspace(tmp_path / "ws").ensure()


@pytest.fixture
def policy_file(tmp_path) -> Callable[..., Path]:
    """``policy_file(text=POLICY)``: the policy written to a file."""

    def write(text: str = POLICY, name: str = "policy.yaml") -> Path:
        path = tmp_path / name
        path.write_text(text)
        return path

    return write


@pytest.fixture
def start(ws, policy_file) -> Callable[..., str]:
    """``start(run_id, finished=None, registered=None, text=POLICY)``: a run started by ``sam``."""

    def run(run_id: str = "r1", finished: str | None = None, registered: list[dict[str, Any]] | None = None,
            text: str = POLICY, starter: str = "sam") -> str:
        policy = load_policy(policy_file(text, f"{run_id}.yaml"))
        with open_trail(ws) as trail:
            trail.append("run.started", run_id=run_id, actor=starter,
                         payload={"kind": "pipeline", "policy": policy_payload(policy)})
            for reg in registered or []:
                trail.append("model.registered", run_id=run_id, actor=starter, payload=reg)
            if finished:
                trail.append("run.finished", run_id=run_id, actor=starter, payload={"decision": finished})
        return run_id

    return run


@pytest.fixture
def approve(rai, ws) -> Callable[..., tuple[int, str, str]]:
    """``approve(run, role, decision, actor, *more)`` through the real ``rai approve``."""

    def run(run_id: str, role: str, decision: str, actor: str | None, *more: str) -> tuple[int, str, str]:
        who = ["--actor", actor] if actor else []
        return rai("approve", run_id, "--role", role, "--decision", decision, *who, *more, "--workspace", str(ws.root))

    return run


def kinds(ws: Workspace) -> list[str]:
    with open_trail(ws, create=False) as trail:
        return [e.kind for e in trail.events()]


def fake_entry(registry: Path, name: str = "credit", version: int = 1, run_id: str = "r1") -> dict[str, Any]:
    """A registry entry directory with a manifest (no model: revocation never loads one); its
    ``model.registered`` payload."""
    from governance.fsutil import file_sha256

    entry = registry / name / str(version)
    entry.mkdir(parents=True)
    (entry / "manifest.json").write_text(json.dumps({"manifest": {"name": name, "version": version, "run_id": run_id,
                                                                  "model_sha256": "a" * 64}}))
    return {"name": name, "version": version, "model_sha256": "a" * 64, "manifest_path": str(entry / "manifest.json"),
            "manifest_sha256": file_sha256(entry / "manifest.json"), "registry": str(registry)}


@pytest.fixture
def rai_cli(request):
    """The in-process CLI under a name that does not shadow the ``rai`` package."""
    return request.getfixturevalue("rai")
