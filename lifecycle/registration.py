"""The deploy stage: what a run registers, the deploy gate's evidence, and the signed registry entry.

:func:`candidate` is what a pipeline's optimize stage proposes for deployment (files, recorded
predictions, reference data, numbers, schema and lineage); the trail records it, so a resumed
run deploys exactly it. :func:`publish` writes a signed entry (:func:`lifecycle.deploy.register`,
signed with the workspace's trail key) and returns the :class:`~lifecycle.results.Deployed`
value whose events the run records; ``rai run`` (:func:`deploy`) and ``Run.register`` both
publish through it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from governance.evidence import Evidence
from lifecycle.modelcard import RunFacts, manifest_body, model_card
from lifecycle.results import Deployed, Evaluated, Ingested, Optimized, Trained

# Rows of the training features kept as the monitor's drift reference in a registry entry.
REFERENCE_ROWS = 5000


def candidate(optimized: Optimized, trained: Trained, evaluated: Evaluated, ingested: Ingested,
              data_spec: Any, artifacts: Any) -> dict[str, Any]:
    """What deploy will register: the chosen model's files, predictions, reference rows, numbers and lineage."""
    choice, ds, model = optimized.deploy, ingested.dataset, trained.model_artifact
    sample = ds.train[ds.features]
    if len(sample) > REFERENCE_ROWS:
        sample = sample.sample(REFERENCE_ROWS, random_state=data_spec.seed)
    reference = artifacts.put_frame("reference", "reference", "reference/features.parquet", sample.reset_index(drop=True))
    if choice == "keras":
        files = {"model.keras": ["model", model]}
        # The parent row's size and latency are its float32 LiteRT conversion's; a Keras entry ships the .keras file.
        predictions = evaluated.predictions_artifact
        row = {**optimized.parent, "size_bytes": model["size_bytes"], "latency_ms": None}
    else:
        chosen = optimized.variant(choice)
        files = {"model.tflite": ["model", chosen.artifact], "preprocess.keras": ["preprocess", model]}
        predictions, row = chosen.predictions_artifact, chosen.row
    model_sha = files["model.keras" if choice == "keras" else "model.tflite"][1]["sha256"]
    return {
        "variant": choice, "format": "keras" if choice == "keras" else "litert", "files": files,
        "predictions": predictions, "reference": reference.to_dict(),
        "metrics": {k: row.get(k) for k in ("accuracy", "size_bytes", "latency_ms")},
        "performance": row.get("performance"), "group_gaps": row.get("group_gaps"),
        "schema": schema(ingested, data_spec),
        "lineage": {"datasets": dict(trained.lineage["datasets"]), "model": model_sha, "parent_model": model["sha256"]},
    }


def schema(ingested: Ingested, data_spec: Any) -> dict[str, Any]:
    """The data contract of a registered model: features, sensitive columns, target and how labels read.

    ``csv`` (the ``data.csv`` fields that differ from a plain comma-separated UTF-8 file) is there
    only when the spec sets one, so a default spec's manifest carries no such key; ``rai monitor``
    reads batches with it.
    """
    ds = ingested.dataset
    contract = {"numeric": ds.numeric_features, "categorical": ds.categorical_features,
                "sensitive": ds.sensitive_features, "target": ds.target, "task": ds.task,
                "positive_label": data_spec.positive_label, "favorable_label": data_spec.favorable_label,
                "classes": list(ds.classes), "label_strip": data_spec.label_strip,
                "labels": list(ds.label_classes), "na_values": list(data_spec.na_values),
                "value_labels": {c: {str(k): v for k, v in m.items()} for c, m in data_spec.value_labels.items()},
                "bins": dict(data_spec.bins), "profile": ds.profile.get("features")}
    dialect = data_spec.csv.model_dump(exclude_defaults=True)
    return {**contract, "csv": dialect} if dialect else contract


def deploy_evidence(candidate: dict[str, Any], privacy: dict[str, Any]) -> Evidence:
    """The deploy gate's own evidence: privacy and lineage with the deployed model's hash."""
    return Evidence(privacy=privacy, lineage=dict(candidate["lineage"]))


def deploy(candidate: dict[str, Any], facts: RunFacts, registry: Path, trail: Any, ws: Any) -> Deployed:
    """Register ``candidate`` (its files re-checked against their recorded hashes) with a signed manifest."""
    from lifecycle.artifacts import Artifact

    files = {name: (role, Artifact.from_dict(record).verified_path(ws))
             for name, (role, record) in candidate["files"].items()}
    files["reference.parquet"] = ("reference", Artifact.from_dict(candidate["reference"]).verified_path(ws))
    files["reference_predictions.parquet"] = ("reference_predictions",
                                              Artifact.from_dict(candidate["predictions"]).verified_path(ws))
    return publish(registry, candidate, facts, files, trail, ws)


def publish(registry: Path, candidate: dict[str, Any], facts: RunFacts, files: dict[str, tuple[str, Path]],
            trail: Any, ws: Any) -> Deployed:
    """Write a signed registry entry of ``files`` for ``candidate``; return what the run records of it."""
    from governance.fsutil import file_sha256
    from governance.trail import keys
    from governance.trail.signing import KeyRing
    from lifecycle.deploy import register

    signer = trail.signer()
    keys.ensure_trusted(trail, signer)
    entry = register(Path(registry), facts.model_name, files, manifest_body(candidate, facts),
                     model_card(candidate, facts), signer, KeyRing(ws.keys))
    # Registry paths are absolute: a registry may live outside the workspace.
    manifest = {"sha256": file_sha256(entry.manifest_path), "path": str(entry.manifest_path.resolve())}
    model_sha = candidate["lineage"]["model"]
    registered = {"name": entry.name, "version": entry.version, "model_sha256": model_sha,
                  "variant": candidate["variant"], "manifest_path": manifest["path"],
                  "manifest_sha256": manifest["sha256"], "registry": str(entry.dir.parent.parent.resolve())}
    deployed = {"name": entry.name, "version": entry.version, "target": "registry", "path": str(entry.dir.resolve())}
    return Deployed(entry=entry, registered=registered, deployed=deployed,
                    subjects={"model": model_sha, "manifest": manifest["sha256"]},
                    metrics={"version": entry.version, "variant": candidate["variant"]},
                    artifacts={"manifest": {"kind": "deployment", "name": "manifest",
                                            "size_bytes": entry.manifest_path.stat().st_size, **manifest}},
                    blob={"manifest": entry.body, "registry_entry": str(entry.dir.resolve())})
