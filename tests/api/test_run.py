"""``rai.start_run``: gates in the user's own code, recorded like ``rai run``, with reports."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import rai
from api.test_api import POLICY, unfair
from governance.report import build_card, build_report, render_report


@pytest.fixture
def setup(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("policy.yaml").write_text(POLICY)
    rng = np.random.default_rng(3)
    n = 400
    frame = pd.DataFrame({"sex": np.where(rng.random(n) < 0.5, "female", "male"), "y": rng.integers(0, 2, n)})
    frame["pred"] = np.where(rng.random(n) < 0.85, frame["y"], 1 - frame["y"])
    return frame


def events(run_id: str) -> list:
    with rai.open_trail(".rai") as trail:
        return trail.events(run_id=run_id)


def test_a_passing_run_records_the_pipeline_events_and_verifies(setup):
    with rai.start_run("credit-scoring", policy="policy.yaml", metadata={"owner": "risk"}) as run:
        result = run.gate("evaluate", predictions=rai.Predictions(setup["y"], setup["pred"], setup["sex"]))
        assert result.decision == "passed"
    assert run.decision == "passed"
    kinds = [e.kind for e in events(run.run_id)]
    assert kinds == ["run.started", "stage.completed", "gate.decided", "run.finished"]
    started = events(run.run_id)[0].payload
    assert started["kind"] == "api" and started["name"] == "credit-scoring" and started["metadata"] == {"owner": "risk"}
    stage = events(run.run_id)[1].payload
    assert stage["stage"] == "evaluate" and stage["metrics"]["accuracy"] == pytest.approx(
        float((setup["y"] == setup["pred"]).mean()))
    assert rai.verify_trail(".rai").ok


def test_a_blocking_gate_raises_finishes_blocked_and_still_reports(setup):
    with pytest.raises(rai.GateBlocked) as caught:
        with rai.start_run("credit-scoring", policy="policy.yaml") as run:
            run.gate("evaluate", predictions=rai.Predictions(setup["y"], unfair(setup), setup["sex"]))
            pytest.fail("the gate should have raised")  # pragma: no cover
    assert [f.rule_id for f in caught.value.result.blocking] == ["four-fifths-sex"]
    finished = events(run.run_id)[-1]
    assert finished.kind == "run.finished" and finished.payload["decision"] == "blocked"
    assert finished.payload["blocked_at"] == "evaluate"
    assert rai.verify_trail(".rai").ok
    with rai.open_trail(".rai") as trail:
        doc = build_report(trail, run.run_id).to_dict()
        assert doc["verdict"]["decision"] == "blocked"
        html = render_report(doc, "html")
        assert "four-fifths-sex" in html
        card = build_card(trail, run.run_id, Path("card.yaml"))
        assert card


def test_report_cli_works_on_api_runs(setup, rai_cli):
    with rai.start_run("credit-scoring", policy="policy.yaml") as run:
        run.gate("evaluate", predictions=rai.Predictions(setup["y"], setup["pred"], setup["sex"]))
    code, out, err = rai_cli("report", run.run_id, "--format", "json")
    assert code == 0, err
    assert json.loads(out)["verdict"]["decision"] == "passed"
    code, out, err = rai_cli("model-card", run.run_id, "--format", "md")
    assert code == 0, err
    code, out, err = rai_cli("trail", "verify")
    assert code == 0, err


def test_an_exception_in_the_block_is_a_failed_run(setup):
    with pytest.raises(ZeroDivisionError):
        with rai.start_run("x", policy="policy.yaml") as run:
            1 / 0  # noqa: B018
    finished = events(run.run_id)[-1].payload
    assert finished["decision"] == "failed" and finished["reasons"] == ["ZeroDivisionError: division by zero"]


def test_caught_block_still_ends_the_run_blocked(setup):
    with rai.start_run("x", policy="policy.yaml") as run:
        result = run.gate("evaluate", predictions=rai.Predictions(setup["y"], unfair(setup), setup["sex"]),
                          raise_on_block=False)
        assert result.blocked
        run.gate("evaluate", predictions=rai.Predictions(setup["y"], setup["pred"], setup["sex"]))
    assert run.decision == "blocked"


def test_bad_input_records_nothing_and_the_run_finishes_failed(setup):
    with pytest.raises(rai.UserError, match="unknown stage 'evaluat'"):
        with rai.start_run("x", policy="policy.yaml") as run:
            run.gate("evaluat", predictions=rai.Predictions(setup["y"], setup["pred"], setup["sex"]))
    kinds = [e.kind for e in events(run.run_id)]
    assert kinds == ["run.started", "run.finished"]
    assert events(run.run_id)[-1].payload["decision"] == "failed"


def test_gating_after_the_run_finished_is_refused(setup):
    with rai.start_run("x", policy="policy.yaml") as run:
        pass
    with pytest.raises(rai.UserError, match=f"run {run.run_id} has finished \\(passed\\)"):
        run.gate("evaluate", predictions=rai.Predictions(setup["y"], setup["pred"], setup["sex"]))
    assert [e.kind for e in events(run.run_id)] == ["run.started", "run.finished"]


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"name": "", "policy": "policy.yaml"}, "name: expected a non-empty string"),
    ({"name": "x", "policy": "nope.yaml"}, "nope.yaml"),
    ({"name": "x", "policy": "policy.yaml", "metadata": [1]}, "metadata: expected a mapping"),
    ({"name": "x", "policy": "policy.yaml", "workspace": 3}, "workspace: expected a directory path"),
])
def test_start_run_refuses_bad_arguments(setup, kwargs, message):
    name = kwargs.pop("name")
    with pytest.raises(rai.UserError, match=message):
        rai.start_run(name, **kwargs)


def test_a_run_awaiting_approval_resumes_after_rai_approve(setup, rai_cli):
    Path("approval.yaml").write_text(POLICY + "  - {id: sign-off, check: accountability.approvals, stage: deploy, "
                                     "severity: high, params: {roles: [risk]}}\n")
    with pytest.raises(rai.GateBlocked):
        with rai.start_run("x", policy="approval.yaml") as run:
            run.gate("deploy")
    assert run.decision == "awaiting_approval"
    with pytest.raises(rai.UserError, match="policy changed"):
        rai.start_run("x", policy="policy.yaml", resume=run.run_id)
    code, _, err = rai_cli("approve", run.run_id, "--role", "risk", "--decision", "approve", "--actor", "carol")
    assert code == 0, err
    with rai.start_run("x", policy="approval.yaml", resume=run.run_id) as again:
        assert again.run_id == run.run_id
        assert again.gate("deploy").decision == "passed"
    assert again.decision == "passed"
    kinds = [e.kind for e in events(run.run_id)]
    assert kinds.count("run.finished") == 2 and "run.resumed" in kinds
    with pytest.raises(rai.UserError, match="its last decision is 'passed'"):
        rai.start_run("x", policy="approval.yaml", resume=run.run_id)
