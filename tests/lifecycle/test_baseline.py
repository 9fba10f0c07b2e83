"""Finding the baseline of ``relative_to`` rules in a signed registry (no TensorFlow: entries hold stand-in files)."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from governance.errors import UserError
from governance.evidence import Evidence, Predictions
from governance.policy.schema import Rule
from governance.trail.signing import KeyRing, Signer
from lifecycle.artifacts import predictions_frame
from lifecycle.baseline import champion_version, find_baseline, pipeline_baselines, with_baselines
from lifecycle.deploy import register

PASSED = {"stages": {"evaluate": "passed", "deploy": "passed"}, "findings": {"passed": 2}}
BLOCKED = {"stages": {"evaluate": "blocked", "deploy": "passed"}, "findings": {"failed": 1}}


def recorded(seed: int) -> Predictions:
    rng = np.random.default_rng(seed)
    return Predictions(rng.integers(0, 2, 200), rng.integers(0, 2, 200),
                       {"sex": rng.choice(["f", "m"], 200)}, y_score=rng.random(200))


@pytest.fixture
def workspace(tmp_path) -> SimpleNamespace:
    return SimpleNamespace(root=tmp_path, registry=tmp_path / "registry", keys=tmp_path / "keys", signer=Signer.generate())


def add(ws, decisions: dict, predictions: Predictions | None, name: str = "credit"):
    source = ws.root / "src"
    source.mkdir(exist_ok=True)
    (source / "model.keras").write_bytes(b"a model")
    files = {"model.keras": ("model", source / "model.keras")}
    if predictions is not None:
        predictions_frame(predictions).to_parquet(source / "p.parquet")
        files["reference_predictions.parquet"] = ("reference_predictions", source / "p.parquet")
    body = {"run_id": "r", "format": "keras", "decision_summary": decisions}
    return register(ws.registry, name, files, body, {"owner": "tests"}, ws.signer, KeyRing(ws.keys))


def rule(relative_to, rule_id: str = "gm") -> Rule:
    return Rule(id=rule_id, check="fairness.group_metric", stage="evaluate", severity="high",
                params={"sensitive_features": ["sex"], "metric": "fnr", "aggregate": "max",
                        "relative_to": relative_to, "max_increase": 0.05})


def test_the_champion_is_the_latest_entry_whose_gates_all_passed(workspace):
    add(workspace, PASSED, recorded(1))
    add(workspace, PASSED, recorded(2))
    add(workspace, BLOCKED, recorded(3))
    assert champion_version(workspace.registry, "credit") == 2
    found = find_baseline(workspace.registry, "credit", "champion", KeyRing(workspace.keys).trusted())
    assert (found.reference, found.model, found.version, found.missing) == ("champion", "credit", 2, None)
    expected = recorded(2)
    assert np.array_equal(found.predictions.y_pred, expected.y_pred)
    assert np.allclose(found.predictions.y_score, expected.y_score)
    assert list(found.predictions.sensitive["sex"]) == list(expected.sensitive["sex"])


def test_no_champion_yet_and_no_recorded_predictions_are_missing_baselines(workspace):
    trusted = KeyRing(workspace.keys).trusted()
    nothing = find_baseline(workspace.registry, "credit", "champion", trusted)
    assert nothing.predictions is None and nothing.missing == "no registered version of 'credit' has passed its gates yet"
    add(workspace, PASSED, None)
    bare = find_baseline(workspace.registry, "credit", "champion", KeyRing(workspace.keys).trusted())
    assert bare.version == 1 and bare.missing == "credit v1 was registered without recorded predictions"


def test_a_named_version_is_taken_as_it_is(workspace):
    add(workspace, PASSED, recorded(1))
    add(workspace, BLOCKED, recorded(2))
    found = find_baseline(workspace.registry, "credit", {"version": 2}, KeyRing(workspace.keys).trusted())
    assert found.reference == "version 2" and found.version == 2


def test_an_unknown_version_is_one_line_naming_the_rule(workspace):
    add(workspace, PASSED, recorded(1))
    evidence = Evidence(predictions=recorded(5))
    with pytest.raises(UserError, match=r"^rule 'vs-v4': relative_to version 4: .*no version 4; versions are 1$"):
        with_baselines(evidence, [rule({"version": 4}, "vs-v4")], workspace.registry, "credit", workspace.keys)


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


def test_the_pipeline_compares_under_its_deploy_model_name_and_registry(workspace):
    add(workspace, PASSED, recorded(1), name="adult-income")
    run = SimpleNamespace(spec=SimpleNamespace(deploy=SimpleNamespace(registry=None, model_name="adult-income")),
                          ws=SimpleNamespace(registry=workspace.registry, keys=workspace.keys))
    evidence = pipeline_baselines(run, [rule("champion"), rule({"version": 1}, "v1")], Evidence())
    baselines = evidence.require("baselines")
    assert set(baselines) == {"champion", "version 1"}
    assert baselines["champion"].version == baselines["version 1"].version == 1
