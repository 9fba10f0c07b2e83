"""Champions of every task (TensorFlow): a regression and a multiclass model, re-scored by the next run.

For each task a champion is trained on 3,000 Adult rows and registered (the multiclass one as
its int8 LiteRT variant, whose class probabilities come out of the interpreter quantized and
flat), and a second run gates the same model against it with ``rescore: true`` rules on the same
test rows. Re-scoring the registered model must give exactly the numbers of the predictions it
recorded when it was registered, each equal to scikit-learn's metric on those predictions.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics as skm

from governance.trail import open_trail
from lifecycle.pipeline import run_pipeline

from .conftest import SPEC

pytestmark = pytest.mark.tf

HEAD = 'policy: tasks\nversion: "1"\nowner: test suite\nfail_on: high\nrules:\n'
TASKS = {
    "regression": (
        SPEC.replace('  target: Y\n  positive_label: ">50K"\n  label_strip: "."\n', "  target: hours-per-week\n"
                     "  task: regression\n").replace("  drop_columns: [fnlwgt]", "  drop_columns: [fnlwgt, Y]"),
        HEAD + "  - {id: mae, check: performance.error, stage: evaluate, severity: high,\n"
               "     params: {metric: mae, relative_to: champion, max_increase: 0.5, rescore: true}}\n"
               "  - {id: group-mae, check: fairness.group_metric, stage: evaluate, severity: high,\n"
               "     params: {sensitive_features: [sex], metric: mae, aggregate: max, relative_to: champion,\n"
               "              max_increase: 0.5, rescore: true}}\n"),
    "multiclass": (
        SPEC.replace('  target: Y\n  positive_label: ">50K"\n  label_strip: "."\n', "  target: relationship\n"
                     "  task: multiclass\n").replace("  drop_columns: [fnlwgt]", "  drop_columns: [fnlwgt, Y]")
        .replace("modes: [dynamic_range]", "modes: [int8]").replace("deploy: dynamic_range", "deploy: int8"),
        HEAD + "  - {id: macro-f1, check: performance.metric, stage: evaluate, severity: high,\n"
               "     params: {metric: macro_f1, relative_to: champion, max_decrease: 0.05, rescore: true}}\n"
               "  - {id: log-loss, check: performance.error, stage: evaluate, severity: high,\n"
               "     params: {metric: log_loss, relative_to: champion, max_increase: 0.05, rescore: true}}\n"),
}


@pytest.fixture(scope="module", params=sorted(TASKS))
def task_runs(request, tmp_path_factory, adult_rows):
    """``(task, workspace, registered predictions, the second run's optimize findings)``."""
    spec, policy = TASKS[request.param]
    root = tmp_path_factory.mktemp(request.param)
    for name in ("first", "second"):
        project = root / name
        project.mkdir()
        for data in ("train.csv", "test.csv"):
            (project / data).write_bytes((adult_rows / data).read_bytes())
        (project / "pipeline.yaml").write_text(spec)
        (project / "policy.yaml").write_text(policy)
        result = run_pipeline(project / "pipeline.yaml", workspace=root / "ws", until="optimize" if name == "second" else None)
        assert result.error is None and result.decision == "passed", (result.error, result.summary["reasons"])
    recorded = pd.read_parquet(root / "ws" / "registry" / "adult-small" / "1" / "reference_predictions.parquet")
    with open_trail(root / "ws", create=False) as trail:
        gate = [e.payload for e in trail.events(run_id=result.run_id)
                if e.kind == "gate.decided" and e.payload["stage"] == "optimize" and e.payload["binding"]][-1]
    return request.param, recorded, {f["rule_id"]: f for f in gate["findings"]}


def test_the_rescored_champion_gives_its_recorded_numbers(task_runs):
    task, recorded, findings = task_runs
    assert all(f["status"] == "passed" and f["evidence"]["baseline"]["source"] == "rescored" for f in findings.values())
    # the variant gated at optimize is the champion's model trained again with the same seed: no change
    changes = [row["change"] for f in findings.values()
               for row in (f["evidence"]["groups"] if f["check"] == "fairness.group_metric" else [f["evidence"]["baseline"]])]
    assert changes and all(change == 0 for change in changes)
    truth, predicted = recorded["y_true"].to_numpy(), recorded["y_pred"].to_numpy()
    if task == "regression":
        assert findings["mae"]["evidence"]["baseline"]["value"] == pytest.approx(skm.mean_absolute_error(truth, predicted))
        for row in findings["group-mae"]["evidence"]["groups"]:
            group = recorded["sex"].astype(str).to_numpy() == row["group"]["sex"]
            assert row["baseline"] == pytest.approx(skm.mean_absolute_error(truth[group], predicted[group]))
        return
    classes = [c[len("y_score["):-1] for c in recorded.columns if c.startswith("y_score[")]
    assert findings["macro-f1"]["evidence"]["baseline"]["value"] == pytest.approx(
        skm.f1_score(truth, predicted, average="macro"))
    proba = recorded[[f"y_score[{c}]" for c in classes]].to_numpy()
    assert np.allclose(proba.sum(axis=1), 1.0)
    assert findings["log-loss"]["evidence"]["baseline"]["value"] == pytest.approx(
        skm.log_loss(truth, proba, labels=classes))
