"""A policy comparing with a registered version that does not exist: one located line, exit 2, before training.

``relative_to: {version: N}`` can only be checked against a registry, so ``rai policy lint``
accepts it (the corpus in ``test_policy_corpus.py`` holds the baseline parameters lint refuses).
``rai run`` and ``rai.start_run`` look the version up before any stage runs: a version that is
not registered stops the run with one line naming the rule where its policy file defines it,
nothing is trained, and the trail records the failed run and still verifies.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import rai as api
from governance.trail import open_trail
from governance.trail.signing import KeyRing, Signer
from lifecycle.deploy import register

from .rai_case import one_clean_line, run

SPEC = """\
name: hostile
data: {train: data.csv, test: data.csv, target: Y, positive_label: 1, sensitive_features: [sex]}
model: {hidden_units: [4], epochs: 1}
policy: policy.yaml
deploy: {model_name: hostile}
"""
POLICY = """\
policy: hostile
version: "1"
owner: qa@example.org
rules:
  - id: accuracy-vs-v9
    check: performance.metric
    stage: evaluate
    severity: high
    params: {metric: accuracy, relative_to: {version: 9}, max_decrease: 0.02, rescore: true}
"""


@pytest.fixture
def project(tmp_path, monkeypatch) -> Path:
    monkeypatch.chdir(tmp_path)
    rows = ["Y,x,sex"] + [f"{i % 2},{i % 7},{'MF'[i % 2]}" for i in range(80)]
    Path("data.csv").write_text("\n".join(rows) + "\n")
    Path("pipeline.yaml").write_text(SPEC)
    Path("policy.yaml").write_text(POLICY)
    return tmp_path


def registered_once(root: Path) -> None:
    """Version 1 of ``hostile`` in the workspace registry (a stand-in model file, signed)."""
    (root / "model.keras").write_bytes(b"a model")
    register(root / "ws" / "registry", "hostile", {"model.keras": ("model", root / "model.keras")},
             {"run_id": "r", "format": "keras", "decision_summary": {"stages": {"deploy": "passed"}}},
             {"owner": "qa"}, Signer.generate(), KeyRing(root / "ws" / "keys"))


@pytest.mark.parametrize("registered, problem", [
    (False, "registry: no registered model 'hostile'; the registry is empty"),
    (True, "registry/hostile: no version 9; versions are 1"),
])
def test_rai_run_stops_before_training_with_the_rule_located(project, rai, registered, problem):
    if registered:
        registered_once(project)
    code, out, err = run(rai, "run", "pipeline.yaml", "--workspace", "ws")
    assert code == 2 and out == ""
    line = one_clean_line(err, "error: policy.yaml:5:5: rule 'accuracy-vs-v9': relative_to version 9: ", problem)
    assert line.endswith(problem)
    with open_trail(project / "ws", create=False) as trail:
        events = trail.events()
        assert [e.kind for e in events if e.kind.startswith("run.")] == ["run.started", "run.finished"]
        assert events[-1].payload["decision"] == "failed" and "accuracy-vs-v9" in events[-1].payload["reasons"][0]
        assert not any(e.kind == "stage.completed" for e in events)  # nothing was ingested or trained
    assert run(rai, "trail", "verify", "--workspace", "ws")[0] == 0


def test_an_api_run_refuses_it_when_it_starts(project):
    registered_once(project)
    with pytest.raises(api.UserError) as raised:
        api.start_run("hostile", policy="policy.yaml", workspace="ws")
    assert str(raised.value).startswith("policy.yaml:5:5: rule 'accuracy-vs-v9': relative_to version 9: ")
    assert str(raised.value).endswith("no version 9; versions are 1")
    with open_trail(project / "ws", create=False) as trail:
        assert trail.events() == []  # nothing recorded for a run that never started
