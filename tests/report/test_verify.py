"""`rai report verify`: a JSON report matches its trail until someone edits one of them."""

from __future__ import annotations

import json
import sqlite3

import pytest

from governance.errors import UserError
from governance.report import render_report, verify_report
from governance.trail import open_trail

from .synthetic import BLOCKED_RUN, PASSED_RUN


def _json(doc) -> dict:
    # The report as a consumer reads it back from its file.
    return json.loads(render_report(doc, "json"))


def _verify(workspace, report):
    with open_trail(workspace, create=False) as trail:
        return verify_report(trail, report)


@pytest.mark.parametrize("run", [PASSED_RUN, BLOCKED_RUN])
def test_an_unedited_report_verifies(fixed_workspace, reports, run):
    result = _verify(fixed_workspace, _json(reports[run]))
    assert result.ok, result.problems
    assert result.events == len(reports[run]["events"]) and result.findings > 0


def _set(path: str, value):
    def edit(doc):
        *parents, last = path.split(".")
        node = doc
        for part in parents:
            node = node[int(part)] if part.isdigit() else node[part]
        node[int(last) if last.isdigit() else last] = value
    return edit


EDITS = [
    # (what an editor changed, the edit, where the first mismatch must be named)
    ("an observed value", _set("gates.2.findings.1.observed", 0.05), "gates[2].findings[1].observed"),
    ("a finding's status", _set("gates.2.findings.3.status", "passed"), "gates[2].findings[3].status"),
    ("a deleted finding", lambda d: d["gates"][2]["findings"].pop(2), "gates[2].findings[2]"),
    ("an event's hash", _set("events.4.entry_hash", "0" * 64), "events[4].entry_hash"),
    ("a dropped event", lambda d: d["events"].pop(), "events[15]"),
    ("the approver", _set("approvals.0.actor", "mallory"), "approvals[0].actor"),
    ("the epsilon", _set("privacy.record.epsilon", 0.5), "privacy.record.epsilon"),
    ("the verdict", _set("verdict.decision", "blocked"), "verdict.decision"),
    ("a rule threshold", _set("policy.rules.8.params.max", 0.5), "policy.rules[8].params.max"),
    ("the generator", _set("generated.tool_version", "9.9.9"), "generated.tool_version"),
    ("the generation time", _set("generated.at", "yesterday"), "generated.at"),
    ("the checkpoint root", _set("trail.checkpoint.root_hash", "ab" * 32), "does not verify"),
    ("the checkpoint signature", _set("trail.checkpoint.signature", "cd" * 64), "does not verify"),
]


@pytest.mark.parametrize("what,edit,where", EDITS, ids=[e[0] for e in EDITS])
def test_an_edited_report_is_detected_and_the_first_mismatch_named(fixed_workspace, reports, what, edit, where):
    report = _json(reports[PASSED_RUN])
    edit(report)
    result = _verify(fixed_workspace, report)
    assert not result.ok
    assert where in result.problems[0], result.problems


def test_later_events_do_not_invalidate_a_report(workspace, reports):
    report = _json(reports[BLOCKED_RUN])
    with open_trail(workspace) as trail:  # the trail goes on: a new event and checkpoint
        trail.append("approval.recorded", run_id=BLOCKED_RUN, actor="dana",
                     payload={"role": "risk-officer", "decision": "reject", "comment": "late"})
        trail.checkpoint()
    assert _verify(workspace, report).ok


def test_a_tampered_trail_fails_verification_of_an_honest_report(workspace, reports):
    report = _json(reports[PASSED_RUN])
    db = sqlite3.connect(workspace / "trail.db")
    for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type='trigger'").fetchall():
        db.execute(f"DROP TRIGGER {name}")
    db.execute("UPDATE events SET body = replace(body, '\"dana\"', '\"eve\"') WHERE seq = 12")
    db.commit()
    db.close()
    result = _verify(workspace, report)
    assert not result.ok
    assert "does not verify" in result.problems[0] and "entry 12" in result.problems[0]


def test_a_report_of_another_workspace_is_a_user_error(tmp_path, fixed_workspace, reports):
    report = _json(reports[PASSED_RUN])
    report["run"]["run_id"] = "20990101T000000Z-ffffff"
    with pytest.raises(UserError, match="is not in this trail"):
        _verify(fixed_workspace, report)


def test_a_report_without_checkpoint_does_not_verify(fixed_workspace, reports):
    report = _json(reports[PASSED_RUN])
    report["trail"]["checkpoint"] = None
    result = _verify(fixed_workspace, report)
    assert not result.ok and "cites no checkpoint" in result.problems[0]
