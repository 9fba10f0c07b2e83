"""Reports and model cards say who decided, whether it is signed, what was revoked, and tally the waivers."""

from __future__ import annotations

from governance.report import build_card, build_report, render_report
from governance.trail import open_trail, record_approval
from governance.trail.actor_keys import create_key
from governance.trail.revocations import Target, revoke

from .conftest import POLICY, fake_entry

WAIVED = POLICY + """\
  - {id: acc, check: performance.metric, stage: evaluate, severity: high, params: {metric: accuracy, min: 0.8}}
waivers:
  - {rule: acc, reason: retraining scheduled, approved_by: alice, expires: 2030-06-30}
"""


def _run(start, ws):
    reg = fake_entry(ws.registry)
    start("r1", text=WAIVED, registered=[reg])
    finding = {"rule_id": "acc", "check": "performance.metric", "stage": "evaluate", "severity": "high",
               "status": "waived", "message": "accuracy 0.7 < 0.8", "observed": 0.7, "threshold": 0.8,
               "waiver": {"rule": "acc", "reason": "retraining scheduled", "approved_by": "alice", "expires": "2030-06-30"}}
    with open_trail(ws) as t:
        t.append("gate.decided", run_id="r1", actor="sam", payload={"stage": "evaluate", "decision": "passed",
                                                                    "findings": [finding]})
        t.append("waiver.applied", run_id="r1", actor="sam", payload={"rule": "acc", "reason": "retraining scheduled",
                                                                      "approved_by": "alice", "expires": "2030-06-30",
                                                                      "stage": "evaluate"})
        create_key(t, "alice")
        record_approval(t, "r1", "model-risk", "approve", actor="alice")
        record_approval(t, "r1", "compliance", "approve", actor="carol")
        t.append("run.finished", run_id="r1", actor="sam", payload={"decision": "passed"})
        t.checkpoint()
    return ws.registry / "credit" / "1"


def test_the_report_says_who_decided_and_how_far_it_is_proven(start, ws):
    _run(start, ws)
    with open_trail(ws, create=False) as t:
        doc = build_report(t, "r1").to_dict()
    acc = doc["accountability"]
    assert acc["state"] == "approved" and acc["signatures"] == {"signed": 1, "unsigned": 1, "invalid": 0}
    assert acc["roles"]["model-risk"]["signed_by"] == ["alice"] and acc["roles"]["compliance"]["signed_by"] == []
    assert acc["separation_of_duties"] == {"one_role_per_person": True, "starter_may_approve": False}
    assert acc["waiver_tally"] == {"count": 1, "by_severity": {"high": 1}, "approvers_checked": True, "rows": [
        {"rule": "acc", "severity": "high", "approved_by": "alice", "expires": "2030-06-30", "stage": "evaluate",
         "approver_checked": True}]}
    text = render_report(doc, "md")
    assert "1 of 2 decision(s) are signed by the deciding person's key and verify. 1 are unsigned" in text
    assert "| acc | high | alice | 2030-06-30 | evaluate |" in text
    assert doc["verdict"]["headline"].startswith("PASSED")


def test_a_revoked_model_leads_the_report_and_the_model_card(start, ws):
    entry = _run(start, ws)
    with open_trail(ws) as t:
        revoke(t, Target(entry, "credit", 1, "a" * 64, "r1"), "drift beyond tolerance", "erin")
        t.checkpoint()
        doc = build_report(t, "r1").to_dict()
        card = build_card(t, "r1", ws.root.parent / "card.yaml")
    assert doc["verdict"]["headline"] == "REVOKED: credit version 1 must not be served."
    assert doc["verdict"]["explanation"][0].endswith("by erin: drift beyond tolerance (trail entry #9). "
                                                     "`rai serve` refuses it.")
    assert doc["verdict"]["decision"] == "passed"  # what the run decided stays as recorded
    assert [r["reason"] for r in card["oversight"]["revoked"]] == ["drift beyond tolerance"]
    assert "REVOKED: credit v1 at " in render_report(doc, "md")


def test_a_rejected_run_leads_with_the_rejection(start, ws, approve):
    start("r1", finished="awaiting_approval")
    assert approve("r1", "compliance", "reject", "carol", "--comment", "unfair to group b")[0] == 0
    with open_trail(ws) as t:
        t.checkpoint()
        doc = build_report(t, "r1").to_dict()
    assert doc["verdict"]["headline"] == "REJECTED by carol (compliance): this model must not be deployed."
    assert "unfair to group b. Final unless carol withdraws the rejection with a reason." in doc["verdict"]["explanation"][0]
