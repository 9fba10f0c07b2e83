"""The Approvals page under a policy with roles: members, signatures, separation, refusals, revocations."""

from __future__ import annotations

import json

import pytest
from streamlit.testing.v1 import AppTest

from governance.fsutil import file_sha256
from governance.policy.loader import load_policy
from governance.provenance import policy_payload
from governance.trail import open_trail, record_approval
from governance.workspace import Workspace

from .conftest import APP, plain
from .test_security import AUTH

POLICY = """\
policy: credit
version: "1"
owner: risk@example.org
roles:
  model-risk: {members: [alice, bob]}
  compliance: {members: [carol, bob]}
rules:
  - {id: sign-off, check: accountability.approvals, stage: deploy, severity: critical, params: {roles: [model-risk, compliance]}}
"""


@pytest.fixture
def roles_ws(tmp_path, monkeypatch):
    """r-wait awaits approval (bob approved once already, as sam started it); r-done passed and registered v1."""
    monkeypatch.setenv("RAI_APPROVER_KEYS", str(tmp_path / "keys"))
    (tmp_path / "policy.yaml").write_text(POLICY)
    payload = policy_payload(load_policy(tmp_path / "policy.yaml"))
    ws = Workspace(tmp_path / "ws")
    entry = ws.root / "registry" / "credit" / "1"
    entry.mkdir(parents=True)
    (entry / "manifest.json").write_text(json.dumps({"manifest": {"name": "credit", "version": 1, "run_id": "r-done"}}))
    with open_trail(ws) as t:
        for run_id in ("r-done", "r-wait"):
            t.append("run.started", run_id=run_id, actor="sam", payload={"kind": "pipeline", "policy": payload})
        t.append("model.registered", run_id="r-done", actor="sam", payload={
            "name": "credit", "version": 1, "manifest_path": str(entry / "manifest.json"),
            "manifest_sha256": file_sha256(entry / "manifest.json")})
        t.append("run.finished", run_id="r-done", actor="sam", payload={"decision": "passed"})
        t.append("run.finished", run_id="r-wait", actor="sam", payload={"decision": "awaiting_approval"})
        record_approval(t, "r-wait", "model-risk", "approve", actor="bob")
    return ws


def _open(ws, monkeypatch, user=None, actors=None) -> AppTest:
    monkeypatch.setenv("RAI_WORKSPACE", str(ws.root))
    at = AppTest.from_file(str(APP), default_timeout=120)
    if user:
        at.secrets["auth"] = AUTH
        at.user = {"is_logged_in": True, "email": user, "name": user}
    if actors:
        at.secrets["actors"] = actors
    at.run()
    at.switch_page("views/approvals.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _record(at: AppTest, role: str, decision: str, actor: str | None = None, comment: str = "") -> AppTest:
    at.selectbox[1].set_value(role)
    at.radio[0].set_value(decision)
    if actor is not None:
        at.text_input[0].set_value(actor)
    at.text_area[0].set_value(comment)
    next(b for b in at.button if b.label == "Record decision").click().run()
    return at


def test_the_page_shows_roles_members_signatures_and_separation(roles_ws, monkeypatch):
    at = _open(roles_ws, monkeypatch)
    assert at.dataframe[0].value[["run_id", "waiting_for"]].values.tolist() == [
        ["r-wait", "compliance has 0 of 1 approvals"]]
    assert at.selectbox[0].value == "r-wait" and at.selectbox[1].options == ["compliance", "model-risk"]
    roles = at.dataframe[1].value
    assert roles[["role", "members", "approvals", "approved_by"]].values.tolist() == [
        ["compliance", "carol, bob", "0 of 1", ""], ["model-risk", "alice, bob", "1 of 1", "bob"]]
    texts = [t.value for t in at.text]
    assert "One role per person in a run: on; the person who started the run (sam) may approve it: no." in texts


@pytest.mark.parametrize("role, decision, actor, message", [
    ("compliance", "approve", "mallory", "mallory is not a member of compliance"),
    ("compliance", "approve", "bob", "bob already decided for model-risk in this run (separation of duties"),
    ("model-risk", "approve", "sam", "sam is not a member of model-risk"),
    ("model-risk", "approve", "bob", "bob already approved it as model-risk"),
])
def test_recording_here_goes_through_the_same_refusals(role, decision, actor, message, roles_ws, monkeypatch):
    at = _record(_open(roles_ws, monkeypatch), role, decision, actor)
    assert message in plain(at.error[0].value)
    with open_trail(roles_ws, create=False) as t:
        assert t.count(kind="approval.recorded") == 1


def test_a_signed_in_identity_decides_as_its_mapped_actor(roles_ws, monkeypatch):
    at = _open(roles_ws, monkeypatch, user="carol@example.org", actors={"carol@example.org": "carol"})
    assert "Recorded as carol (signed in)" in [plain(c.value) for c in at.caption]
    at = _record(at, "compliance", "approve")
    with open_trail(roles_ws, create=False) as t:
        assert t.events(kind="approval.recorded")[-1].actor == "carol"
    assert "The run is now approved" in plain(at.success[0].value)


def test_a_rejection_of_a_deployed_run_revokes_it_and_the_page_shows_it(roles_ws, monkeypatch):
    at = _open(roles_ws, monkeypatch)
    at.selectbox[0].set_value("r-done").run()
    at = _record(at, "compliance", "reject", "carol", "unfair to group b")
    assert "Revoked credit v1" in plain(at.success[0].value)
    at.selectbox[0].set_value("r-done").run()
    assert any("Revoked: credit v1 at " in plain(e.value) for e in at.error)
    assert not [b for b in at.button if b.label == "Record decision"]  # a revoked run takes no more decisions
    assert at.dataframe[-1].value[["model", "version", "by"]].values.tolist() == [["credit", 1, "carol"]]


def test_the_models_page_shows_a_revoked_entry(roles_ws, monkeypatch, rai):
    assert rai("revoke", "credit", "1", "--reason", "leak", "--actor", "alice", "--workspace", str(roles_ws.root))[0] == 0
    at = _open(roles_ws, monkeypatch)
    at.switch_page("views/models.py").run()
    banner = plain(at.error[0].value)
    assert banner.startswith("1 registry entry is REVOKED: `rai serve` refuses them. credit v1 revoked at ")
    assert banner.endswith(" by alice: leak (trail entry #7)")
    assert at.dataframe[-1].value["revoked"].str.startswith("revoked at ").tolist() == [True]
