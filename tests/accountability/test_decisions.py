"""Decisions on a run: every refusal of `rai approve` and every state change, as tables."""

from __future__ import annotations

import pytest

from governance.engine import evaluate
from governance.evidence import Evidence
from governance.policy.loader import load_policy
from governance.trail import approvals_for, open_trail
from governance.trail.approvals import read_decisions

from .conftest import kinds

# (case, how the run stands, decisions recorded first, the refused decision, the one line it gets)
REFUSALS = [
    ("unknown-actor", {}, [], ("model-risk", "approve", "mallory"),
     "mallory is not a member of model-risk (members: alice, bob)"),
    ("actor-typo", {}, [], ("model-risk", "approve", "alcie"),
     "alcie is not a member of model-risk; did you mean 'alice'? (members: alice, bob)"),
    ("unknown-role", {}, [], ("complience", "approve", "carol"),
     "role 'complience' is not defined by the policy; did you mean 'compliance'? (roles: ciso, compliance, model-risk)"),
    ("approving-twice", {}, [("model-risk", "approve", "alice")], ("model-risk", "approve", "alice"),
     "alice already approved it as model-risk"),
    ("one-person-two-roles", {}, [("model-risk", "approve", "bob")], ("compliance", "approve", "bob"),
     "bob already decided for model-risk in this run (separation of duties: one role per person)"),
    ("starter-approves", {"starter": "alice"}, [], ("model-risk", "approve", "alice"),
     "alice started this run and may not approve it (separation of duties)"),
    ("finished-passed", {"finished": "passed"}, [], ("model-risk", "approve", "alice"),
     "it has finished (passed): only a running run or one awaiting approval can be approved"),
    ("finished-blocked", {"finished": "blocked"}, [], ("model-risk", "approve", "alice"),
     "it has finished (blocked): only a running run or one awaiting approval can be approved"),
    ("finished-failed", {"finished": "failed"}, [], ("model-risk", "approve", "alice"),
     "it has finished (failed): only a running run or one awaiting approval can be approved"),
    ("reject-blocked", {"finished": "blocked"}, [], ("model-risk", "reject", "alice"),
     "it has finished (blocked) and deployed nothing: there is nothing to reject"),
    ("approve-rejected", {"finished": "awaiting_approval"}, [("compliance", "reject", "carol")],
     ("model-risk", "approve", "alice"),
     "it was rejected by carol (compliance, trail entry #3); a rejection is final unless carol withdraws it: "
     "rai approve r1 --role compliance --decision withdraw --comment REASON --actor carol"),
    ("reject-twice", {}, [("compliance", "reject", "carol")], ("compliance", "reject", "carol"),
     "carol already rejected it as compliance"),
    ("withdraw-someone-elses", {}, [("compliance", "reject", "carol")], ("compliance", "withdraw", "bob", "x"),
     "bob has no standing rejection as compliance to withdraw (only the person who rejected may withdraw)"),
    ("withdraw-without-reason", {}, [("compliance", "reject", "carol")], ("compliance", "withdraw", "carol"),
     "a withdrawal needs its reason: give it with --comment"),
    ("withdraw-nothing", {}, [], ("compliance", "withdraw", "carol", "changed my mind"),
     "carol has no standing rejection as compliance to withdraw (only the person who rejected may withdraw)"),
    ("role-without-members", {"text": "empty"}, [], ("risk-officer", "approve", "alice"),
     "risk-officer has no members yet: name them in the policy's roles.risk-officer.members"),
]

EMPTY_ROLE = """\
policy: pack-like
version: "1"
owner: maintainers
roles:
  risk-officer: {members: []}
rules:
  - {id: sign-off, check: accountability.approvals, stage: deploy, severity: critical, params: {roles: [risk-officer]}}
"""


def _decision(approve, run_id, role, decision, actor, comment=None):
    return approve(run_id, role, decision, actor, *(["--comment", comment] if comment else []))


@pytest.mark.parametrize("case, run, before, refused, message", REFUSALS, ids=[r[0] for r in REFUSALS])
def test_a_refused_decision_is_one_line_exit_2_and_records_nothing(case, run, before, refused, message, start,
                                                                   approve, ws):
    text = EMPTY_ROLE if run.get("text") == "empty" else None
    start("r1", finished=run.get("finished"), starter=run.get("starter", "sam"), **({"text": text} if text else {}))
    for step in before:
        assert _decision(approve, "r1", *step)[0] == 0
    recorded = kinds(ws)
    code, out, err = _decision(approve, "r1", *refused)
    assert (code, out) == (2, "")
    assert err == f"error: run r1: {message}; nothing recorded\n"
    assert kinds(ws) == recorded


def test_an_unknown_run_is_refused_with_the_closest_ids(start, approve, ws):
    start("20250131T093000Z-a1b2c3")
    code, _, err = approve("20250131T093000Z-a1b2c4", "model-risk", "approve", "alice")
    assert code == 2 and err == ("error: unknown run id '20250131T093000Z-a1b2c4': the trail has no run.started event "
                                 "for it (did you mean 20250131T093000Z-a1b2c3?)\n")
    assert kinds(ws) == ["run.started"]


# (case, decisions in order, the run's state, what still stands in the way)
STATES = [
    ("first-approval", [("model-risk", "approve", "alice")], "pending", ["compliance has 0 of 1 approvals"]),
    ("every-role", [("model-risk", "approve", "alice"), ("compliance", "approve", "carol")], "approved", []),
    ("a-rejection", [("model-risk", "approve", "alice"), ("compliance", "reject", "carol", "bias in group b")],
     "rejected", ["compliance rejected by carol"]),
    ("rejection-withdrawn", [("compliance", "reject", "carol", "bias"), ("compliance", "withdraw", "carol", "fixed")],
     "pending", ["model-risk has 0 of 1 approvals", "compliance has 0 of 1 approvals"]),
    ("withdrawn-then-approved", [("compliance", "reject", "carol", "bias"), ("compliance", "withdraw", "carol", "fixed"),
                                 ("compliance", "approve", "carol"), ("model-risk", "approve", "bob")], "approved", []),
    ("approver-rejects-later", [("compliance", "approve", "carol"), ("compliance", "reject", "carol", "new facts")],
     "rejected", ["model-risk has 0 of 1 approvals", "compliance rejected by carol"]),
    ("one-of-two-rejects", [("model-risk", "approve", "alice"), ("model-risk", "reject", "bob", "no")],
     "rejected", ["model-risk rejected by bob", "compliance has 0 of 1 approvals"]),
]


@pytest.mark.parametrize("case, decisions, state, missing", STATES, ids=[s[0] for s in STATES])
def test_each_decision_moves_the_run_and_the_deploy_gate_agrees(case, decisions, state, missing, start, approve,
                                                                ws, tmp_path):
    start("r1", finished="awaiting_approval")
    for step in decisions:
        code, out, err = _decision(approve, "r1", *step)
        assert code == 0, err
    with open_trail(ws, create=False) as trail:
        run = read_decisions(trail, "r1")
        recorded = approvals_for(trail, "r1")
    assessed = run.assessment()
    assert (assessed.state, assessed.missing()) == (state, missing)
    assert [d["decision"] for d in recorded] == [s[1] for s in decisions]
    last = out.splitlines()[-1]
    if state == "rejected":
        assert "final unless" in last and "approve" not in last.split(":", 1)[1]  # never suggests approving
    elif state == "approved":
        assert last == "run r1: approved by every required role; continue it with rai run --resume r1"
    else:
        assert last == "run r1: waiting: " + "; ".join(missing)
    (finding,) = evaluate(load_policy(tmp_path / "r1.yaml"), "deploy", Evidence(approvals=recorded)).findings
    assert finding.evidence["state"] == state and (finding.status.value == "passed") == (state == "approved")


def test_a_withdrawal_names_the_rejection_it_withdraws(start, approve, ws):
    start("r1")
    approve("r1", "compliance", "reject", "carol", "--comment", "bias")
    code, out, _ = approve("r1", "compliance", "withdraw", "carol", "--comment", "retrained on 2025 data")
    assert code == 0 and "compliance withdraws its rejection of run r1" in out
    with open_trail(ws, create=False) as trail:
        withdrawal = trail.events(kind="approval.recorded")[-1]
    assert withdrawal.payload["withdraws"] == 2 and withdrawal.payload["comment"] == "retrained on 2025 data"


@pytest.mark.parametrize("setting, decisions", [
    ("one_role_per_person: false", [("model-risk", "approve", "bob"), ("compliance", "approve", "bob")]),
    ("starter_may_approve: true", [("model-risk", "approve", "alice"), ("compliance", "approve", "carol")]),
])
def test_separation_of_duties_can_be_turned_off_and_says_so(setting, decisions, start, approve, ws, tmp_path):
    from .conftest import POLICY

    text = POLICY.replace("params: {roles: [model-risk, compliance]}",
                          "params: {roles: [model-risk, compliance], " + setting + "}")
    start("r1", text=text, starter="alice")
    for step in decisions:
        code, _, err = _decision(approve, "r1", *step)
        assert code == 0, err
    with open_trail(ws, create=False) as trail:
        recorded = approvals_for(trail, "r1")
    (finding,) = evaluate(load_policy(tmp_path / "r1.yaml"), "deploy", Evidence(approvals=recorded)).findings
    key, value = setting.split(": ")
    assert finding.status.value == "passed"
    assert finding.evidence["separation_of_duties"][key] is (value == "true")


def test_the_check_does_not_count_a_decision_that_bypassed_rai_approve(start, ws, tmp_path):
    start("r1")
    with open_trail(ws) as trail:  # appended directly, as a script could: the gate applies the same rules
        for actor, role in (("mallory", "model-risk"), ("sam", "compliance")):
            trail.append("approval.recorded", run_id="r1", actor=actor, payload={"role": role, "decision": "approve"})
        recorded = approvals_for(trail, "r1")
    (finding,) = evaluate(load_policy(tmp_path / "r1.yaml"), "deploy", Evidence(approvals=recorded)).findings
    assert finding.status.value == "failed"
    assert finding.message == ("model-risk has 0 of 1 approvals; compliance has 0 of 1 approvals; not counted: "
                               "mallory as model-risk: mallory is not a member of model-risk (members: alice, bob); "
                               "sam as compliance: sam is not a member of compliance (members: carol, bob)")


LEGACY = """\
policy: legacy
version: "1"
owner: o
rules:
  - {id: sign-off, check: accountability.approvals, stage: deploy, severity: high, params: {roles: [risk-officer]}}
"""


@pytest.mark.parametrize("role, code, said", [
    ("risk-oficer", 2, "the policy requires no 'risk-oficer' approval; did you mean 'risk-officer'? "
                       "(required roles: risk-officer)"),
    ("release", 0, "recorded approval.recorded #2: release approves run r1"),
])
def test_without_roles_a_near_miss_is_a_typo_and_another_role_is_recorded(role, code, said, start, approve):
    start("r1", text=LEGACY)
    got = approve("r1", role, "approve", "carol")
    assert got[0] == code and said in (got[2] if code else got[1])


def test_a_passed_run_takes_a_later_sign_off_but_not_its_deploy_roles(start, approve):
    start("r1", finished="passed", text=LEGACY)
    assert approve("r1", "release", "approve", "carol")[0] == 0
    code, _, err = approve("r1", "risk-officer", "approve", "dave")
    assert code == 2 and "it has finished (passed)" in err


def test_promotion_counts_only_members_of_the_recorded_policys_roles(start, approve, ws):
    from lifecycle.mlflow_promote import approval_problems

    start("r1", finished="passed")
    with open_trail(ws) as trail:  # as a script could record them: promotion applies the roles anyway
        trail.append("approval.recorded", run_id="r1", actor="mallory", payload={"role": "model-risk",
                                                                                  "decision": "approve"})
        trail.append("approval.recorded", run_id="r1", actor="carol", payload={"role": "compliance",
                                                                                "decision": "approve"})
        problems = approval_problems(trail, "r1")
    assert problems == ["sign-off: model-risk has 0 of 1 approvals; not counted: mallory as model-risk: mallory is not "
                        "a member of model-risk (members: alice, bob)"]
