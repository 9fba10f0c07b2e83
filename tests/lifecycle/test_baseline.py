"""Finding the baseline of ``relative_to`` rules in a signed registry (no TensorFlow: entries hold stand-in files).

Re-scoring a real model is ``tests/pipeline/test_champion_tf.py``; here, everything around it:
which version is the champion, recorded predictions of every task, the reasons a model cannot
be re-scored, and the one-line errors that name the rule where its policy file defines it.
"""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from governance.baseline import Reference
from governance.errors import UserError
from governance.evidence import Evidence, Predictions
from governance.policy.loader import load_policy
from governance.policy.schema import Rule
from governance.trail.signing import KeyRing, Signer
from lifecycle.artifacts import predictions_frame
from lifecycle.baseline import NO_ROWS, champion_version, find_baseline, policy_references, with_baselines
from lifecycle.deploy import register

PASSED = {"stages": {"evaluate": "passed", "deploy": "passed"}, "findings": {"passed": 2}}
BLOCKED = {"stages": {"evaluate": "blocked", "deploy": "passed"}, "findings": {"failed": 1}}
PIPELINE_SCHEMA = {"numeric": ["age"], "categorical": ["workclass"], "sensitive": ["sex"], "task": "binary"}


def recorded(seed: int) -> Predictions:
    rng = np.random.default_rng(seed)
    return Predictions(rng.integers(0, 2, 200), rng.integers(0, 2, 200),
                       {"sex": rng.choice(["f", "m"], 200)}, y_score=rng.random(200))


@pytest.fixture
def workspace(tmp_path) -> SimpleNamespace:
    return SimpleNamespace(root=tmp_path, registry=tmp_path / "registry", keys=tmp_path / "keys", signer=Signer.generate())


def add(ws, decisions: dict, predictions: Predictions | None, name: str = "credit", schema: dict | None = None):
    source = ws.root / "src"
    source.mkdir(exist_ok=True)
    (source / "model.keras").write_bytes(b"a model")
    files = {"model.keras": ("model", source / "model.keras")}
    if predictions is not None:
        predictions_frame(predictions).to_parquet(source / "p.parquet")
        files["reference_predictions.parquet"] = ("reference_predictions", source / "p.parquet")
    body = {"run_id": "r", "format": "keras", "decision_summary": decisions, "model_sha256": "5e" * 32,
            "schema": schema if schema is not None else {"input": "array", "sensitive": ["sex"]}}
    return register(ws.registry, name, files, body, {"owner": "tests"}, ws.signer, KeyRing(ws.keys))


def rule(relative_to, rule_id: str = "gm", **params) -> Rule:
    return Rule(id=rule_id, check="fairness.group_metric", stage="evaluate", severity="high",
                params={"sensitive_features": ["sex"], "metric": "fnr", "aggregate": "max",
                        "relative_to": relative_to, "max_increase": 0.05, **params})


def ref(relative_to, rule_id: str = "gm") -> Reference:
    return Reference(rule_id, relative_to, rescore=False)


def test_the_champion_is_the_latest_unrevoked_entry_whose_gates_all_passed(workspace):
    add(workspace, PASSED, recorded(1))
    second = add(workspace, PASSED, recorded(2))
    add(workspace, BLOCKED, recorded(3))
    assert champion_version(workspace.registry, "credit") == 2
    found = find_baseline(workspace.registry, "credit", ref("champion"), KeyRing(workspace.keys).trusted())
    assert (found.reference, found.model, found.version, found.missing) == ("champion", "credit", 2, None)
    assert found.model_sha256 == "5e" * 32
    expected = recorded(2)
    assert np.array_equal(found.predictions.y_pred, expected.y_pred)
    assert np.allclose(found.predictions.y_score, expected.y_score)
    assert list(found.predictions.sensitive["sex"]) == list(expected.sensitive["sex"])
    (second.dir / "revoked.json").write_text("{}")  # a revoked model is deployed no longer
    assert champion_version(workspace.registry, "credit") == 1


def test_no_champion_yet_and_no_recorded_predictions_are_missing_baselines(workspace):
    trusted = KeyRing(workspace.keys).trusted()
    nothing = find_baseline(workspace.registry, "credit", ref("champion"), trusted)
    assert nothing.predictions is None and nothing.missing == "no registered version of 'credit' has passed its gates yet"
    assert nothing.numbers(rescore=True) == (None, "no registered version of 'credit' has passed its gates yet")
    add(workspace, PASSED, None)
    bare = find_baseline(workspace.registry, "credit", ref("champion"), KeyRing(workspace.keys).trusted())
    assert bare.version == 1 and bare.missing == "credit v1 was registered without recorded predictions"


def test_a_named_version_is_taken_as_it_is(workspace):
    add(workspace, PASSED, recorded(1))
    add(workspace, BLOCKED, recorded(2))
    found = find_baseline(workspace.registry, "credit", ref({"version": 2}), KeyRing(workspace.keys).trusted())
    assert found.reference == "version 2" and found.version == 2


def test_recorded_predictions_of_every_task_are_read_as_that_task(workspace):
    target = np.linspace(10, 60, 200)
    regression = Predictions(target, target + 1.5, {"sex": ["f", "m"] * 100}, task="regression")
    add(workspace, PASSED, regression, name="hours")  # an API run's entry: the layout says the task
    add(workspace, PASSED, regression, name="hours-pipeline", schema={**PIPELINE_SCHEMA, "task": "regression"})
    labels = np.array(["a", "b", "c", "b"] * 50)
    classes = Predictions(labels, np.roll(labels, 1), {"sex": ["f", "m"] * 100}, task="multiclass",
                          y_score=np.full((200, 3), 1 / 3))
    add(workspace, PASSED, classes, name="levels")
    add(workspace, PASSED, Predictions(labels, labels, {"sex": ["f", "m"] * 100}, task="multiclass"), name="bare")
    trusted = KeyRing(workspace.keys).trusted()
    for name in ("hours", "hours-pipeline"):
        found = find_baseline(workspace.registry, name, ref("champion"), trusted).predictions
        assert found.task == "regression" and np.allclose(found.y_pred - found.y_true, 1.5)
    levels = find_baseline(workspace.registry, "levels", ref("champion"), trusted).predictions
    assert levels.task == "multiclass" and list(levels.classes) == ["a", "b", "c"] and levels.y_score.shape == (200, 3)
    bare = find_baseline(workspace.registry, "bare", ref("champion"), trusted).predictions
    assert bare.task == "multiclass" and bare.y_score is None and list(bare.classes) == ["a", "b", "c"]


def test_an_unknown_version_is_one_line_naming_the_rule(workspace):
    add(workspace, PASSED, recorded(1))
    evidence = Evidence(predictions=recorded(5))
    with pytest.raises(UserError, match=r"^rule 'vs-v4': relative_to version 4: .*no version 4; versions are 1$"):
        with_baselines(evidence, [rule({"version": 4}, "vs-v4")], workspace.registry, "credit", workspace.keys)


def test_a_policy_naming_an_unknown_version_is_refused_before_a_run_starts(workspace, tmp_path, monkeypatch):
    add(workspace, PASSED, recorded(1))
    monkeypatch.chdir(tmp_path)
    Path("policy.yaml").write_text(
        "policy: p\nversion: '1'\nowner: o\nrules:\n"
        "  - {id: accuracy-floor, check: performance.metric, stage: evaluate, severity: high, params: {metric: accuracy, min: 0.5}}\n"
        "  - id: vs-v9\n    check: performance.metric\n    stage: evaluate\n    severity: high\n"
        "    params: {metric: accuracy, relative_to: {version: 9}, max_decrease: 0.02}\n")
    policy = load_policy("policy.yaml")
    with pytest.raises(UserError) as raised:
        policy_references(policy.rules, workspace.registry, "credit")
    assert str(raised.value) == (f"policy.yaml:6:5: rule 'vs-v9': relative_to version 9: "
                                 f"{workspace.registry / 'credit'}: no version 9; versions are 1")
    with pytest.raises(UserError, match=r"^policy.yaml:6:5: rule 'vs-v9': relative_to version 9: .*the registry is empty"):
        policy_references(policy.rules, workspace.root / "empty", "credit")
    policy_references(policy.rules[:1], workspace.root / "no-such-registry", "../not a name")  # nothing compares


def test_a_tampered_champion_is_refused(workspace):
    entry = add(workspace, PASSED, recorded(1))
    body = json.loads(entry.manifest_path.read_text())
    pd.DataFrame({"y_true": [1], "y_pred": [1], "y_score": [1.0], "sex": ["f"]}).to_parquet(
        entry.dir / "reference_predictions.parquet")  # the recorded predictions rewritten after signing
    assert json.loads(entry.manifest_path.read_text()) == body
    with pytest.raises(UserError, match=r"^rule 'gm': relative_to champion: .*refusing to load credit v1"):
        with_baselines(Evidence(), [rule("champion")], workspace.registry, "credit", workspace.keys)


def test_gates_without_relative_rules_never_touch_the_registry(workspace):
    evidence = Evidence(predictions=recorded(5))
    plain = Rule(id="p", check="performance.metric", stage="evaluate", severity="high",
                 params={"metric": "accuracy", "min": 0.5})
    missing = Path(workspace.root / "no-such-registry")
    assert with_baselines(evidence, [plain], missing, "../not a name", missing) is evidence


def test_a_run_name_that_cannot_be_a_model_name_is_a_clear_error(workspace):
    with pytest.raises(UserError, match=r"^rule 'gm': relative_to: the model name to compare under must be"):
        with_baselines(Evidence(), [rule("champion")], workspace.registry, "credit scoring", workspace.keys)


# --- re-scoring: what stops it before any model is loaded ----------------------------------------

def rescored(workspace, schema: dict | None, rows: pd.DataFrame | None, current: Predictions | None = None):
    add(workspace, PASSED, recorded(1), schema=schema)
    rules = [rule("champion", "recorded-rule"), rule("champion", "rescore-rule", rescore=True)]
    evidence = Evidence(predictions=current or recorded(5))
    return with_baselines(evidence, rules, workspace.registry, "credit", workspace.keys, rows=rows)


ROWS = pd.DataFrame({"age": np.arange(200), "workclass": ["Private"] * 200})


@pytest.mark.parametrize("schema, rows, problem", [
    (PIPELINE_SCHEMA, None, NO_ROWS),
    (None, ROWS, "its manifest names no feature columns (a model registered by an API run takes arrays)"),
    (PIPELINE_SCHEMA, ROWS.drop(columns=["workclass"]), "the rows lack its feature column(s) 'workclass'"),
    ({**PIPELINE_SCHEMA, "task": "regression"}, ROWS, "it is a regression model, the current predictions are binary"),
    (PIPELINE_SCHEMA, ROWS.iloc[:150], "150 feature rows were given for 200 predictions"),
])
def test_a_model_that_cannot_be_rescored_says_why(workspace, schema, rows, problem):
    baseline = rescored(workspace, schema, rows).require("baselines")["champion"]
    assert baseline.rescored is None and baseline.rescore_problem == problem
    assert baseline.predictions is not None  # rules that read the recorded numbers still can
    with pytest.raises(ValueError, match="^rescore: credit v1 could not be re-scored on the current evaluation rows: "):
        baseline.numbers(rescore=True)


def test_other_classes_cannot_be_rescored(workspace):
    labels = np.array(["a", "b"] * 100)
    current = Predictions(labels, labels, {"sex": ["f", "m"] * 100}, task="multiclass", classes=["a", "b"])
    baseline = rescored(workspace, {**PIPELINE_SCHEMA, "task": "multiclass", "classes": ["a", "b", "c"]}, ROWS,
                        current).require("baselines")["champion"]
    assert baseline.rescore_problem == "its classes (a, b, c) are not the current model's (a, b)"


@pytest.mark.tf
def test_a_model_that_fails_to_load_is_a_reason_not_a_crash(workspace):
    baseline = rescored(workspace, PIPELINE_SCHEMA, ROWS).require("baselines")["champion"]  # "a model" is no .keras file
    assert baseline.rescored is None and baseline.rescore_problem.startswith("scoring failed: ")
