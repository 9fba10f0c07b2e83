"""Approvals recorded in the trail and read back the same way by every caller."""

import getpass

import pytest

from governance.errors import UserError
from governance.trail import approvals_for, record_approval


@pytest.fixture
def run(trail):
    trail.append("run.started", run_id="run-2024-001", payload={})
    return "run-2024-001"


def test_record_and_read_back(trail, run):
    ev = record_approval(trail, run, "risk-officer", "approve", actor="carol", comment="fairness ok")
    assert (ev.kind, ev.run_id, ev.actor) == ("approval.recorded", run, "carol")
    assert ev.payload == {"role": "risk-officer", "decision": "approve", "comment": "fairness ok",
                          "policy_sha256": None}
    record_approval(trail, run, "model-owner", "reject")
    got = approvals_for(trail, run)
    assert got[0] == {"seq": 2, "role": "risk-officer", "decision": "approve", "actor": "carol", "time": ev.time,
                      "comment": "fairness ok", "withdraws": None, "signature": "unsigned", "key_id": None,
                      "signature_problem": None, "starter": False}
    assert (got[1]["role"], got[1]["decision"], got[1]["actor"], got[1]["comment"]) == (
        "model-owner", "reject", getpass.getuser(), "")
    assert approvals_for(trail, "other") == []


@pytest.mark.parametrize("run_id, role, decision, message", [
    ("run-2024-002", "risk", "approve", "unknown run id 'run-2024-002': the trail has no run.started event "
                                        "for it (did you mean run-2024-001?)"),
    ("zzz", "risk", "approve", "(latest runs: run-2024-001)"),
    ("run-2024-001", "risk", "maybe", "decision 'maybe': must be one of approve, reject, withdraw"),
    ("run-2024-001", " ", "approve", "role: must be a non-empty name"),
])
def test_bad_approvals_are_refused(trail, run, run_id, role, decision, message):
    with pytest.raises(UserError) as err:
        record_approval(trail, run_id, role, decision)
    assert message in str(err.value)
    assert trail.count(kind="approval.recorded") == 0


def test_a_run_without_run_started_is_unknown(trail):
    trail.append("stage.completed", run_id="half-run")
    with pytest.raises(UserError, match="no runs recorded yet"):
        record_approval(trail, "half-run", "risk", "approve")
