"""``rai monitor --log``: windows of the prediction log, each a recorded monitor run; delayed labels joined."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from governance.trail import open_trail
from governance.workspace import Workspace
from lifecycle.monitor_windows import parse_window

from .harness import Server, register_demo, training_frame

POLICY = """\
policy: serving-monitor-tests
version: "1"
owner: test suite
fail_on: high
rules:
  - id: live-drift
    check: drift.dataset
    stage: monitor
    severity: high
    params: {drift_share: 0.5}
  - id: live-accuracy
    check: performance.metric
    stage: monitor
    severity: high
    params: {metric: accuracy, min: 0.5}
"""


@pytest.fixture(scope="module")
def logged(tmp_path_factory):
    """120 decisions on training-like rows, then 60 on rows far from training; answers by request."""
    root = tmp_path_factory.mktemp("monitor-log")
    ws = Workspace(root / "ws")
    register_demo(ws)
    (root / "policy.yaml").write_text(POLICY)
    train = training_frame()
    rows = json.loads(train.drop(columns=["Y"]).to_json(orient="records"))
    answers = []
    with Server(ws) as running:
        for i, row in enumerate(rows[:120] + [{**r, "age": 79, "hours-per-week": 99.0, "color": "red"} for r in rows[:60]]):
            status, answer = running.predict({"row": row}, headers={"X-Request-ID": f"case-{i}"})
            assert status == 200
            answers.append((answer["request_id"], int(train["Y"].iloc[i % 120])))
    return root, ws, answers


def _monitor(rai, root, ws, *args):
    return rai("monitor", "--log", "--model", "demo", "--policy", str(root / "policy.yaml"),
               "--workspace", str(ws.root), "--json", *args)


def test_windows_of_decisions_are_audited_and_recorded(logged, rai):
    root, ws, _ = logged
    code, out, err = _monitor(rai, root, ws, "--window", "60")
    summary = json.loads(out)
    assert [w["rows"] for w in summary["windows"]] == [60, 60, 60] and summary["decisions"] == 180
    drift = [w["numbers"]["drift"]["data"]["drifted_share"] for w in summary["windows"]]
    assert drift[2] > drift[0] and drift[2] > drift[1]  # the far-off rows drift, the training-like do not
    assert [w["decision"] for w in summary["windows"]] == ["passed", "passed", "blocked"]
    accuracy = [next(f for f in w["findings"] if f["rule_id"] == "live-accuracy") for w in summary["windows"]]
    assert {f["status"] for f in accuracy} == {"skipped"}  # no outcomes yet: not decided, and not an error
    assert accuracy[0]["message"] == "needs labels (column Y absent): not run on these rows (on_missing_labels: skip)"
    assert code == 1 and summary["decision"] == "blocked" and err == ""
    assert "sex.selection_rate_difference" in summary["windows"][0]["numbers"]["selection_rate_gaps"]
    with open_trail(ws, create=False) as trail:
        checked = [e for e in trail.events(kind="drift.checked") if e.payload.get("window")]
    assert [e.run_id for e in checked] == [w["run_id"] for w in summary["windows"]]
    window = checked[0].payload["window"]
    assert window["source"] == "prediction_log" and window["rows"] == 60 and window["segments"][0]["merkle_root"]


def test_delayed_labels_are_joined_by_request_id_and_mismatches_reported(logged, rai, tmp_path):
    root, ws, answers = logged
    labels = pd.DataFrame({"request_id": [rid for rid, _ in answers[:90]] + ["not-a-logged-id"],
                           "Y": [y for _, y in answers[:90]] + [1]})
    labels.to_csv(tmp_path / "outcomes.csv", index=False)
    code, out, _ = _monitor(rai, root, ws, "--window", "60", "--labels", str(tmp_path / "outcomes.csv"))
    summary = json.loads(out)
    assert [w["labelled"] for w in summary["windows"]] == [60, 30, 0]
    assert summary["labels"]["matched"] == 90 and summary["labels"]["unmatched"] == 1
    assert summary["labels"]["unmatched_examples"] == ["not-a-logged-id/0"]
    assert summary["windows"][0]["numbers"]["performance"]["accuracy"] > 0.5
    assert "live-accuracy" in {f["rule_id"] for f in summary["windows"][1]["findings"]}


def test_labels_may_join_on_the_clients_ids(logged, rai, tmp_path):
    root, ws, answers = logged
    pd.DataFrame({"client_request_id": [f"case-{i}" for i in range(60)],
                  "Y": [y for _, y in answers[:60]]}).to_csv(tmp_path / "by-client.csv", index=False)
    code, out, _ = _monitor(rai, root, ws, "--window", "60", "--labels", str(tmp_path / "by-client.csv"),
                            "--join", "client_request_id")
    assert [w["labelled"] for w in json.loads(out)["windows"]] == [60, 0, 0]


BAD = [
    (["--window", "0"], "--window: must be a duration (30m, 1h, 1d) or a number of decisions (1000), got '0'"),
    (["--window", "1w"], "--window: must be a duration (30m, 1h, 1d) or a number of decisions (1000), got '1w'"),
    (["--since", "2999-01-01"], "the prediction log holds no committed decision of demo v1 since 2999-01-01"),
]


@pytest.mark.parametrize("args,message", BAD, ids=["zero window", "unknown unit", "nothing since"])
def test_bad_options_are_one_line(logged, rai, args, message):
    root, ws, _ = logged
    code, out, err = _monitor(rai, root, ws, *args)
    assert code == 2 and err.startswith(f"error: {message}") and err.count("\n") == 1


def test_a_labels_file_with_a_twice_labelled_decision_or_unknown_labels_is_refused(logged, rai, tmp_path):
    root, ws, answers = logged
    rid = answers[0][0]
    pd.DataFrame({"request_id": [rid, rid], "Y": [0, 1]}).to_csv(tmp_path / "twice.csv", index=False)
    code, _, err = _monitor(rai, root, ws, "--labels", str(tmp_path / "twice.csv"))
    assert code == 2 and f"request_id '{rid}' row 0 has two labels (data rows 1 and 2)" in err
    pd.DataFrame({"request_id": [rid], "Y": ["yes"]}).to_csv(tmp_path / "text.csv", index=False)
    code, _, err = _monitor(rai, root, ws, "--labels", str(tmp_path / "text.csv"))
    assert code == 2 and "holds labels the model was not trained on: 'yes'" in err


def test_window_specifications():
    assert parse_window("1h") == ("time", 3600) and parse_window("30m") == ("time", 1800)
    assert parse_window("1000") == ("count", 1000) and parse_window("2d") == ("time", 172800)


def test_time_windows_cut_on_the_clock(logged, rai):
    root, ws, _ = logged
    code, out, _ = _monitor(rai, root, ws, "--window", "1d")
    summary = json.loads(out)
    assert sum(w["rows"] for w in summary["windows"]) == 180
    assert all(w["start"].endswith("T00:00:00.000000Z") for w in summary["windows"])
