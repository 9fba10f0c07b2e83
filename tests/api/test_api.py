"""The public Python API, tested directly (not through the CLI) and against the CLI's output."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

import rai

ROOT = Path(__file__).resolve().parents[2]
POLICY = """\
policy: api-test
version: '1'
owner: qa
fail_on: high
rules:
  - {id: four-fifths-sex, check: fairness.demographic_parity_ratio, stage: evaluate, severity: high,
     params: {sensitive_features: [sex], min: 0.8}}
  - {id: accuracy-floor, check: performance.metric, stage: evaluate, severity: high,
     params: {metric: accuracy, min: 0.6}}
"""


@pytest.fixture
def data(tmp_path, monkeypatch) -> pd.DataFrame:
    """400 rows; predictions whose selection rates by sex differ by a chosen amount."""
    monkeypatch.chdir(tmp_path)
    rng = np.random.default_rng(7)
    n = 400
    sex = np.where(rng.random(n) < 0.5, "female", "male")
    y_true = rng.integers(0, 2, n)
    y_pred = np.where(rng.random(n) < 0.85, y_true, 1 - y_true)
    frame = pd.DataFrame({"sex": sex, "y": y_true, "pred": y_pred, "score": rng.random(n)})
    frame.to_csv("preds.csv", index=False)
    Path("policy.yaml").write_text(POLICY)
    return frame


def unfair(frame: pd.DataFrame) -> np.ndarray:
    """Predictions that select one woman in eight and men as before: the four-fifths rule fails."""
    women = frame["sex"].to_numpy() == "female"
    one_in_eight = (np.arange(len(frame)) % 8 == 0).astype(int)
    return np.where(women, one_in_eight, frame["pred"].to_numpy())


def test_import_rai_loads_neither_tensorflow_nor_streamlit():
    code = ("import sys, rai; rai.audit; rai.Predictions; rai.start_run; rai.load_policy; "
            "heavy = [m for m in sys.modules if m.split('.')[0] in "
            "('tensorflow', 'tf_keras', 'keras', 'streamlit', 'tensorflow_privacy', 'ai_edge_litert')]; "
            "print(heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_public_names_are_exported():
    for name in ("load_policy", "audit", "fairness_report", "drift_report", "Predictions", "start_run",
                 "verify_trail", "open_trail", "UserError", "PolicyError", "GateBlocked", "GateResult"):
        assert name in rai.__all__ and getattr(rai, name) is not None
    with pytest.raises(AttributeError):
        rai.no_such_name  # noqa: B018


def test_load_policy_error_is_the_lint_line(data, rai_cli):
    Path("bad.yaml").write_text(POLICY.replace("min: 0.8", "min: 1.8"))
    with pytest.raises(rai.PolicyError) as caught:
        rai.load_policy("bad.yaml")
    assert isinstance(caught.value, rai.UserError)
    code, out, err = rai_cli("policy", "lint", "bad.yaml")
    assert code == 2 and str(caught.value) in out + err and "\n" not in str(caught.value)


@pytest.mark.parametrize("convert", [
    lambda a: a, list, pd.Series, lambda a: pa.array(a), lambda a: pa.chunked_array([a[:100], a[100:]]),
], ids=["numpy", "list", "pandas", "pyarrow", "pyarrow-chunked"])
def test_predictions_accept_common_array_types(data, convert):
    y, p, s = data["y"].to_numpy(), data["pred"].to_numpy(), data["sex"].to_numpy()
    reference = rai.Predictions(y, p, pd.DataFrame({"sex": s}))
    built = rai.Predictions(convert(y), convert(p), convert(s))
    assert np.array_equal(built.y_true, reference.y_true) and np.array_equal(built.y_pred, reference.y_pred)
    assert built.sensitive.iloc[:, 0].tolist() == s.tolist()


def test_predictions_take_text_labels_with_pos_label():
    built = rai.Predictions(["yes", "no", "yes"], ["no", "no", "yes"], {"sex": ["f", "m", "f"]}, pos_label="yes")
    assert built.y_true.tolist() == [1, 0, 1] and built.y_pred.tolist() == [0, 0, 1]


@pytest.mark.parametrize(("args", "kwargs", "message"), [
    (([0, 1, 1], [0, 1], ["a", "b", "c"]), {}, "predictions are misaligned: y_true has 3 rows, y_pred has 2 rows"),
    (([0, 2], [0, 1], ["a", "b"]), {}, "y_true: labels must be 0/1, got 2"),
    ((["yes", "no"], [1, 0], ["a", "b"]), {}, "y_true: labels 'yes', 'no' are not 0/1"),
    (([0.0, np.nan], [0, 1], ["a", "b"]), {}, "y_true: 1 missing or non-finite label(s)"),
    (([0, 1], [0, 1], ["a", "b"]), {"y_score": [0.5, np.inf]}, "y_score: 1 missing or non-finite score(s)"),
    (([0, 1], [0, 1], ["a", "b"]), {"y_score": ["x", "y"]}, "y_score: scores must be numbers"),
    (("01", [0, 1], ["a", "b"]), {}, "y_true: expected a 1-D array-like of values, got str"),
    (([[0, 1]], [0, 1], ["a", "b"]), {}, "y_true: expected a 1-D array-like of values, got shape (1, 2)"),
    ((["y", "n"], ["y", "n"], ["a", "b"]), {"pos_label": "Y"}, "y_true: pos_label 'Y' does not occur (labels: 'y', 'n')"),
])
def test_bad_predictions_are_one_clear_line(args, kwargs, message):
    with pytest.raises(rai.UserError) as caught:
        rai.Predictions(*args, **kwargs)
    assert message in str(caught.value) and "\n" not in str(caught.value)


def test_audit_equals_the_cli_on_the_same_data_and_policy(data, rai_cli):
    predictions = rai.Predictions(data["y"], data["pred"], data[["sex"]])
    result = rai.audit("policy.yaml", "evaluate", predictions=predictions)
    code, out, err = rai_cli("audit", "fairness", "--data", "preds.csv", "--y-true", "y", "--y-pred", "pred",
                             "--sensitive", "sex", "--policy", "policy.yaml", "--json")
    cli = json.loads(out)
    assert code == (1 if result.blocked else 0), err
    assert cli["decision"] == result.decision
    assert [f.to_dict() for f in result.findings] == cli["findings"]


def test_audit_blocks_and_raises_on_request(data):
    predictions = rai.Predictions(data["y"], unfair(data), data["sex"])
    result = rai.audit(rai.load_policy("policy.yaml"), "evaluate", predictions=predictions)
    assert result.blocked and result.decision == "blocked"
    assert [f.rule_id for f in result.blocking] == ["four-fifths-sex"]
    with pytest.raises(rai.GateBlocked) as caught:
        result.raise_if_blocked()
    assert caught.value.result is result
    assert result.to_dict()["decision"] == "blocked"


def test_audit_with_missing_evidence_blocks_with_an_error_finding(data):
    result = rai.audit("policy.yaml", "evaluate")
    assert result.blocked and {f.status.value for f in result.findings} == {"error"}
    assert "missing evidence 'predictions'" in result.findings[0].message


@pytest.mark.parametrize(("stage", "evidence", "message"), [
    ("evaluat", {}, "unknown stage 'evaluat'; did you mean 'evaluate'?"),
    ("evaluate", {"predicitons": 1}, "unknown evidence 'predicitons'; did you mean 'predictions'"),
    ("evaluate", {"predictions": [0, 1]}, "predictions: expected rai.Predictions(y_true, y_pred, sensitive), got list"),
    ("ingest", {"reference": 3}, "reference: expected a table or a 1-D array-like, got int"),
    ("train", {"privacy": [1]}, "privacy: expected a mapping, got list"),
])
def test_audit_refuses_bad_stage_and_evidence(data, stage, evidence, message):
    with pytest.raises(rai.UserError) as caught:
        rai.audit("policy.yaml", stage, **evidence)
    assert message in str(caught.value)


def test_fairness_report_equals_cli_json(data, rai_cli):
    report = rai.fairness_report(data["y"], data["pred"], data[["sex"]], min_group_size=30)
    code, out, err = rai_cli("audit", "fairness", "--data", "preds.csv", "--y-true", "y", "--y-pred", "pred",
                             "--sensitive", "sex", "--min-group-size", "30", "--json")
    assert code == 0, err
    assert report.to_dict() == json.loads(out)


def test_drift_report_equals_cli_json(data, rai_cli):
    reference = data[["sex", "score"]].iloc[:200]
    current = data[["sex", "score"]].iloc[200:].assign(score=lambda f: f["score"] ** 2)
    reference.to_csv("ref.csv", index=False)
    current.to_csv("cur.csv", index=False)
    report = rai.drift_report(reference, current)
    code, out, err = rai_cli("audit", "drift", "--reference", "ref.csv", "--current", "cur.csv", "--json")
    assert code == 0, err
    assert report.to_dict() == json.loads(out)
    assert pa.Table.from_pandas(reference) is not None
    assert rai.drift_report(pa.Table.from_pandas(reference), current).to_dict() == report.to_dict()
