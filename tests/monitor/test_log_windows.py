"""``rai monitor --log`` windows without outcomes: label-free rules decide, the rest follow ``on_missing_labels``.

The serving tests' fixture model is registered (no TensorFlow) and its prediction log is written
as a server writes it: the decisions it made on its training rows (its recorded reference
scores). A window no outcome is joined to is a batch without labels: selection-rate parity is
decided on its logged decisions (equal to fairlearn's), accuracy is "needs labels", and the policy
decides whether that is skipped, a warning or a block; once outcomes are joined it runs.
"""

from __future__ import annotations

import json

import pandas as pd
import pytest
from fairlearn.metrics import demographic_parity_difference
from serve.harness import FIXTURES, register_demo, training_frame

from governance.trail import open_trail

from .conftest import monitor_policy, write_log

RULES = """\
  - {id: parity-sex, check: fairness.demographic_parity_difference, stage: monitor, severity: high,
     params: {sensitive_features: [sex], max: 0.9}}
  - {id: live-accuracy, check: performance.metric, stage: monitor, severity: high, params: {metric: accuracy, min: 0.1}}
"""
ROWS = 240


@pytest.fixture(scope="module")
def logged(tmp_path_factory):
    """A workspace whose log holds 240 decisions of ``demo`` v1; the rows, decisions and outcomes."""
    from governance.workspace import Workspace

    root = tmp_path_factory.mktemp("windows")
    ws = Workspace(root / "ws")
    entry = register_demo(ws)
    train = training_frame().head(ROWS)
    answers = pd.read_parquet(FIXTURES / "reference_predictions.parquet").head(ROWS)
    inputs = json.loads(train.drop(columns=["Y"]).to_json(orient="records"))
    write_log(ws, entry, [{"inputs": row, "score": float(s), "label": int(p)}
                          for row, s, p in zip(inputs, answers["y_score"], answers["y_pred"], strict=True)])
    return root, ws, train.assign(decision=answers["y_pred"].to_numpy())


def _monitor(rai, root, ws, how: str, *args: str) -> tuple[int, dict]:
    policy = monitor_policy(root / f"{how}.yaml", RULES, how)
    code, out, err = rai("monitor", "--log", "--model", "demo", "--policy", str(policy), "--workspace", str(ws.root),
                         "--window", "120", "--json", *args)
    assert err == "", err
    return code, json.loads(out)


EXPECTED = {"skip": ("skipped", 0), "warn": ("warning", 0), "block": ("failed", 1)}


@pytest.mark.parametrize("how", list(EXPECTED))
def test_windows_without_outcomes_follow_on_missing_labels(logged, rai, how):
    root, ws, rows = logged
    code, summary = _monitor(rai, root, ws, how)
    status, exit_code = EXPECTED[how]
    assert code == exit_code and summary["policy"]["on_missing_labels"] == how
    for i, window in enumerate(summary["windows"]):
        found = {f["rule_id"]: f for f in window["findings"]}
        accuracy, parity = found["live-accuracy"], found["parity-sex"]
        assert accuracy["status"] == status and window["labelled"] == 0
        assert accuracy["message"] == f"needs labels (column Y absent): not run on these rows (on_missing_labels: {how})"
        part = rows.iloc[120 * i:120 * (i + 1)]
        expected = demographic_parity_difference(part["decision"], part["decision"], sensitive_features=part["sex"])
        assert parity["status"] == "passed" and parity["observed"] == pytest.approx(expected, abs=1e-12)
        assert window["numbers"]["selection_rate_gaps"]["sex.selection_rate_difference"] == pytest.approx(expected, abs=1e-12)
        assert window["decision"] == ("blocked" if how == "block" else "passed")
    with open_trail(ws, create=False) as trail:
        gates = {e.run_id: e.payload for e in trail.events(kind="gate.decided")}
    recorded = {f["rule_id"]: f for f in gates[summary["windows"][0]["run_id"]]["findings"]}
    assert recorded["live-accuracy"]["status"] == status
    assert recorded["live-accuracy"]["evidence"] == {"needs_labels": "column Y absent", "on_missing_labels": how}


def test_joined_outcomes_decide_the_rules_that_need_them(logged, rai, tmp_path):
    root, ws, rows = logged
    outcomes = pd.DataFrame({"request_id": [f"req-{i:05d}" for i in range(120)], "Y": rows["Y"].head(120)})
    outcomes.to_csv(tmp_path / "outcomes.csv", index=False)
    code, summary = _monitor(rai, root, ws, "block", "--labels", str(tmp_path / "outcomes.csv"))
    first, second = ({f["rule_id"]: f for f in w["findings"]} for w in summary["windows"])
    accuracy = float((rows["Y"].head(120) == rows["decision"].head(120)).mean())
    assert first["live-accuracy"]["status"] == "passed" and first["live-accuracy"]["observed"] == pytest.approx(accuracy)
    assert second["live-accuracy"]["status"] == "failed" and second["live-accuracy"]["message"].startswith("needs labels")
    assert [w["decision"] for w in summary["windows"]] == ["passed", "blocked"] and code == 1


def test_the_report_of_a_window_shows_the_findings(logged, rai, tmp_path):
    root, ws, _ = logged
    _, summary = _monitor(rai, root, ws, "warn")
    run_id = summary["windows"][0]["run_id"]
    code, out, err = rai("report", run_id, "--workspace", str(ws.root), "--format", "md", "--output",
                         str(tmp_path / "report.md"))
    assert code == 0, err
    text = (tmp_path / "report.md").read_text()
    assert "live-accuracy" in text and "needs labels (column Y absent)" in text
