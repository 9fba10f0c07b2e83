"""`rai.start_run` runs follow the same rules: the person who started the run is its starter."""

from __future__ import annotations

import getpass

import pytest

import rai

ME = getpass.getuser()
POLICY = f"""\
policy: api
version: "1"
owner: o
roles:
  model-risk: {{members: ['{ME}', alice]}}
rules:
  - {{id: sign-off, check: accountability.approvals, stage: deploy, severity: high, params: {{roles: [model-risk]}}}}
"""


@pytest.fixture
def waiting(tmp_path, monkeypatch):
    """An API run (started by this OS user) awaiting its approval."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "policy.yaml").write_text(POLICY)
    with pytest.raises(rai.GateBlocked):
        with rai.start_run("x", policy="policy.yaml") as run:
            run.gate("deploy")
    assert run.decision == "awaiting_approval"
    return run.run_id


def test_the_person_who_started_an_api_run_may_not_approve_it(waiting, rai_cli):
    code, out, err = rai_cli("approve", waiting, "--role", "model-risk", "--decision", "approve")
    assert code == 2 and err == (f"error: run {waiting}: {ME} started this run and may not approve it (separation of "
                                 "duties); nothing recorded\n")
    code, out, err = rai_cli("approve", waiting, "--role", "model-risk", "--decision", "approve", "--actor", "alice")
    assert code == 0, err
    assert out.splitlines()[-1] == (f"run {waiting}: approved by every required role; continue it with "
                                    f"rai.start_run(..., resume={waiting!r})")
    with rai.start_run("x", policy="policy.yaml", resume=waiting) as again:
        assert again.gate("deploy").decision == "passed"


def test_a_rejected_api_run_is_blocked_not_waiting(waiting, rai_cli):
    assert rai_cli("approve", waiting, "--role", "model-risk", "--decision", "reject", "--actor", "alice",
                   "--comment", "not fit")[0] == 0
    with pytest.raises(rai.GateBlocked):
        with rai.start_run("x", policy="policy.yaml", resume=waiting) as again:
            again.gate("deploy")
    assert again.decision == "blocked"
