"""Runs of the multiclass and regression examples, ingested and evaluated by the pipeline's own
stage functions (no TensorFlow: the predictions come from a seeded stand-in for the model).

``examples/adult-education`` (education level, 4 classes) and ``examples/adult-hours`` (hours
per week) are read by :func:`lifecycle.stages.ingest` exactly as ``rai run`` reads them; the
predictions are the true test labels with seeded noise, and :func:`lifecycle.stages.evaluated`
records them as the evaluate stage does. The trail gets the ``run.started``, both
``stage.completed`` events with their evidence blobs, and ``run.finished``.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from governance.evidence import Predictions
from governance.findings import jsonable
from governance.trail import open_trail
from governance.workspace import Workspace
from lifecycle.artifacts import RunArtifacts
from lifecycle.specload import load_spec
from lifecycle.stages import evaluated, ingest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
TASKS = {"multiclass": "adult-education", "regression": "adult-hours"}


def predictions(dataset, seed: int = 7) -> Predictions:
    """The test split's labels, 70% kept and the rest drawn at random (multiclass), or plus
    Gaussian noise of 6 hours (regression)."""
    rng = np.random.default_rng(seed)
    truth = dataset.test[dataset.target].to_numpy()
    sensitive = dataset.groups["test"]
    if dataset.task == "regression":
        return Predictions(truth, truth + rng.normal(0, 6, len(truth)), sensitive, task="regression")
    names = np.array(dataset.classes)[truth.astype(int)]
    guessed = np.where(rng.random(len(truth)) < 0.7, names, rng.choice(dataset.classes, len(truth)))
    return Predictions(names, guessed, sensitive, task="multiclass", classes=list(dataset.classes))


def add_task_run(workspace: Path, task: str, keep_balance: bool = True) -> tuple[str, object, Predictions]:
    """Record the ``task`` example's run; ``(run id, its dataset, its predictions)``.

    ``keep_balance=False`` drops ``label_balance`` from the evaluate blob, as runs recorded
    before it existed have none.
    """
    run_id = f"{TASKS[task]}-run"
    spec = load_spec(EXAMPLES / TASKS[task] / "pipeline.yaml").spec
    ws = Workspace.at(workspace).ensure()
    ingested = ingest(spec.data, RunArtifacts(ws, run_id))
    preds = predictions(ingested.dataset)
    scored = evaluated(preds)
    blob = dict(scored.blob) if keep_balance else {k: v for k, v in scored.blob.items() if k != "label_balance"}
    with open_trail(ws) as trail:
        trail.append("run.started", run_id=run_id, actor="qa", payload={"spec": {"name": spec.name}, "policy": None})
        for stage, result, evidence in (("ingest", ingested, ingested.blob), ("evaluate", scored, blob)):
            digest = trail.put_blob(json.dumps(jsonable({"stage": stage, **evidence}), sort_keys=True).encode())
            trail.append("stage.completed", run_id=run_id, actor="qa", payload=jsonable({
                "stage": stage, "status": "completed", "metrics": result.metrics, "artifacts": result.artifacts,
                "evidence_blob": digest}))
        trail.append("run.finished", run_id=run_id, actor="qa", payload={"decision": "passed", "reasons": []})
        trail.checkpoint()
    return run_id, ingested.dataset, preds
