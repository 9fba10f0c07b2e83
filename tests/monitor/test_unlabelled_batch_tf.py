"""``rai monitor BATCH`` on a batch without the target column, with a model a real pipeline registered.

The pipeline tests' small Adult project is run once (TensorFlow); its registered model is then
monitored on its own test rows with the ``Y`` column dropped. Label-free rules decide on the
model's decisions, with numbers equal to fairlearn's on the decisions the registered model gives
those rows (scored here through the registry), and equal to the numbers of the same rows with
their labels; the rules that need labels are skipped, warned or blocking as ``on_missing_labels``
says, and the trail records every finding.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from fairlearn.metrics import MetricFrame, demographic_parity_difference, selection_rate
from pipeline.conftest import HERE as PIPELINE
from pipeline.conftest import SPEC

from governance.trail import open_trail
from governance.trail.signing import KeyRing

from .conftest import monitor_policy

pytestmark = pytest.mark.tf

RULES = """\
  - {id: parity-sex, check: fairness.demographic_parity_difference, stage: monitor, severity: high,
     params: {sensitive_features: [sex], max: 0.5}}
  - {id: selection-by-race, check: fairness.group_metric, stage: monitor, severity: high,
     params: {sensitive_features: [race], metric: selection_rate, aggregate: difference, max: 0.9}}
  - {id: score-levels-sex, check: fairness.group_metric, stage: monitor, severity: high,
     params: {sensitive_features: [sex], metric: mean_score, aggregate: difference, max: 0.5}}
  - {id: score-drift, check: drift.prediction, stage: monitor, severity: low, params: {}}
  - {id: live-accuracy, check: performance.metric, stage: monitor, severity: high, params: {metric: accuracy, min: 0.6}}
  - {id: odds-sex, check: fairness.equalized_odds_difference, stage: monitor, severity: high,
     params: {sensitive_features: [sex], max: 0.9}}
  - {id: fnr-parity, check: fairness.group_metric, stage: monitor, severity: medium,
     params: {sensitive_features: [sex], metric: fnr, aggregate: difference, max: 0.9}}
"""
LABEL_FREE = ("parity-sex", "selection-by-race", "score-levels-sex", "score-drift")
NEEDING = ("live-accuracy", "odds-sex", "fnr-parity")


@pytest.fixture(scope="module")
def registered(tmp_path_factory, adult_rows):
    """A project whose pipeline run registered ``adult-small`` v1 in ``ws``; the test rows without ``Y``."""
    from lifecycle.pipeline import run_pipeline

    project = tmp_path_factory.mktemp("unlabelled")
    for name in ("train.csv", "test.csv"):
        (project / name).write_bytes((adult_rows / name).read_bytes())
    (project / "pipeline.yaml").write_text(SPEC)
    (project / "policy.yaml").write_text((PIPELINE / "policy.yaml").read_text())
    result = run_pipeline(project / "pipeline.yaml", workspace=project / "ws")
    assert result.error is None and result.summary["decision"] == "passed", result.error or result.summary["reasons"]
    pd.read_csv(project / "test.csv", dtype=str, keep_default_na=False).drop(columns=["Y"]).to_csv(
        project / "live.csv", index=False)
    return project


def _monitor(rai, project: Path, how: str, batch: str = "live.csv", *extra: str) -> tuple[int, dict]:
    policy = monitor_policy(project / f"live-{how}.yaml", RULES, how)
    code, out, err = rai("monitor", str(project / batch), "--model", "adult-small", "--policy", str(policy),
                         "--workspace", str(project / "ws"), "--json", *extra)
    assert code in (0, 1), err
    return code, json.loads(out)


@pytest.fixture(scope="module")
def decisions(registered):
    """The registered model's scores and 0/1 decisions on the live rows, scored through the registry."""
    from lifecycle.serve import load_served

    served = load_served(registered / "ws" / "registry", "adult-small", None,
                         KeyRing(registered / "ws" / "keys").trusted())
    frame = pd.read_csv(registered / "live.csv", skipinitialspace=True, na_values=["?", ""])
    schema = served.schema
    features = frame[schema["numeric"] + schema["categorical"]].copy()
    for column in schema["categorical"]:
        features[column] = features[column].where(features[column].isna(), features[column].astype(str))
    scores = np.asarray(served.scorer(features), dtype=float).reshape(-1)
    return frame, scores, (scores >= served.threshold).astype(int)


EXPECTED = {"skip": ("skipped", 0), "warn": ("warning", 0), "block": ("failed", 1)}


@pytest.mark.parametrize("how", list(EXPECTED))
def test_an_unlabelled_batch_gets_its_label_free_findings_and_an_account_of_the_rest(registered, decisions, rai, how):
    code, summary = _monitor(rai, registered, how)
    status, exit_code = EXPECTED[how]
    found = {f["rule_id"]: f for f in summary["findings"]}
    assert code == exit_code and summary["decision"] == ("blocked" if how == "block" else "passed")
    assert summary["batch"]["labelled"] is False and "performance" not in summary["numbers"]
    for rule in LABEL_FREE:
        assert found[rule]["status"] == "passed", found[rule]["message"]
    for rule in NEEDING:
        assert found[rule]["status"] == status
        assert found[rule]["message"] == f"needs labels (column Y absent): not run on these rows (on_missing_labels: {how})"
    assert summary["reasons"] == ([f"{r} ({found[r]['check']}): {found[r]['message']}" for r in NEEDING]
                                  if how == "block" else [])
    with open_trail(registered / "ws", create=False) as trail:
        (gate,) = [e.payload for e in trail.events(run_id=summary["run_id"]) if e.kind == "gate.decided"]
    assert {f["rule_id"]: f["status"] for f in gate["findings"]} == {r: f["status"] for r, f in found.items()}


def test_label_free_numbers_equal_fairlearn_on_the_models_decisions(registered, decisions, rai):
    frame, scores, y_pred = decisions
    _, summary = _monitor(rai, registered, "skip")
    found = {f["rule_id"]: f for f in summary["findings"]}
    sex, race = frame["sex"], frame["race"]
    parity = demographic_parity_difference(y_pred, y_pred, sensitive_features=sex)
    assert found["parity-sex"]["observed"] == pytest.approx(parity, abs=1e-12)
    assert summary["numbers"]["selection_rate_gaps"]["sex.selection_rate_difference"] == pytest.approx(parity, abs=1e-12)
    by_race = MetricFrame(metrics=selection_rate, y_true=y_pred, y_pred=y_pred, sensitive_features=race).by_group
    counts = race.value_counts()
    kept = by_race[counts[by_race.index] >= 30]  # groups under the default 30 rows are listed, not compared
    assert found["selection-by-race"]["observed"] == pytest.approx(kept.max() - kept.min(), abs=1e-12)
    levels = pd.Series(scores).groupby(sex.to_numpy()).mean()
    assert found["score-levels-sex"]["observed"] == pytest.approx(levels.max() - levels.min(), abs=1e-9)


def test_labels_change_nothing_a_label_free_rule_reads(registered, rai):
    _, unlabelled = _monitor(rai, registered, "skip")
    code, labelled = _monitor(rai, registered, "skip", "test.csv")
    without = {f["rule_id"]: f for f in unlabelled["findings"]}
    with_labels = {f["rule_id"]: f for f in labelled["findings"]}
    for rule in LABEL_FREE:
        assert without[rule]["observed"] == pytest.approx(with_labels[rule]["observed"], abs=1e-12), rule
    assert labelled["batch"]["labelled"] is True and with_labels["live-accuracy"]["status"] == "passed"
    assert {with_labels[r]["status"] for r in NEEDING} == {"passed"}


def test_the_terminal_summary_says_which_rules_need_labels(registered, rai):
    policy = monitor_policy(registered / "live-warn.yaml", RULES, "warn")
    code, out, err = rai("monitor", str(registered / "live.csv"), "--model", "adult-small", "--policy", str(policy),
                         "--workspace", str(registered / "ws"))
    assert code == 0, err
    assert "no labels in the batch: rules that need them are not run (on_missing_labels: warn)" in out
    assert "  warning  live-accuracy: needs labels (column Y absent)" in out
    assert "selection-rate gap between groups: sex " in out
