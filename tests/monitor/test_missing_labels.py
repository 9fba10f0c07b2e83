"""Rows without labels: label-free rules decide, the others say they need labels (``on_missing_labels``).

Predictions without ``y_true`` (live rows whose outcomes are not known) reach only the checks
that read the model's outputs alone; their numbers equal fairlearn's on the same decisions, and
equal the numbers of the same rows with labels. Every other rule is recorded as "needs labels
(column Y absent)" and is skipped, warned or blocking as the policy says. A bad
``on_missing_labels`` is one located line, exit 2.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from fairlearn.metrics import (
    MetricFrame,
    demographic_parity_difference,
    demographic_parity_ratio,
    selection_rate,
)

from governance.engine import evaluate
from governance.evidence import Evidence, Predictions
from governance.metrics.fairness_tasks import report_for
from governance.metrics.groupwise import group_metric
from governance.policy.loader import load_policy

from .conftest import monitor_policy

LABEL_FREE = """\
  - {id: parity-sex, check: fairness.demographic_parity_difference, stage: monitor, severity: high,
     params: {sensitive_features: [sex], max: 0.5}}
  - {id: four-fifths-sex, check: fairness.demographic_parity_ratio, stage: monitor, severity: high,
     params: {sensitive_features: [sex], min: 0.1}}
  - {id: score-levels-sex, check: fairness.group_metric, stage: monitor, severity: high,
     params: {sensitive_features: [sex], metric: mean_score, aggregate: difference, max: 0.5}}
  - {id: selection-floor, check: fairness.group_metric_min, stage: monitor, severity: high,
     params: {sensitive_features: [sex], metric: selection_rate, min: 0.05}}
"""
NEEDS_LABELS = """\
  - {id: live-accuracy, check: performance.metric, stage: monitor, severity: high, params: {metric: accuracy, min: 0.5}}
  - {id: odds-sex, check: fairness.equalized_odds_difference, stage: monitor, severity: low,
     params: {sensitive_features: [sex], max: 0.5}}
  - {id: fnr-parity, check: fairness.group_metric, stage: monitor, severity: medium,
     params: {sensitive_features: [sex], metric: fnr, aggregate: difference, max: 0.5}}
  - {id: tpr-floor, check: fairness.group_metric_min, stage: monitor, severity: high,
     params: {sensitive_features: [sex], metric: tpr, min: 0.1}}
  - {id: label-balance, check: data.label_balance, stage: monitor, severity: high, params: {}}
"""
LABEL_FREE_IDS = ["parity-sex", "four-fifths-sex", "score-levels-sex", "selection-floor"]
NEEDING_IDS = ["live-accuracy", "odds-sex", "fnr-parity", "tpr-floor", "label-balance"]


@pytest.fixture(scope="module")
def rows():
    """600 live rows: sex, decisions selected at different rates per group, scores, and their outcomes."""
    rng = np.random.default_rng(3)
    sex = rng.choice(["Female", "Male"], 600, p=[0.4, 0.6])
    score = np.clip(rng.normal(np.where(sex == "Male", 0.45, 0.3), 0.2), 0, 1)
    y_pred = (score >= 0.5).astype(int)
    y_true = (rng.random(600) < score).astype(int)
    return pd.DataFrame({"sex": sex, "score": score, "y_pred": y_pred, "Y": y_true})


def _evidence(rows: pd.DataFrame, labelled: bool) -> Evidence:
    predictions = Predictions(rows["Y"].to_numpy() if labelled else None, rows["y_pred"].to_numpy(), rows[["sex"]],
                              y_score=rows["score"].to_numpy())
    dataset = rows[["sex", "Y"]] if labelled else rows[["sex"]]
    return Evidence(predictions=predictions, dataset=dataset, target="Y" if labelled else None,
                    missing_labels=None if labelled else "Y")


def _gate(tmp_path, rows, how: str, labelled: bool = False, extra: str = ""):
    policy = load_policy(monitor_policy(tmp_path / f"{how}.yaml", LABEL_FREE + NEEDS_LABELS + extra, how))
    return evaluate(policy, "monitor", _evidence(rows, labelled))


EXPECTED = {"skip": ("skipped", "passed"), "warn": ("warning", "passed"), "block": ("failed", "blocked")}


@pytest.mark.parametrize("how", list(EXPECTED))
def test_rules_that_need_labels_follow_on_missing_labels(tmp_path, rows, how):
    result = _gate(tmp_path, rows, how)
    by_id = {f.rule_id: f for f in result.findings}
    status, decision = EXPECTED[how]
    for rule in NEEDING_IDS:
        finding = by_id[rule]
        assert finding.status == status, (rule, finding.message)
        assert finding.message == f"needs labels (column Y absent): not run on these rows (on_missing_labels: {how})"
        assert finding.evidence == {"needs_labels": "column Y absent", "on_missing_labels": how}
        assert finding.observed is None and finding.threshold is None
    assert {by_id[r].status for r in LABEL_FREE_IDS} == {"passed"}
    assert result.decision == decision
    # block blocks whatever the rule's severity (odds-sex is low, below fail_on: high)
    assert by_id["odds-sex"].blocks == (how == "block")


def test_label_free_numbers_equal_fairlearn_and_the_labelled_rows(tmp_path, rows):
    unlabelled = {f.rule_id: f for f in _gate(tmp_path, rows, "skip").findings}
    labelled = {f.rule_id: f for f in _gate(tmp_path, rows, "skip", labelled=True).findings}
    sex = rows["sex"]
    assert unlabelled["parity-sex"].observed == pytest.approx(
        demographic_parity_difference(rows["Y"], rows["y_pred"], sensitive_features=sex), abs=1e-12)
    assert unlabelled["four-fifths-sex"].observed == pytest.approx(
        demographic_parity_ratio(rows["Y"], rows["y_pred"], sensitive_features=sex), abs=1e-12)
    means = rows.groupby("sex")["score"].mean()
    assert unlabelled["score-levels-sex"].observed == pytest.approx(means.max() - means.min(), abs=1e-12)
    rates = MetricFrame(metrics=selection_rate, y_true=rows["Y"], y_pred=rows["y_pred"], sensitive_features=sex)
    assert unlabelled["selection-floor"].observed == pytest.approx(rates.by_group.min(), abs=1e-12)
    for rule in LABEL_FREE_IDS:  # labels change nothing a label-free rule reads
        assert unlabelled[rule].observed == labelled[rule].observed
        assert unlabelled[rule].status == labelled[rule].status
    assert {labelled[r].status for r in NEEDING_IDS} <= {"passed", "failed", "warning"}  # decided with labels


def test_the_parity_evidence_carries_selection_rates_and_no_label_numbers(tmp_path, rows):
    parity = next(f for f in _gate(tmp_path, rows, "skip").findings if f.rule_id == "parity-sex")
    groups = {g["group"]["sex"]: g for g in parity.evidence["groups"]}
    rates = rows.groupby("sex")["y_pred"].mean()
    for sex, row in groups.items():
        assert row["selection_rate"] == pytest.approx(rates[sex], abs=1e-12) and row["count"] == int((rows["sex"] == sex).sum())
        assert row["accuracy"] is None and row["tpr"] is None and row["fpr"] is None and row["tp"] is None
    assert parity.evidence["metrics"]["equalized_odds_difference"] is None
    assert parity.evidence["overall"]["accuracy"] is None


def test_a_waiver_covers_a_blocking_missing_label_finding(tmp_path, rows):
    waiver = "waivers:\n  - {rule: live-accuracy, reason: outcomes arrive in 90 days, approved_by: cro, expires: 2999-01-01}\n"
    result = _gate(tmp_path, rows, "block", extra=waiver)
    accuracy = next(f for f in result.findings if f.rule_id == "live-accuracy")
    assert accuracy.status == "waived" and "waived by cro" in accuracy.message


def test_predictions_without_labels_and_without_the_evidence_piece_say_so(tmp_path, rows):
    policy = load_policy(monitor_policy(tmp_path / "p.yaml", LABEL_FREE + NEEDS_LABELS, "warn"))
    predictions = Predictions(None, rows["y_pred"].to_numpy(), rows[["sex"]], y_score=rows["score"].to_numpy())
    result = evaluate(policy, "monitor", Evidence(predictions=predictions))
    accuracy = next(f for f in result.findings if f.rule_id == "live-accuracy")
    assert accuracy.status == "warning" and accuracy.message.startswith("needs labels (the predictions carry none)")


def test_a_plugin_check_that_is_not_label_free_never_sees_unlabelled_predictions(tmp_path, rows):
    from governance.checks.base import REGISTRY, Check, CheckParams, Outcome, register

    seen = []

    @register("tests.reads_predictions")
    class ReadsPredictions(Check):
        """Reads the predictions' labels."""

        stages = ("monitor",)
        Params = CheckParams

        def evaluate(self, evidence, params):
            seen.append(evidence.require("predictions"))
            return Outcome(True, "ok")

    try:
        rule = "  - {id: plugin, check: tests.reads_predictions, stage: monitor, severity: high}\n"
        policy = load_policy(monitor_policy(tmp_path / "p.yaml", rule, "block"))
        (finding,) = evaluate(policy, "monitor", _evidence(rows, labelled=False)).findings
        assert finding.status == "failed" and finding.message.startswith("needs labels (column Y absent)")
        assert seen == []
        (finding,) = evaluate(policy, "monitor", _evidence(rows, labelled=True)).findings
        assert finding.status == "passed" and len(seen) == 1
    finally:
        REGISTRY.pop("tests.reads_predictions", None)


TASKS = {
    "multiclass": dict(y_pred=lambda r: np.where(r["score"] > 0.5, "high", np.where(r["score"] > 0.3, "mid", "low")),
                       options=dict(task="multiclass", classes=["high", "low", "mid"])),
    "regression": dict(y_pred=lambda r: 20 + 40 * r["score"].to_numpy(), options=dict(task="regression")),
}


@pytest.mark.parametrize("task", list(TASKS))
def test_reports_of_other_tasks_without_labels_keep_the_label_free_numbers(rows, task):
    spec = TASKS[task]
    y_pred = spec["y_pred"](rows)
    report = report_for(Predictions(None, y_pred, rows[["sex"]], **spec["options"]), ["sex"], 30)
    table = report.to_dict()
    if task == "multiclass":
        for klass in ("high", "low", "mid"):
            frame = MetricFrame(metrics=selection_rate, y_true=y_pred == klass, y_pred=y_pred == klass,
                                sensitive_features=rows["sex"])
            for g in table["groups"]:
                (row,) = [c for c in g["classes"] if c["class"] == klass]
                assert row["selection_rate"] == pytest.approx(frame.by_group[g["group"]["sex"]], abs=1e-12)
                assert row["tpr"] is None and row["tp"] is None
        assert table["metrics"]["equal_opportunity_difference"] is None and table["worst_class"]["equalized_odds_difference"] is None
        assert all(g["accuracy"] is None for g in table["groups"])
    else:
        levels = pd.Series(y_pred).groupby(rows["sex"].to_numpy()).mean()
        assert table["metrics"]["mean_prediction_difference"] == pytest.approx(levels.max() - levels.min(), abs=1e-9)
        assert table["metrics"]["mae_difference"] is None and all(g["mae"] is None for g in table["groups"])
        metric = group_metric("mean_prediction", Predictions(None, y_pred, rows[["sex"]], task="regression"), ["sex"])
        assert metric.aggregate("difference") == pytest.approx(levels.max() - levels.min(), abs=1e-9)
        with pytest.raises(ValueError, match="metric 'mae' needs labels"):
            group_metric("mae", Predictions(None, y_pred, rows[["sex"]], task="regression"), ["sex"])
