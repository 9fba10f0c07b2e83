"""``rai monitor BATCH`` for regression and multiclass models that real pipeline runs registered.

The pipeline task tests' regression (hours per week, age in bands) and multiclass (education
level, sex coded 1/2 with value labels) projects are run (TensorFlow); each registered model is
monitored on its test rows, with and without the target column. The model's outputs are
recomputed here through the registry; the monitor's numbers and the rules' observed values equal
scikit-learn's metrics and fairlearn's ``MetricFrame`` on them (1e-9), the groups are the ones
training used, label-free numbers do not depend on the labels, and the rest needs labels.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from fairlearn.metrics import MetricFrame, false_positive_rate, selection_rate, true_positive_rate
from pipeline.test_tasks_tf import multiclass, regression  # noqa: F401  (the registered projects)
from sklearn.metrics import (
    accuracy_score,
    balanced_accuracy_score,
    f1_score,
    log_loss,
    mean_absolute_error,
    r2_score,
    root_mean_squared_error,
)

from governance.trail.signing import KeyRing

from .conftest import monitor_policy

pytestmark = pytest.mark.tf

TOL = dict(abs=1e-9)
AGE_BANDS = [0, 25, 40, 60, 120]
RULES = {
    "regression": """\
  - {id: live-mae, check: performance.error, stage: monitor, severity: high, params: {metric: mae, max: 20}}
  - {id: mae-parity-age, check: fairness.group_metric, stage: monitor, severity: medium,
     params: {sensitive_features: [age], metric: mae, aggregate: difference, max: 50}}
  - {id: level-gap-sex, check: fairness.group_metric, stage: monitor, severity: high,
     params: {sensitive_features: [sex], metric: mean_prediction, aggregate: difference, max: 50}}
  - {id: prediction-drift, check: drift.prediction, stage: monitor, severity: low, params: {}}
""",
    "multiclass": """\
  - {id: live-accuracy, check: performance.metric, stage: monitor, severity: high, params: {metric: accuracy, min: 0.2}}
  - {id: odds-sex, check: fairness.equalized_odds_difference, stage: monitor, severity: medium,
     params: {sensitive_features: [sex], max: 0.9}}
  - {id: parity-sex, check: fairness.demographic_parity_difference, stage: monitor, severity: high,
     params: {sensitive_features: [sex], max: 0.9}}
  - {id: prediction-drift, check: drift.prediction, stage: monitor, severity: low, params: {}}
""",
}
NEEDING = {"regression": ("live-mae", "mae-parity-age"), "multiclass": ("live-accuracy", "odds-sex")}
LABEL_FREE = {"regression": ("level-gap-sex", "prediction-drift"), "multiclass": ("parity-sex", "prediction-drift")}


def _monitor(rai, project: Path, task: str, name: str, batch: str, how: str = "warn") -> tuple[int, str, str]:
    policy = monitor_policy(project / f"monitor-{task}-{how}.yaml", RULES[task], how)
    return rai("monitor", str(batch), "--model", name, "--policy", str(policy), "--workspace", str(project / "ws"),
               "--json")


def _summary(project: Path, task: str, name: str, batch: str) -> dict:
    """The --json summary of monitoring ``batch`` (the library call behind ``rai monitor``)."""
    from lifecycle.monitor import monitor_batch

    policy = monitor_policy(project / f"monitor-{task}-warn.yaml", RULES[task], "warn")
    result = monitor_batch(project / batch, name=name, workspace=project / "ws", policy_path=policy)
    assert result.exit_code == 0, result.summary["reasons"]
    return result.summary


@pytest.fixture(scope="module", params=["regression", "multiclass"])
def monitored(request):
    """(task, project, model name, the test rows, the model's outputs on them, schema, labelled and
    unlabelled summaries)."""
    from lifecycle.serve import load_served

    task = request.param
    project, summary = request.getfixturevalue(task)
    name = summary["deployed"]["name"]
    served = load_served(project / "ws" / "registry", name, None, KeyRing(project / "ws" / "keys").trusted())
    schema = served.schema
    rows = pd.read_csv(project / "test.csv", skipinitialspace=True, na_values=["?", ""])
    features = rows[schema["numeric"] + schema["categorical"]].copy()
    for column in schema["categorical"]:
        features[column] = features[column].where(features[column].isna(), features[column].astype(str))
    raw = np.asarray(served.scorer(features), dtype=float)
    rows.drop(columns=[schema["target"]]).to_csv(project / "live.csv", index=False)
    return (task, project, name, rows, raw, schema, _summary(project, task, name, "test.csv"),
            _summary(project, task, name, "live.csv"))


def _outputs(task: str, raw: np.ndarray, schema: dict) -> tuple[np.ndarray, np.ndarray | None]:
    if task == "regression":
        return raw.reshape(-1), None
    proba = np.clip(raw, 0, 1) / np.clip(raw, 0, 1).sum(axis=1, keepdims=True)
    return np.asarray(schema["classes"], dtype=object)[proba.argmax(axis=1)], proba


def _kept(frame: MetricFrame, groups: pd.Series) -> pd.Series:
    """fairlearn's per-group values of the groups of at least 30 rows (smaller ones are listed, not compared)."""
    counts = groups.value_counts()
    return frame.by_group[[g for g in frame.by_group.index if counts[g] >= 30]]


def test_a_labelled_batch_gets_the_tasks_metrics_and_gaps(monitored):
    task, _, _, rows, raw, schema, labelled, _ = monitored
    y_pred, proba = _outputs(task, raw, schema)
    y_true = rows[schema["target"]]
    performance, gaps = labelled["numbers"]["performance"], labelled["numbers"]["group_gaps"]
    found = {f["rule_id"]: f for f in labelled["findings"]}
    assert labelled["batch"]["labelled"] is True and {found[r]["status"] for r in NEEDING[task]} <= {"passed", "warning"}
    if task == "regression":
        assert performance["mae"] == pytest.approx(mean_absolute_error(y_true, y_pred), **TOL)
        assert performance["rmse"] == pytest.approx(root_mean_squared_error(y_true, y_pred), **TOL)
        assert performance["r2"] == pytest.approx(r2_score(y_true, y_pred), **TOL)
        assert found["live-mae"]["observed"] == pytest.approx(mean_absolute_error(y_true, y_pred), **TOL)
        bands = pd.Series(pd.cut(rows["age"], AGE_BANDS, right=False).astype(str).to_numpy())
        by_age = _kept(MetricFrame(metrics=mean_absolute_error, y_true=y_true, y_pred=y_pred, sensitive_features=bands), bands)
        assert found["mae-parity-age"]["observed"] == pytest.approx(by_age.max() - by_age.min(), **TOL)
        by_sex = MetricFrame(metrics=mean_absolute_error, y_true=y_true, y_pred=y_pred, sensitive_features=rows["sex"])
        assert gaps["sex.mae_difference"] == pytest.approx(by_sex.difference(), **TOL)
    else:
        sex = rows["sex"].map({1: "male", 2: "female"})
        assert performance["accuracy"] == pytest.approx(accuracy_score(y_true, y_pred), **TOL)
        assert performance["balanced_accuracy"] == pytest.approx(balanced_accuracy_score(y_true, y_pred), **TOL)
        assert performance["macro_f1"] == pytest.approx(f1_score(y_true, y_pred, average="macro"), **TOL)
        assert performance["log_loss"] == pytest.approx(log_loss(y_true, proba, labels=schema["classes"]), **TOL)
        odds = max(max(MetricFrame(metrics=m, y_true=y_true == k, y_pred=y_pred == k, sensitive_features=sex).difference()
                       for m in (true_positive_rate, false_positive_rate)) for k in schema["classes"])
        assert gaps["sex.equalized_odds_difference"] == pytest.approx(odds, **TOL)
        assert found["odds-sex"]["observed"] == pytest.approx(odds, **TOL)
        assert "(sex=female)" in found["parity-sex"]["message"] and "(sex=male)" in found["parity-sex"]["message"]


def test_an_unlabelled_batch_gets_the_same_label_free_numbers_and_needs_labels_for_the_rest(monitored):
    task, _, _, rows, raw, schema, labelled, unlabelled = monitored
    y_pred, _ = _outputs(task, raw, schema)
    without = {f["rule_id"]: f for f in unlabelled["findings"]}
    with_labels = {f["rule_id"]: f for f in labelled["findings"]}
    assert unlabelled["batch"]["labelled"] is False and "performance" not in unlabelled["numbers"]
    for rule in NEEDING[task]:
        assert without[rule]["status"] == "warning"
        assert without[rule]["message"] == (f"needs labels (column {schema['target']} absent): not run on these rows "
                                             "(on_missing_labels: warn)")
    for rule in LABEL_FREE[task]:
        assert without[rule]["status"] == "passed", without[rule]["message"]
        assert without[rule]["observed"] == pytest.approx(with_labels[rule]["observed"], **TOL)
    if task == "regression":
        levels = pd.Series(y_pred).groupby(rows["sex"].to_numpy()).mean()
        gap = levels.max() - levels.min()
        assert without["level-gap-sex"]["observed"] == pytest.approx(gap, **TOL)
        assert unlabelled["numbers"]["mean_prediction_gaps"]["sex.mean_prediction_difference"] == pytest.approx(gap, **TOL)
        assert unlabelled["numbers"]["mean_prediction"]["current"] == pytest.approx(y_pred.mean(), **TOL)
    else:
        sex = rows["sex"].map({1: "male", 2: "female"})
        gap = max(MetricFrame(metrics=selection_rate, y_true=y_pred == k, y_pred=y_pred == k,
                              sensitive_features=sex).difference() for k in schema["classes"])
        assert without["parity-sex"]["observed"] == pytest.approx(gap, **TOL)
        assert unlabelled["numbers"]["selection_rate_gaps"]["sex.selection_rate_difference"] == pytest.approx(gap, **TOL)
        shares = pd.Series(y_pred).value_counts(normalize=True)
        assert unlabelled["numbers"]["class_shares"]["current"] == pytest.approx(
            {c: shares.get(c, 0.0) for c in schema["classes"]}, **TOL)
    # The test rows are the rows the entry's recorded outputs come from: nothing drifts.
    assert unlabelled["numbers"]["drift"]["prediction"]["drifted"] is False


BAD = {
    "regression": [("a text target", lambda f, t: f.assign(**{t: ["many"] + list(f[t][1:])}),
                    "column 'hours-per-week' holds targets that are not finite numbers: 'many' (first in data row 1)"),
                   ("an age outside the bands", lambda f, t: f.assign(age=[130] + list(f["age"][1:])),
                    "the model's bins for 'age' (0, 25, 40, 60, 120) leave 1 row(s) outside every band")],
    "multiclass": [("an unknown class", lambda f, t: f.assign(**{t: ["phd"] + list(f[t][1:])}),
                    "column 'education_level' holds labels the model was not trained on: 'phd'"),
                   ("a sex code without a label", lambda f, t: f.assign(sex=[3] + list(f["sex"][1:])),
                    "the model's value_labels for 'sex': 1 value(s) of the column have no label: 3")],
}


def test_a_batch_the_models_labels_or_groups_do_not_fit_is_one_line(monitored, rai, tmp_path):
    task, project, name, rows, _, schema, _, _ = monitored
    for case, change, message in BAD[task]:
        path = tmp_path / f"{case.replace(' ', '-')}.csv"
        change(rows, schema["target"]).to_csv(path, index=False)
        code, out, err = _monitor(rai, project, task, name, str(path))
        assert code == 2 and out == "", case
        lines = err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith(f"error: {path}: ") and message in lines[0], (case, lines)


def test_the_terminal_summary_speaks_of_the_tasks_outputs(monitored, rai):
    task, project, name, _, _, _, _, unlabelled = monitored
    policy = monitor_policy(project / f"monitor-{task}-skip.yaml", RULES[task], "skip")
    code, out, err = rai("monitor", str(project / "live.csv"), "--model", name, "--policy", str(policy),
                         "--workspace", str(project / "ws"))
    assert code == 0, err
    numbers = unlabelled["numbers"]
    if task == "regression":
        mean = numbers["mean_prediction"]
        assert f"  mean prediction {mean['reference']:.4g} (reference) -> {mean['current']:.4g} (batch)" in out
        assert "  mean-prediction gap between groups: sex " in out
    else:
        assert "  predicted classes (reference -> batch): degree " in out
        assert "  selection-rate gap between groups: sex " in out
    assert "no labels in the batch: rules that need them are not run (on_missing_labels: skip)" in out
