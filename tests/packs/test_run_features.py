"""Rules that name no sensitive features take the policy's, else the run's; never none at all."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from fairlearn.metrics import demographic_parity_difference

import rai
from governance.engine import evaluate
from governance.evidence import Evidence, Predictions
from governance.policy.loader import load_policy

RULE = """\
rules:
  - {id: parity, check: fairness.demographic_parity_difference, stage: evaluate, severity: high,
     params: {max: 0.1, min_group_size: 1}}
"""


def policy(tmp_path: Path, head: str = "") -> object:
    path = tmp_path / "p.yaml"
    path.write_text(f"policy: p\nversion: 1\nowner: o\n{head}{RULE}")
    return load_policy(path)


def predictions() -> Predictions:
    rng = np.random.default_rng(7)
    n = 400
    sensitive = pd.DataFrame({"sex": rng.choice(["F", "M"], n), "race": rng.choice(["a", "b", "c"], n)})
    y_pred = (rng.random(n) < np.where(sensitive["race"] == "a", 0.7, 0.4)).astype(int)
    return Predictions(rng.integers(0, 2, n), y_pred, sensitive)


def observed(result) -> float:
    (finding,) = result.findings
    assert finding.status.value in ("passed", "failed"), finding.message
    return finding.observed


def test_the_predictions_sensitive_columns_are_the_runs_features(tmp_path):
    preds = predictions()
    value = observed(evaluate(policy(tmp_path), "evaluate", Evidence(predictions=preds)))
    expected = demographic_parity_difference(preds.y_true, preds.y_pred, sensitive_features=preds.sensitive)
    assert value == pytest.approx(expected)


def test_the_sensitive_features_evidence_wins_over_the_columns(tmp_path):
    preds = predictions()
    value = observed(evaluate(policy(tmp_path), "evaluate", Evidence(predictions=preds, sensitive_features=["race"])))
    assert value == pytest.approx(demographic_parity_difference(preds.y_true, preds.y_pred,
                                                                sensitive_features=preds.sensitive["race"]))


def test_the_policy_names_them_for_every_rule_that_does_not(tmp_path):
    preds = predictions()
    loaded = policy(tmp_path, "sensitive_features: [sex]\n")
    assert loaded.rules[0].validated.sensitive_features == ["sex"]
    value = observed(evaluate(loaded, "evaluate", Evidence(predictions=preds, sensitive_features=["race"])))
    assert value == pytest.approx(demographic_parity_difference(preds.y_true, preds.y_pred,
                                                                sensitive_features=preds.sensitive["sex"]))


def test_a_child_policy_names_them_for_the_rules_of_its_base(tmp_path):
    (tmp_path / "base.yaml").write_text(f"policy: base\nversion: 1\nowner: o\n{RULE}")
    (tmp_path / "child.yaml").write_text("policy: c\nversion: 1\nowner: o\nextends: base.yaml\nsensitive_features: [race]\n")
    child = load_policy(tmp_path / "child.yaml")
    assert child.rules[0].validated.sensitive_features == ["race"]
    assert load_policy(tmp_path / "base.yaml").rules[0].validated is None  # the base alone: the run's


def test_without_any_sensitive_features_the_rule_is_an_error_that_blocks(tmp_path):
    preds = predictions()
    no_columns = Predictions(preds.y_true, preds.y_pred, pd.DataFrame(index=range(len(preds.y_true))))
    result = evaluate(policy(tmp_path), "evaluate", Evidence(predictions=no_columns))
    (finding,) = result.findings
    assert finding.status.value == "error" and result.blocked
    assert finding.message.startswith("missing evidence 'sensitive_features': the rule takes the run's sensitive features")


def test_the_api_gate_uses_the_predictions_columns(tmp_path):
    preds = predictions()
    result = rai.audit(policy(tmp_path), "evaluate", predictions=preds, sensitive_features=["sex"])
    assert result.findings[0].observed == pytest.approx(
        demographic_parity_difference(preds.y_true, preds.y_pred, sensitive_features=preds.sensitive["sex"]))
