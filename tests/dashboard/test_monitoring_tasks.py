"""The Monitoring page and :func:`dashboards.monitoring.windows` for binary, multiclass and regression models.

One trail holds the windows of three models, one per task: the serving tests' fixture models
(no TensorFlow), registered in one workspace, whose prediction logs are written in the layout
the server writes for each task (:func:`monitor.conftest.write_log`) and audited by
``rai monitor --log --window 100`` into 12 windows each. The 1,200 decisions of a model are its
recorded outputs on the 400 training rows, three times over; the last 200 come from far-off
inputs (the last two windows drift) and outcomes are joined to the first 400 (windows 0-3).

The oracle is the ``--json`` summary of each command (what it recorded for each window) and the
policies the test wrote: the charted series must equal the recorded numbers window by window, the
dashed lines must be the thresholds of exactly the rules that bound the charted number, and the
red points the blocked windows. Rules on another metric whose message also says "accuracy"
(balanced accuracy), on RMSE or R2, on a ratio or on the MAE gap must not be drawn; a
``fairness.group_metric`` rule on the selection-rate difference is drawn beside the parity rule.
"""

from __future__ import annotations

import contextlib
import io
import json
import math

import pandas as pd
import pyarrow as pa
import pytest
from monitor.conftest import monitor_policy, write_log
from serve.harness import CLASSES, FIXTURES, register_demo, training_frame

from dashboards.monitoring import COLUMNS, SERIES, windows
from governance.trail import open_trail
from governance.workspace import Workspace

WINDOW, REPEATS, FAR = 100, 3, 200
MODELS = {"binary": "approve", "multiclass": "tiering", "regression": "forecast"}
TARGET = {"binary": "Y", "multiclass": "tier", "regression": "spend"}
#: Each task's monitor rules, and the column each one's threshold belongs on (None: on no chart).
RULES = {
    "binary": [
        ({"id": "parity-sex", "check": "fairness.demographic_parity_difference", "params": {"sensitive_features": ["sex"], "max": 0.45}},
         "selection_rate_gap"),
        ({"id": "ratio-sex", "check": "fairness.demographic_parity_ratio", "params": {"sensitive_features": ["sex"], "min": 0.3}},
         None),
        ({"id": "live-accuracy", "check": "performance.metric", "params": {"metric": "accuracy", "min": 0.3}}, "accuracy"),
        ({"id": "live-balanced", "check": "performance.metric", "params": {"metric": "balanced_accuracy", "min": 0.2}}, None),
    ],
    "multiclass": [
        ({"id": "parity-sex", "check": "fairness.demographic_parity_difference", "params": {"sensitive_features": ["sex"], "max": 0.2}},
         "selection_rate_gap"),
        ({"id": "rate-gap-sex", "check": "fairness.group_metric",
          "params": {"sensitive_features": ["sex"], "metric": "selection_rate", "aggregate": "difference", "max": 0.25}},
         "selection_rate_gap"),
        ({"id": "rate-ratio-sex", "check": "fairness.group_metric",
          "params": {"sensitive_features": ["sex"], "metric": "selection_rate", "aggregate": "ratio", "min": 0.1}}, None),
        ({"id": "live-accuracy", "check": "performance.metric", "params": {"metric": "accuracy", "min": 0.7}}, "accuracy"),
        ({"id": "live-balanced", "check": "performance.metric", "params": {"metric": "balanced_accuracy", "min": 0.6}}, None),
        ({"id": "live-f1", "check": "performance.metric", "params": {"metric": "macro_f1", "min": 0.65}}, None),
    ],
    "regression": [
        ({"id": "level-gap-sex", "check": "fairness.group_metric",
          "params": {"sensitive_features": ["sex"], "metric": "mean_prediction", "aggregate": "difference", "max": 35}},
         "mean_prediction_gap"),
        ({"id": "live-mae", "check": "performance.error", "params": {"metric": "mae", "max": 5.5}}, "mae"),
        ({"id": "live-rmse", "check": "performance.error", "params": {"metric": "rmse", "max": 8}}, None),
        ({"id": "live-r2", "check": "performance.metric", "params": {"metric": "r2", "min": 0.5}}, None),
        ({"id": "mae-parity-sex", "check": "fairness.group_metric",
          "params": {"sensitive_features": ["sex"], "metric": "mae", "aggregate": "difference", "max": 2}}, None),
    ],
}
DRIFT = ({"id": "drift", "check": "drift.dataset", "params": {}}, "drift_share")
#: The number of a window's recorded ``numbers`` each charted column is.
RECORDED = {
    "drift_share": lambda n: n["drift"]["data"]["drifted_share"],
    "selection_rate_gap": lambda n: _largest(n.get("selection_rate_gaps")),
    "mean_prediction_gap": lambda n: _largest(n.get("mean_prediction_gaps")),
    "accuracy": lambda n: (n.get("performance") or {}).get("accuracy"),
    "mae": lambda n: (n.get("performance") or {}).get("mae"),
}
TITLES = {
    "binary": ["Share of drifted columns", "Largest selection-rate gap between groups", "Accuracy (windows with outcomes)"],
    "multiclass": ["Share of drifted columns", "Largest selection-rate gap between groups (worst class)",
                   "Accuracy (windows with outcomes)"],
    "regression": ["Share of drifted columns", "Largest gap in mean prediction between groups", "MAE (windows with outcomes)"],
}


def _largest(gaps: dict | None) -> float | None:
    measured = [v for v in (gaps or {}).values() if v is not None]
    return max(measured) if measured else None


def _rules(task: str) -> list[tuple[dict, str | None]]:
    return [*RULES[task], DRIFT]


def _answers(task: str) -> pd.DataFrame:
    """The fixture model's recorded outputs (and outcomes) on the 400 training rows."""
    return pd.read_parquet(FIXTURES / f"{'reference' if task == 'binary' else task}_predictions.parquet")


def _records(task: str) -> list[dict]:
    """A model's 1,200 decisions as its server logs them; the last ``FAR`` from far-off inputs."""
    answers = _answers(task)
    inputs = json.loads(training_frame().drop(columns=["Y"]).to_json(orient="records"))
    out = []
    for _ in range(REPEATS):
        for row, (_, a) in zip(inputs, answers.iterrows(), strict=True):
            if task == "binary":
                decision = {"label": int(a["y_pred"]), "score": float(a["y_score"])}
            elif task == "multiclass":
                decision = {"label": a["y_pred"], "score": float(a["y_score"]),
                            "probabilities": [float(a[f"y_score[{c}]"]) for c in CLASSES]}
            else:
                decision = {"label": None, "score": float(a["y_pred"])}
            out.append({"inputs": row, **decision})
    for record in out[-FAR:]:
        record["inputs"] = {**record["inputs"], "age": 85, "hours-per-week": 99.0, "color": "red"}
    return out


def _monitor(ws: Workspace, task: str, root) -> dict:
    """Register, log and audit one task's model; the command's ``--json`` summary."""
    from rai.cli import main

    entry = register_demo(ws, name=MODELS[task], task=task)
    write_log(ws, entry, _records(task))
    truth = _answers(task)["y_true"]
    labels = root / f"{task}-outcomes.csv"
    pd.DataFrame({"request_id": [f"req-{i:05d}" for i in range(len(truth))], TARGET[task]: truth}).to_csv(labels, index=False)
    items = "".join(f"  - {json.dumps({**rule, 'stage': 'monitor', 'severity': 'high'})}\n" for rule, _ in _rules(task))
    policy = monitor_policy(root / f"{task}.yaml", items, "warn")
    out = io.StringIO()
    with contextlib.redirect_stdout(out), pytest.raises(SystemExit) as done:
        main(["monitor", "--log", "--model", MODELS[task], "--policy", str(policy), "--workspace", str(ws.root),
              "--window", str(WINDOW), "--labels", str(labels), "--json"])
    assert done.value.code == 1, out.getvalue()  # the far-off windows block
    return json.loads(out.getvalue())


@pytest.fixture(scope="module")
def monitored(tmp_path_factory) -> tuple[Workspace, dict[str, dict]]:
    """One workspace whose trail holds 12 audited windows of each task's model; the summaries by task."""
    root = tmp_path_factory.mktemp("monitoring-tasks")
    ws = Workspace(root / "ws")
    return ws, {task: _monitor(ws, task, root) for task in MODELS}


def test_the_trail_holds_at_least_ten_windows_of_each_task_some_blocked(monitored):
    _, summaries = monitored
    for task, summary in summaries.items():
        decisions = [w["decision"] for w in summary["windows"]]
        assert len(decisions) == REPEATS * 400 // WINDOW >= 10, task
        assert "blocked" in decisions and "passed" in decisions, task
        assert [w["labelled"] for w in summary["windows"]][:5] == [WINDOW] * 4 + [0], task


@pytest.mark.parametrize("task", list(MODELS))
def test_windows_reads_each_window_in_its_tasks_terms(monitored, task):
    ws, summaries = monitored
    with open_trail(ws, create=False) as trail:
        table, limits = windows(trail)
    assert set(table["model"]) == {f"{m} v1" for m in MODELS.values()}
    mine = table[table["model"] == f"{MODELS[task]} v1"].set_index("run_id")
    recorded = {w["run_id"]: w for w in summaries[task]["windows"]}
    assert list(mine.index) == list(recorded) and set(mine["task"]) == {task}
    for column in RECORDED:
        expected = [RECORDED[column](w["numbers"]) if column in SERIES[task] else None for w in recorded.values()]
        got = [None if pd.isna(v) else v for v in mine[column]]
        assert got == expected, (task, column)
    assert [mine[c].notna().sum() for c in SERIES[task][1:]] == [12, 4]  # every gap measured; outcomes for 4 windows
    assert list(mine["decision"]) == [w["decision"] for w in recorded.values()]
    assert list(table.columns) == COLUMNS

    found = limits[limits["run_id"].isin(set(recorded))]
    charted = {rule["id"]: column for rule, column in _rules(task)}
    labelled = found[found["run_id"].isin({r for r, w in recorded.items() if w["labelled"]})]
    assert {(r, None if pd.isna(m) else m) for r, m in zip(labelled["rule_id"], labelled["metric"], strict=True)} == \
        set(charted.items())
    for rule, column in _rules(task):
        bound = rule["params"].get("max", rule["params"].get("min", 0.5))  # drift.dataset's default share is 0.5
        mapped = found[found["rule_id"] == rule["id"]].dropna(subset=["metric"])
        assert set(mapped["threshold"]) <= {float(bound)}, rule["id"]
        assert not mapped.empty or column is None, rule["id"]


def _page(open_page, ws: Workspace, task: str):
    """The Monitoring page with ``task``'s model chosen in the selector, which names every model with its task."""
    at = open_page("monitoring", ws.root)
    box = at.selectbox[0]
    assert box.options == [f"{MODELS[t]} v1 ({t})" for t in sorted(MODELS, key=MODELS.get)]
    box.select(f"{MODELS[task]} v1").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _layers(chart) -> dict[str, pd.DataFrame]:
    """A layered chart's data by mark: ``line`` (every window), ``point`` (the blocked ones), ``rule`` (thresholds)."""
    spec = json.loads(chart.proto.spec)
    data = {ds.name: pa.ipc.open_stream(ds.data.data).read_all().to_pandas() for ds in chart.proto.datasets}
    marks = {}
    for layer in spec["layer"]:
        mark = layer["mark"]["type"] if isinstance(layer["mark"], dict) else layer["mark"]
        marks[mark] = data[layer["data"]["name"]]
    return marks


@pytest.mark.parametrize("task", list(MODELS))
def test_the_page_charts_the_recorded_numbers_against_the_policys_thresholds(open_page, monitored, task):
    ws, summaries = monitored
    at = _page(open_page, ws, task)
    recorded = summaries[task]["windows"]
    blocked = [w for w in recorded if w["decision"] == "blocked"]
    assert [s.value for s in at.subheader] == [*TITLES[task], "Windows"]
    assert {m.label: m.value for m in at.metric} == {"Windows": "12", "Blocked windows": str(len(blocked)),
                                                     "Decisions": "1200", "With outcomes": "400"}
    charts = at.get("vega_lite_chart")
    assert len(charts) == 3
    for chart, column in zip(charts, SERIES[task], strict=True):
        layers = _layers(chart)
        expected = {w["run_id"]: RECORDED[column](w["numbers"]) for w in recorded if RECORDED[column](w["numbers"]) is not None}
        assert dict(zip(layers["line"]["run_id"], layers["line"][column], strict=True)) == expected, column
        assert all(math.isfinite(v) for v in expected.values())
        assert set(layers["point"]["run_id"]) == {w["run_id"] for w in blocked} & set(expected), column
        lines = {rule["id"]: float(rule["params"].get("max", rule["params"].get("min", 0.5)))
                 for rule, charted in _rules(task) if charted == column}
        assert dict(zip(layers["rule"]["rule_id"], layers["rule"]["threshold"], strict=True)) == lines, column
    table = at.dataframe[0].value
    assert len(table) == 12 and table["decision"].tolist() == [w["decision"] for w in recorded]
    others = {c for t in SERIES.values() for c in t} - set(SERIES[task])
    assert not others & set(table.columns) and set(SERIES[task]) <= set(table.columns)


def _append_window(trail, run_id: str, numbers: dict, findings: list[dict], source: str = "prediction_log") -> None:
    from governance.recorder import RunRecorder

    recorder = RunRecorder(trail, run_id, actor="tests")
    window = {"source": source, "start": "2025-03-01T10:00:00.000000Z", "end": "2025-03-01T10:01:00.000000Z",
              "rows": 100, "labelled": 100}
    recorder.event("drift.checked", {"model": {"name": "odd", "version": 1}, "window": window, "numbers": numbers,
                                     "decision": "passed"})
    recorder.event("gate.decided", {"stage": "monitor", "decision": "passed", "findings": findings})


ODD_FINDINGS = [  # (finding, the column it must be charted on, its threshold as charted)
    ({"rule_id": "said-accuracy", "check": "performance.metric", "message": "accuracy 0.9 within min 0.5",
      "threshold": {"min": 0.5}, "evidence": "accuracy"}, None, 0.5),
    ({"rule_id": "both-bounds", "check": "performance.metric", "message": "accuracy 0.9 within min 0.5, max 0.95",
      "threshold": {"min": 0.5, "max": 0.95}, "evidence": {"metric": "accuracy"}}, "accuracy", None),
    ({"rule_id": "bool-bound", "check": "performance.error", "threshold": {"max": True},
      "evidence": {"metric": "mae"}}, "mae", None),
    ({"rule_id": "no-aggregate", "check": "fairness.group_metric", "threshold": {"max": 1},
      "evidence": {"metric": "mean_prediction"}}, None, 1.0),
    ({"rule_id": "bare"}, None, None),
]


def test_odd_records_are_never_charted_as_numbers(tmp_path, open_page):
    """Values a reader cannot trust (text, booleans, two bounds, evidence that does not say) are left out, never guessed."""
    ws = Workspace(tmp_path / "ws")
    numbers = {"mean_prediction_gaps": {"sex.mean_prediction_difference": "12", "group.mean_prediction_difference": True,
                                        "age.mean_prediction_difference": None},
               "performance": {"mae": "4.5", "accuracy": False}, "drift": {"data": {"drifted_share": [0.5]}}}
    with open_trail(ws.ensure()) as trail:
        _append_window(trail, "monitor-odd", numbers, [f for f, _, _ in ODD_FINDINGS] + ["a finding that is text"])
        _append_window(trail, "monitor-odder", {"drift": ["not", "an", "object"], "performance": 0.9}, [])
        _append_window(trail, "monitor-batch", numbers, [], source="batch")  # a monitor batch, not a log window
        _append_window(trail, "run-not-monitoring", numbers, [])
        table, limits = windows(trail)
    assert table["run_id"].tolist() == ["monitor-odd", "monitor-odder"] and table["task"].tolist() == ["regression", "binary"]
    assert table[["drift_share", "prediction_drift", "mean_prediction_gap", "mae", "accuracy", "selection_rate_gap"]].isna().all().all()
    got = {r.rule_id: (None if pd.isna(r.metric) else r.metric, None if pd.isna(r.threshold) else r.threshold)
           for r in limits.itertuples()}
    assert got == {f["rule_id"]: (column, bound) for f, column, bound in ODD_FINDINGS}
    at = open_page("monitoring", ws.root)  # nothing to chart: the page still lists the windows
    assert not at.get("vega_lite_chart") and [s.value for s in at.subheader] == ["Windows"]
    assert at.dataframe[0].value["run_id"].tolist() == ["monitor-odd", "monitor-odder"]
