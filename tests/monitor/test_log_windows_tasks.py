"""``rai monitor --log`` for multiclass and regression models: the records' own layout, numbers by task.

The serving tests' multiclass and regression fixture models are registered (no TensorFlow) and
their logs are written in the layout the server writes: a multiclass decision carries its class
(``label``), that class's probability (``score``) and every class's ``probabilities``; a
regression decision carries its prediction (``score``) and a null ``label``. The decisions are the
fixture models' recorded outputs on their training rows. Outcomes are joined to the first window
only: its performance and group gaps equal scikit-learn's and fairlearn's ``MetricFrame`` on the
same rows; the second window gets its label-free numbers and "needs labels" for the rest.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from fairlearn.metrics import MetricFrame, false_positive_rate, selection_rate, true_positive_rate
from serve.harness import CLASSES, FIXTURES, register_demo, training_frame
from sklearn.metrics import (
    accuracy_score,
    balanced_accuracy_score,
    f1_score,
    log_loss,
    mean_absolute_error,
    r2_score,
    root_mean_squared_error,
)

from governance.workspace import Workspace

from .conftest import monitor_policy, write_log

TOL = dict(abs=1e-9)
RULES = {
    "multiclass": """\
  - {id: parity-sex, check: fairness.demographic_parity_difference, stage: monitor, severity: high,
     params: {sensitive_features: [sex], max: 0.99}}
  - {id: live-accuracy, check: performance.metric, stage: monitor, severity: high, params: {metric: accuracy, min: 0.1}}
""",
    "regression": """\
  - {id: level-gap-sex, check: fairness.group_metric, stage: monitor, severity: high,
     params: {sensitive_features: [sex], metric: mean_prediction, aggregate: difference, max: 1000}}
  - {id: live-mae, check: performance.error, stage: monitor, severity: high, params: {metric: mae, max: 1000}}
  - {id: mae-parity-sex, check: fairness.group_metric, stage: monitor, severity: high,
     params: {sensitive_features: [sex], metric: mae, aggregate: difference, max: 1000}}
""",
}
TARGET = {"multiclass": "tier", "regression": "spend"}
WINDOW = 200


def _records(task: str, answers: pd.DataFrame, inputs: list[dict]) -> list[dict]:
    if task == "multiclass":
        return [{"inputs": row, "label": a["y_pred"], "score": float(a["y_score"]),
                 "probabilities": [float(a[f"y_score[{c}]"]) for c in CLASSES]}
                for row, (_, a) in zip(inputs, answers.iterrows(), strict=True)]
    return [{"inputs": row, "label": None, "score": float(a["y_pred"])}
            for row, (_, a) in zip(inputs, answers.iterrows(), strict=True)]


@pytest.fixture(scope="module", params=["multiclass", "regression"])
def logged(request, tmp_path_factory):
    """(task, root, ws, the logged rows with their decisions and outcomes, the monitor --json summary)."""
    task = request.param
    root = tmp_path_factory.mktemp(f"windows-{task}")
    ws = Workspace(root / "ws")
    entry = register_demo(ws, task=task)
    train = training_frame()
    answers = pd.read_parquet(FIXTURES / f"{task}_predictions.parquet")
    write_log(ws, entry, _records(task, answers, json.loads(train.drop(columns=["Y"]).to_json(orient="records"))))
    rows = train.assign(y_pred=answers["y_pred"].to_numpy(), y_true=answers["y_true"].to_numpy())
    pd.DataFrame({"request_id": [f"req-{i:05d}" for i in range(WINDOW)],
                  TARGET[task]: rows["y_true"].head(WINDOW)}).to_csv(root / "outcomes.csv", index=False)
    policy = monitor_policy(root / "policy.yaml", RULES[task], "warn")
    from rai.cli import main

    with pytest.MonkeyPatch.context():
        import contextlib
        import io

        out = io.StringIO()
        with contextlib.redirect_stdout(out), pytest.raises(SystemExit) as done:
            main(["monitor", "--log", "--model", "demo", "--policy", str(policy), "--workspace", str(ws.root),
                  "--window", str(WINDOW), "--labels", str(root / "outcomes.csv"), "--json"])
    assert done.value.code in (0, None), out.getvalue()
    return task, rows, proba(task, answers), json.loads(out.getvalue())


def proba(task: str, answers: pd.DataFrame) -> np.ndarray | None:
    return answers[[f"y_score[{c}]" for c in CLASSES]].to_numpy() if task == "multiclass" else None


def _per_class_gap(metric, y_true, y_pred, sex) -> float:
    """The worst class's gap between groups of a one-vs-rest rate, with fairlearn's MetricFrame."""
    return max(MetricFrame(metrics=metric, y_true=y_true == k, y_pred=y_pred == k, sensitive_features=sex).difference()
               for k in CLASSES)


def test_a_labelled_window_gets_the_tasks_performance_and_gaps(logged):
    task, rows, probabilities, summary = logged
    first = summary["windows"][0]
    part = rows.head(WINDOW)
    y_true, y_pred, sex = part["y_true"], part["y_pred"], part["sex"]
    assert first["labelled"] == WINDOW and first["decision"] == "passed"
    performance, gaps = first["numbers"]["performance"], first["numbers"]["group_gaps"]
    if task == "multiclass":
        assert performance["accuracy"] == pytest.approx(accuracy_score(y_true, y_pred), **TOL)
        assert performance["balanced_accuracy"] == pytest.approx(balanced_accuracy_score(y_true, y_pred), **TOL)
        assert performance["macro_f1"] == pytest.approx(f1_score(y_true, y_pred, average="macro"), **TOL)
        assert performance["log_loss"] == pytest.approx(log_loss(y_true, probabilities[:WINDOW], labels=CLASSES), abs=1e-6)
        assert gaps["sex.demographic_parity_difference"] == pytest.approx(_per_class_gap(selection_rate, y_true, y_pred, sex), **TOL)
        odds = max(max(MetricFrame(metrics=m, y_true=y_true == k, y_pred=y_pred == k, sensitive_features=sex).difference()
                       for m in (true_positive_rate, false_positive_rate)) for k in CLASSES)
        assert gaps["sex.equalized_odds_difference"] == pytest.approx(odds, **TOL)
        accuracy = next(f for f in first["findings"] if f["rule_id"] == "live-accuracy")
        assert accuracy["status"] == "passed" and accuracy["observed"] == pytest.approx(accuracy_score(y_true, y_pred), **TOL)
    else:
        assert performance["mae"] == pytest.approx(mean_absolute_error(y_true, y_pred), **TOL)
        assert performance["rmse"] == pytest.approx(root_mean_squared_error(y_true, y_pred), **TOL)
        assert performance["r2"] == pytest.approx(r2_score(y_true, y_pred), **TOL)
        frame = MetricFrame(metrics=mean_absolute_error, y_true=y_true, y_pred=y_pred, sensitive_features=sex)
        assert gaps["sex.mae_difference"] == pytest.approx(frame.difference(), **TOL)
        parity = next(f for f in first["findings"] if f["rule_id"] == "mae-parity-sex")
        assert parity["status"] == "passed" and parity["observed"] == pytest.approx(frame.difference(), **TOL)


def test_a_window_without_outcomes_gets_its_label_free_numbers_and_needs_labels_for_the_rest(logged):
    task, rows, _, summary = logged
    second = summary["windows"][1]
    part = rows.iloc[WINDOW:]
    found = {f["rule_id"]: f for f in second["findings"]}
    assert second["labelled"] == 0 and "performance" not in second["numbers"]
    needing = ["live-accuracy"] if task == "multiclass" else ["live-mae", "mae-parity-sex"]
    for rule in needing:
        assert found[rule]["status"] == "warning"
        assert found[rule]["message"] == (f"needs labels (column {TARGET[task]} absent): not run on these rows "
                                          "(on_missing_labels: warn)")
    if task == "multiclass":
        gap = _per_class_gap(selection_rate, part["y_pred"], part["y_pred"], part["sex"])
        assert second["numbers"]["selection_rate_gaps"]["sex.selection_rate_difference"] == pytest.approx(gap, **TOL)
        assert found["parity-sex"]["status"] == "passed" and found["parity-sex"]["observed"] == pytest.approx(gap, **TOL)
        shares = part["y_pred"].value_counts(normalize=True)
        assert second["numbers"]["class_shares"]["current"] == pytest.approx({c: shares.get(c, 0.0) for c in CLASSES}, **TOL)
    else:
        levels = part.groupby("sex")["y_pred"].mean()
        gap = levels.max() - levels.min()
        assert second["numbers"]["mean_prediction_gaps"]["sex.mean_prediction_difference"] == pytest.approx(gap, **TOL)
        assert found["level-gap-sex"]["status"] == "passed" and found["level-gap-sex"]["observed"] == pytest.approx(gap, **TOL)
        assert second["numbers"]["mean_prediction"]["current"] == pytest.approx(part["y_pred"].mean(), **TOL)
    assert second["numbers"]["drift"]["prediction"]["column"] == "y_pred"


LOGGED_BADLY = [
    ("multiclass", {"label": "high", "score": 0.9}, "was logged without its class probabilities"),
    ("multiclass", {"label": "huge", "score": 0.9, "probabilities": [0.9, 0.05, 0.05]},
     "y_pred: labels 'huge' are not among classes ('high', 'low', 'medium')"),
    ("regression", {"label": None, "score": None}, "the model produced non-finite predictions"),
    ("binary", {"label": None, "score": 0.7}, "decision 'req-00000' row 0 of this binary model was logged with label None"),
]


@pytest.mark.parametrize("task, record, message", LOGGED_BADLY, ids=[f"{t}: {m[:30]}" for t, _, m in LOGGED_BADLY])
def test_a_decision_logged_in_another_tasks_layout_is_one_line(tmp_path, rai, task, record, message):
    ws = Workspace(tmp_path / "ws")
    entry = register_demo(ws, task=task)
    row = json.loads(training_frame().drop(columns=["Y"]).head(1).to_json(orient="records"))[0]
    write_log(ws, entry, [{"inputs": row, **record}])
    policy = monitor_policy(tmp_path / "policy.yaml", "  - {id: drift, check: drift.dataset, stage: monitor, "
                            "severity: high, params: {}}\n")
    code, out, err = rai("monitor", "--log", "--model", "demo", "--policy", str(policy), "--workspace", str(ws.root))
    lines = err.strip().splitlines()
    assert (code, out) == (2, "") and len(lines) == 1 and message in lines[0], lines
