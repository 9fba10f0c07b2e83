"""Reports of runs that did not go to plan: failed before any stage, interrupted, a check that errored."""

from __future__ import annotations

import json

from governance.findings import Finding
from governance.report import build_report, render_report
from governance.report.trailinfo import NOT_COVERED
from governance.trail import open_trail
from governance.vocabulary import Severity, Status


def _report(workspace, run_id):
    with open_trail(workspace, create=False) as trail:
        return build_report(trail, run_id).to_dict()


def test_a_run_that_failed_before_its_spec_loaded(workspace):
    # What the pipeline records for a spec it cannot load: no spec, no policy, a failed finish.
    with open_trail(workspace) as trail:
        trail.append("run.started", run_id="r-failed", actor="carol",
                     payload={"spec": None, "spec_hash": None, "policy": None, "versions": {"rai": "0.1.0"},
                              "code_revision": None, "workspace": ".rai"})
        trail.append("run.finished", run_id="r-failed", actor="carol",
                     payload={"decision": "failed", "blocked_at": None,
                              "reasons": ["pipeline.yaml:3:9: data.target: field required"], "summary": {}})
        trail.checkpoint()
    doc = _report(workspace, "r-failed")
    assert doc["verdict"]["decision"] == "failed"
    assert doc["verdict"]["explanation"] == ["pipeline.yaml:3:9: data.target: field required"]
    assert doc["policy"]["rules"] == [] and doc["gates"] == [] and doc["privacy"] is None
    text = render_report(doc, "md")
    assert "FAILED: the run stopped on an error, not on a policy decision." in text.splitlines()[2]
    assert "No gate decision was recorded for this run." in text


def test_building_a_report_never_signs_rai_report_does(workspace, rai):
    with open_trail(workspace) as trail:
        before = len(trail.checkpoints())
        trail.append("run.started", run_id="r-cut", actor="carol", payload={"spec": {"name": "adult"}})
        trail.append("stage.completed", run_id="r-cut", actor="carol",
                     payload={"stage": "ingest", "status": "completed", "metrics": {}, "artifacts": {}})
    doc = _report(workspace, "r-cut")  # a read: nothing is signed, and the report says why it cannot vouch
    assert doc["verdict"]["decision"] == "incomplete"
    assert doc["trail"]["checkpoint"] is None
    assert doc["trail"]["verification"] == {"ok": False, "problems": [NOT_COVERED]}
    with open_trail(workspace, create=False) as trail:
        assert len(trail.checkpoints()) == before
    code, out, err = rai("report", "r-cut", "--format", "json", "--workspace", str(workspace))
    assert code == 0, err
    signed = json.loads(out)
    assert f"signed a checkpoint of {signed['events'][-1]['seq']} entries covering run r-cut" in err
    assert any("stage.completed" in line for line in signed["verdict"]["explanation"])
    cp = signed["trail"]["checkpoint"]
    assert cp["tree_size"] == signed["events"][-1]["seq"] and signed["trail"]["verification"]["ok"]
    with open_trail(workspace, create=False) as trail:
        assert len(trail.checkpoints()) == before + 1


def test_a_check_that_could_not_run_is_explained_as_blocking(workspace):
    error = Finding(rule_id="dp-required", check="privacy.dp_required", stage="train", severity=Severity.CRITICAL,
                    status=Status.ERROR, message="missing evidence 'privacy' at stage 'train'").to_dict()
    with open_trail(workspace) as trail:
        trail.append("run.started", run_id="r-err", actor="carol", payload={"spec": {"name": "adult"}})
        trail.append("gate.decided", run_id="r-err", actor="carol",
                     payload={"stage": "train", "subject": None, "decision": "block", "findings": [error]})
        trail.append("run.finished", run_id="r-err", actor="carol",
                     payload={"decision": "blocked", "blocked_at": "train", "reasons": ["dp-required: ..."]})
        trail.checkpoint()
    doc = _report(workspace, "r-err")
    first = doc["verdict"]["explanation"][0]
    assert doc["verdict"]["headline"].startswith("BLOCKED at the train gate")
    assert "could not be evaluated" in first and "never passes" in first
    assert doc["gates"][0]["binding"] is True  # older writers leave 'binding' out: a gate binds
