"""The work of each stage inside a run: call the stage function, store artifacts, build evidence.

Each function here takes the :class:`~lifecycle.runstate.Run`, does one stage's work with the
plain stage functions (:mod:`lifecycle.data`, :mod:`lifecycle.train`, ...) and returns a
:class:`StageOutput`: the gate's :class:`~governance.evidence.Evidence` (pieces named as in
:mod:`governance.evidence`), the headline metrics, the artifact records and the evidence blob.
:mod:`lifecycle.pipeline` records them and calls the gates; nothing here touches the trail or
the policy. TensorFlow is only imported by the stage functions that need it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from governance.evidence import Evidence
from lifecycle.measure import fairness_reports, group_gaps, performance

# Rows of the training features kept as the monitor's drift reference in a registry entry.
REFERENCE_ROWS = 5000


@dataclass
class StageOutput:
    """What a stage hands to the pipeline: gate evidence and what the trail records."""

    evidence: Evidence
    metrics: dict[str, Any]
    artifacts: dict[str, dict[str, Any]]
    blob: dict[str, Any]
    extra: dict[str, Any] = field(default_factory=dict)


def ingest(run: Any) -> StageOutput:
    """Load and profile the data; train-versus-test drift is evidence for the ingest gate."""
    from lifecycle.data import load_dataset

    ds = load_dataset(run.spec.data, Path())  # spec paths are already resolved
    run.dataset = ds
    artifacts = {
        name: run.artifacts.put_frame("dataset", name, f"data/{name}.parquet", frame).to_dict()
        for name, frame in (("train", ds.train), ("test", ds.test))
    }
    run.lineage = {"datasets": dict(ds.source_hashes), "model": None}
    metrics = {
        "train_rows": len(ds.train), "test_rows": len(ds.test), "features": len(ds.features),
        "train_positive_rate": ds.profile["label_balance"]["train"]["positive_rate"],
        "missing_cells": int(ds.train.isna().sum().sum()),
    }
    datasets = {
        name: {"rows": len(frame), "columns": list(frame.columns), "source_sha256": ds.source_hashes.get(name),
               "content_sha256": ds.content_hashes.get(name)}
        for name, frame in (("train", ds.train), ("test", ds.test))
    }
    blob = {"datasets": datasets, "profile": ds.profile, "lineage": run.lineage,
            "drift": descriptive_drift(ds.train[ds.features], ds.test[ds.features]),
            "features": {"numeric": ds.numeric_features, "categorical": ds.categorical_features,
                         "sensitive": ds.sensitive_features, "target": ds.target}}
    evidence = Evidence(dataset=ds.train, target=ds.target, reference=ds.train[ds.features],
                        current=ds.test[ds.features], metadata=run.metadata(), lineage=dict(run.lineage),
                        sensitive_features=list(ds.sensitive_features))
    return StageOutput(evidence, metrics, artifacts, blob)


def descriptive_drift(reference: Any, current: Any) -> dict[str, Any] | None:
    """Per-column drift table (evidently's default methods), recorded whatever the policy checks."""
    from governance.errors import UserError
    from governance.metrics.drift import drift_report

    try:
        return drift_report(reference, current).to_dict()
    except UserError:  # e.g. no comparable column: the drift *rules* report that, if any
        return None


def train(run: Any) -> StageOutput:
    """Fit the model (DP-SGD when the spec asks), save it, and record the privacy record."""
    from lifecycle.model import save_model
    from lifecycle.train import train as fit

    spec = run.spec
    result = fit(run.dataset, spec.model, spec.privacy, seed=spec.data.seed,
                 on_epoch=lambda epoch, logs: run.reporter.epoch(epoch, spec.model.epochs, logs))
    run.model, run.privacy = result.model, dict(result.privacy)
    path = run.artifacts.path_for("model/model.keras")
    save_model(result.model, path)
    artifact = run.artifacts.adopt("model", "model", path)
    run.model_artifact = artifact.to_dict()
    run.lineage["model"] = artifact.sha256
    history = result.history
    metrics = {
        "epochs": spec.model.epochs, "loss": _last(history.get("loss")), "train_accuracy": _last(history.get("accuracy")),
        "wall_time_s": round(result.wall_time_s, 3), "parameters": int(result.model.count_params()),
        "dp": bool(run.privacy.get("dp")), "epsilon": run.privacy.get("epsilon"),
    }
    blob = {"privacy": run.privacy, "history": history, "model": {"sha256": artifact.sha256,
            "parameters": metrics["parameters"], "spec": spec.model.model_dump(mode="json")},
            "wall_time_s": result.wall_time_s, "lineage": run.lineage}
    evidence = Evidence(privacy=run.privacy, metadata=run.metadata(), lineage=dict(run.lineage))
    return StageOutput(evidence, metrics, {"model": artifact.to_dict()}, blob, {"privacy": run.privacy})


def _last(values: list[float] | None) -> float | None:
    return float(values[-1]) if values else None


def evaluate(run: Any) -> StageOutput:
    """Test-set predictions of the trained model: the evidence of performance and fairness rules."""
    from lifecycle.evaluate import evaluate_model

    predictions = evaluate_model(run.model, run.dataset)
    run.predictions = predictions
    artifact = run.artifacts.put_predictions("keras", predictions)
    run.predictions_artifact = artifact.to_dict()
    sensitive = run.dataset.sensitive_features
    metrics = {**performance(predictions), **group_gaps(predictions, sensitive)}
    blob = {"metrics": metrics, "fairness": fairness_reports(predictions, sensitive),
            "rows": len(predictions.y_true), "predictions": artifact.to_dict()}
    evidence = Evidence(predictions=predictions, metadata=run.metadata(), lineage=dict(run.lineage))
    return StageOutput(evidence, metrics, {"predictions": artifact.to_dict()}, blob)


def optimize(run: Any) -> tuple[StageOutput, list[tuple[str, Evidence]]]:
    """Convert to LiteRT per mode, score every variant on the test set, pick the deploy candidate.

    Returns the stage output and, per variant, the evidence its gate evaluates.
    """
    from lifecycle import variants

    built = variants.build_all(run)
    run.parent, run.variants = built.parent, built.rows
    run.candidate = candidate(run, built)
    artifacts = dict(built.artifacts)  # one per LiteRT variant, keyed by mode (readers list them as variants)
    blob = {"parent": built.parent, "variants": built.rows, "fairness": built.fairness,
            "deploy": run.spec.optimize.deploy, "deploy_candidate": run.candidate}
    output = StageOutput(Evidence(), run.optimize_metrics(), artifacts, blob, {"deploy_candidate": run.candidate})
    return output, built.evidence


def candidate(run: Any, built: Any) -> dict[str, Any]:
    """What deploy will register: files, predictions, reference data, metrics and lineage."""
    choice, ds = run.spec.optimize.deploy, run.dataset
    sample = ds.train[ds.features]
    if len(sample) > REFERENCE_ROWS:
        sample = sample.sample(REFERENCE_ROWS, random_state=run.spec.data.seed)
    reference = run.artifacts.put_frame("reference", "reference", "reference/features.parquet", sample.reset_index(drop=True))
    if choice == "keras":
        files = {"model.keras": ["model", run.model_artifact]}
        # The parent row's size and latency are its float32 LiteRT conversion's; a Keras entry ships the .keras file.
        predictions = built.predictions["keras"]
        row = {**built.parent, "size_bytes": run.model_artifact["size_bytes"], "latency_ms": None}
    else:
        files = {"model.tflite": ["model", built.artifacts[choice]], "preprocess.keras": ["preprocess", run.model_artifact]}
        predictions, row = built.predictions[choice], next(r for r in built.rows if r["mode"] == choice)
    model_sha = files["model.keras" if choice == "keras" else "model.tflite"][1]["sha256"]
    return {
        "variant": choice, "format": "keras" if choice == "keras" else "litert", "files": files,
        "predictions": predictions, "reference": reference.to_dict(),
        "metrics": {k: row.get(k) for k in ("accuracy", "size_bytes", "latency_ms")},
        "performance": row.get("performance"), "group_gaps": row.get("group_gaps"),
        "schema": {"numeric": ds.numeric_features, "categorical": ds.categorical_features,
                   "sensitive": ds.sensitive_features, "target": ds.target,
                   "positive_label": run.spec.data.positive_label, "label_strip": run.spec.data.label_strip,
                   "labels": list(ds.label_classes),
                   "na_values": list(run.spec.data.na_values), "profile": ds.profile.get("features")},
        "lineage": {"datasets": dict(run.lineage["datasets"]), "model": model_sha,
                    "parent_model": run.model_artifact["sha256"]},
    }


def deploy_evidence(run: Any) -> Evidence:
    """Approvals, privacy, model-card metadata and lineage (with the deployed model's hash)."""
    run.lineage = dict(run.candidate["lineage"])
    return Evidence(approvals=run.approvals(), privacy=run.privacy, metadata=run.metadata(),
                    lineage=dict(run.lineage))


def deploy(run: Any) -> Any:
    """Register the candidate in the registry with a signed manifest; return the entry."""
    from governance.trail import keys
    from governance.trail.signing import KeyRing
    from lifecycle.artifacts import Artifact
    from lifecycle.deploy import register
    from lifecycle.modelcard import manifest_body, model_card

    cand, ws = run.candidate, run.ws
    files = {name: (role, Artifact.from_dict(record).verified_path(ws)) for name, (role, record) in cand["files"].items()}
    files["reference.parquet"] = ("reference", Artifact.from_dict(cand["reference"]).verified_path(ws))
    files["reference_predictions.parquet"] = ("reference_predictions", Artifact.from_dict(cand["predictions"]).verified_path(ws))
    registry = Path(run.spec.deploy.registry) if run.spec.deploy.registry else ws.registry
    signer = keys.active_signer(run.trail)
    keys.ensure_trusted(run.trail, signer)
    card = model_card(run)
    return register(registry, run.spec.deploy.model_name, files, manifest_body(run), card, signer, KeyRing(ws.keys))
