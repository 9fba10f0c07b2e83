"""Revocation: `rai revoke` and a rejection of a deployed run, their refusals, marks and records."""

from __future__ import annotations

import json

import pytest

from governance.trail import open_trail, verify_trail
from governance.trail.canonical import canonical_bytes
from governance.trail.revocations import MARKER, MARKER_TAG
from governance.trail.signing import KeyRing, verify_signature

from .conftest import fake_entry, kinds


@pytest.fixture
def deployed(start, ws):
    """Run r1 (policy with roles) finished passed, having registered credit v1."""
    reg = fake_entry(ws.registry)
    start("r1", finished="passed", registered=[reg])
    return ws.registry / "credit" / "1"


def _mark(entry) -> dict:
    return json.loads((entry / MARKER).read_text())


def test_revoke_records_a_signed_event_and_marks_the_entry(deployed, rai, ws):
    code, out, err = rai("revoke", "credit", "1", "--reason", "drift beyond tolerance", "--actor", "erin",
                         "--workspace", str(ws.root))
    assert code == 0, err
    assert out.splitlines()[0] == "revoked credit v1 (trail entry #4, by erin): drift beyond tolerance"
    with open_trail(ws, create=False) as trail:
        (event,) = trail.events(kind="model.revoked")
    assert (event.run_id, event.actor) == ("r1", "erin")
    assert event.payload["reason"] == "drift beyond tolerance" and "workspace_signature" in event.payload
    mark = _mark(deployed)
    body, signature = mark["revocation"], mark["signature"]
    assert (body["seq"], body["actor"], body["name"], body["version"]) == (4, "erin", "credit", 1)
    public = KeyRing(ws.keys).trusted()[signature["key_id"]]
    assert verify_signature(public, MARKER_TAG + canonical_bytes(body), bytes.fromhex(signature["value"]))
    assert verify_trail(ws).ok


def test_a_revoked_run_takes_no_more_decisions(deployed, rai, approve, ws):
    assert rai("revoke", "credit", "1", "--reason", "leak", "--actor", "erin", "--workspace", str(ws.root))[0] == 0
    code, _, err = approve("r1", "model-risk", "reject", "alice", "--comment", "late")
    assert code == 2 and "it is revoked (credit v1 revoked at " in err and "by erin)" in err


def test_rejecting_a_deployed_run_revokes_what_it_registered(deployed, approve, ws):
    code, out, err = approve("r1", "compliance", "reject", "carol", "--comment", "unfair to group b")
    assert code == 0, err
    assert out.splitlines()[1].startswith("revoked credit v1 (trail entry #5)")
    assert out.splitlines()[-1] == ("run r1: rejected by carol (compliance); final unless carol withdraws the "
                                    "rejection with a reason")
    assert kinds(ws)[-2:] == ["approval.recorded", "model.revoked"]
    assert _mark(deployed)["revocation"]["reason"] == "run r1 rejected by carol (compliance): unfair to group b"
    # The rejection can be withdrawn, the revocation stays: decisions on a revoked run are closed.
    code, _, err = approve("r1", "compliance", "withdraw", "carol", "--comment", "mistake")
    assert code == 2 and "it is revoked" in err


@pytest.mark.parametrize("case, args, message", [
    ("unknown-model", ["credt", "1", "--reason", "x", "--actor", "erin"],
     "error: {registry}: no registered model 'credt'; registered models: credit\n"),
    ("unknown-version", ["credit", "7", "--reason", "x", "--actor", "erin"],
     "error: {registry}/credit: no version 7; versions are 1\n"),
    ("blank-reason", ["credit", "1", "--reason", "  ", "--actor", "erin"],
     "error: revoke: give the reason with --reason (it is recorded and shown wherever the entry is)\n"),
    ("not-a-member", ["credit", "1", "--reason", "x", "--actor", "mallory"],
     "error: revoke credit v1: mallory is not a member of any role of run r1's policy (roles: ciso: erin; "
     "compliance: carol, bob; model-risk: alice, bob); nothing recorded\n"),
    ("twice", ["credit", "1", "--reason", "again", "--actor", "erin"], "is revoked already (trail entry #4, "),
])
def test_revoke_refusals_are_one_line_exit_2_and_record_nothing(case, args, message, deployed, rai, ws):
    if case == "twice":
        assert rai("revoke", "credit", "1", "--reason", "first", "--actor", "erin", "--workspace", str(ws.root))[0] == 0
    before = kinds(ws)
    code, out, err = rai("revoke", *args, "--workspace", str(ws.root))
    assert (code, out) == (2, "")
    expected = message.format(registry=ws.registry)
    assert err == expected if expected.startswith("error:") else (expected in err and err.count("\n") == 1)
    assert kinds(ws) == before
