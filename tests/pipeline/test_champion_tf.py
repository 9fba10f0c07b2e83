"""Two real registered models: the next one gated against the champion, passing and blocking (TensorFlow).

A champion is trained on 3,000 Adult rows, gated and registered (its LiteRT ``dynamic_range``
variant). Then, with ``relative_to: champion`` rules of ``performance.metric`` and
``fairness.group_metric``, each once on the champion's recorded predictions and once
``rescore: true``:

* the same model again, on the champion's own test rows, passes; the champion re-scored on
  those rows gives exactly the numbers it recorded when it was registered;
* a model trained on shuffled labels, on other test rows, is blocked by all four rules; the
  re-scored numbers equal scikit-learn's metrics on the champion's own predictions of those rows
  (the registry's scorer), and differ from the recorded ones, which are of other rows.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics as skm

from governance.trail import open_trail
from governance.trail.signing import KeyRing
from lifecycle.pipeline import run_pipeline
from lifecycle.serve import load_served

from .conftest import ADULT, HERE, SPEC

pytestmark = pytest.mark.tf

RULES = """\
  - {id: balanced-accuracy-vs-champion, check: performance.metric, stage: evaluate, severity: high,
     params: {metric: balanced_accuracy, relative_to: champion, max_decrease: 0.05}}
  - {id: balanced-accuracy-vs-champion-rescored, check: performance.metric, stage: evaluate, severity: high,
     params: {metric: balanced_accuracy, relative_to: champion, max_decrease: 0.05, rescore: true}}
  - {id: fnr-vs-champion, check: fairness.group_metric, stage: evaluate, severity: high,
     params: {sensitive_features: [sex], metric: fnr, aggregate: max, relative_to: champion, max_increase: 0.1}}
  - {id: fnr-vs-champion-rescored, check: fairness.group_metric, stage: evaluate, severity: high,
     params: {sensitive_features: [sex], metric: fnr, aggregate: max, relative_to: champion, max_increase: 0.1,
              rescore: true}}
"""
COMPARED = ("balanced-accuracy-vs-champion", "balanced-accuracy-vs-champion-rescored", "fnr-vs-champion",
            "fnr-vs-champion-rescored")
NAME = "adult-small"


def _project(root: Path, train: pd.DataFrame, test: pd.DataFrame) -> Path:
    root.mkdir()
    train.to_csv(root / "train.csv", index=False)
    test.to_csv(root / "test.csv", index=False)
    (root / "pipeline.yaml").write_text(SPEC.replace("epochs: 2", "epochs: 10"))  # a champion worth keeping
    (root / "policy.yaml").write_text((HERE / "policy.yaml").read_text() + RULES)
    return root


def _findings(workspace: Path, run_id: str, stage: str) -> dict[str, dict]:
    """The findings of the run's binding gate at ``stage``, by rule id."""
    with open_trail(workspace, create=False) as trail:
        gates = [e.payload for e in trail.events(run_id=run_id)
                 if e.kind == "gate.decided" and e.payload["stage"] == stage and e.payload.get("binding", True)]
    return {f["rule_id"]: f for f in gates[-1]["findings"]}


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """The champion's run, then the same model and a model of shuffled labels gated against it."""
    root = tmp_path_factory.mktemp("champion")
    workspace = root / "ws"
    train = pd.read_csv(ADULT / "adult.data.csv.gz", nrows=3000, skipinitialspace=True, dtype=str)
    test = pd.read_csv(ADULT / "adult.test.csv.gz", nrows=2000, skipinitialspace=True, dtype=str)
    shuffled = train.assign(Y=np.random.default_rng(0).permutation(train["Y"].to_numpy()))
    done = {}
    for name, rows, labels, until in (("champion", test.iloc[:1000], train, None),
                                      ("same", test.iloc[:1000], train, "optimize"),
                                      ("shuffled", test.iloc[1000:], shuffled, "optimize")):
        result = run_pipeline(_project(root / name, labels, rows) / "pipeline.yaml", workspace=workspace, until=until)
        assert result.error is None, result.error
        done[name] = result
    return workspace, done


def test_the_first_model_has_no_champion_and_is_registered(runs):
    workspace, done = runs
    assert done["champion"].decision == "passed" and done["champion"].summary["deployed"]["version"] == 1
    findings = _findings(workspace, done["champion"].run_id, "evaluate")
    for rule in COMPARED:  # on_missing_baseline: warn (the default) never blocks
        assert findings[rule]["status"] == "warning"
        assert "no registered version of 'adult-small' has passed its gates yet" in findings[rule]["message"]


def test_the_same_model_passes_and_the_rescored_champion_gives_its_recorded_numbers(runs):
    workspace, done = runs
    assert done["same"].decision == "passed", done["same"].summary["reasons"]
    manifest = json.loads(Path(done["champion"].summary["deployed"]["manifest"]).read_text())["manifest"]
    for stage in ("evaluate", "optimize"):
        findings = _findings(workspace, done["same"].run_id, stage)
        assert all(findings[rule]["status"] == "passed" for rule in COMPARED), stage
        recorded, rescored = (findings[r]["evidence"] for r in COMPARED[:2])
        identity = {"relative_to": "champion", "model": NAME, "version": 1, "model_sha256": manifest["model_sha256"],
                    "rows": 1000}
        assert {**identity, "source": "recorded"}.items() <= recorded["baseline"].items()
        assert {**identity, "source": "rescored"}.items() <= rescored["baseline"].items()
        assert rescored["baseline"]["value"] == pytest.approx(recorded["baseline"]["value"], abs=1e-12)
        by_group = [{r["group"]["sex"]: r["baseline"] for r in findings[rule]["evidence"]["groups"]}
                    for rule in COMPARED[2:]]
        assert by_group[0] == pytest.approx(by_group[1], abs=1e-12)


def test_a_worse_model_is_blocked_on_recorded_and_rescored_numbers(runs):
    workspace, done = runs
    result = done["shuffled"]
    assert result.decision == "blocked" and result.summary["blocked_at"] == "evaluate"
    findings = _findings(workspace, result.run_id, "evaluate")
    assert findings["accuracy-floor"]["status"] == "passed"  # the absolute floor alone would let it through
    for rule in COMPARED:
        assert findings[rule]["status"] == "failed", findings[rule]["message"]
    message = findings["balanced-accuracy-vs-champion-rescored"]["message"]
    assert "vs champion adult-small v1 (rescored, 1000 rows)" in message and "beyond max_decrease 0.05" in message


def test_rescored_numbers_equal_scikit_learn_on_the_champions_own_predictions(runs):
    workspace, done = runs
    run_dir = workspace / "runs" / done["shuffled"].run_id
    rows = pd.read_parquet(run_dir / "data" / "test.parquet")  # the current evaluation rows, as ingested
    labels = pd.read_parquet(run_dir / "predictions" / "keras.parquet")
    champion = load_served(workspace / "registry", NAME, 1, KeyRing(workspace / "keys").trusted())
    predicted = (champion.scorer(rows) >= 0.5).astype(int)
    truth, sex = labels["y_true"].to_numpy(), labels["sex"].astype(str).to_numpy()
    findings = _findings(workspace, done["shuffled"].run_id, "evaluate")

    rescored = findings["balanced-accuracy-vs-champion-rescored"]["evidence"]
    assert rescored["baseline"]["value"] == pytest.approx(skm.balanced_accuracy_score(truth, predicted), abs=1e-12)
    assert rescored["value"] == pytest.approx(skm.balanced_accuracy_score(truth, labels["y_pred"]), abs=1e-12)
    assert rescored["baseline"]["change"] == pytest.approx(rescored["value"] - rescored["baseline"]["value"])
    recorded = findings["balanced-accuracy-vs-champion"]["evidence"]["baseline"]
    reference = pd.read_parquet(workspace / "registry" / NAME / "1" / "reference_predictions.parquet")
    assert recorded["value"] == pytest.approx(skm.balanced_accuracy_score(reference["y_true"], reference["y_pred"]))
    assert recorded["value"] != pytest.approx(rescored["baseline"]["value"])  # the champion on other rows

    for row in findings["fnr-vs-champion-rescored"]["evidence"]["groups"]:
        group = sex == row["group"]["sex"]
        assert row["baseline"] == pytest.approx(1 - skm.recall_score(truth[group], predicted[group]), abs=1e-12)
        assert row["value"] == pytest.approx(1 - skm.recall_score(truth[group], labels["y_pred"][group]), abs=1e-12)
