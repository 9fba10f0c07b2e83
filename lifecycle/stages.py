"""The lifecycle's stages as plain functions returning frozen values (kedro's nodes).

``ingest(data_spec, artifacts) -> Ingested``, ``train(ingested, model_spec, privacy_spec, seed,
artifacts) -> Trained``, ``evaluate(trained, ingested, artifacts) -> Evaluated``; optimize and
deploy are :func:`lifecycle.variants.optimize` and :func:`lifecycle.registration.deploy`. Each
does one stage's work with the lower-level modules (:mod:`lifecycle.data`, :mod:`lifecycle.train`,
...), stores its files as run artifacts and returns what the gate evaluates and what the trail
records (:mod:`lifecycle.results`). Nothing here touches the trail or the policy:
:mod:`lifecycle.pipeline` records and gates the values, and :mod:`lifecycle.session` records
what a user's script hands its gates with :func:`evaluated` and :func:`described`.
TensorFlow is imported only by the stages that need it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from governance.evidence import Evidence
from lifecycle.measure import fairness_reports, group_gaps, performance
from lifecycle.results import Evaluated, Ingested, Optimized, StageResult, Trained

EpochCallback = Callable[[int, dict[str, float]], None]


def ingest(data_spec: Any, artifacts: Any) -> Ingested:
    """Load and profile the data (``data_spec`` paths already resolved); train-versus-test drift is evidence."""
    from lifecycle.data import load_dataset

    ds = load_dataset(data_spec, Path())
    stored = {name: artifacts.put_frame("dataset", name, f"data/{name}.parquet", frame).to_dict()
              for name, frame in (("train", ds.train), ("test", ds.test))}
    lineage = {"datasets": dict(ds.source_hashes), "model": None}
    metrics = {"train_rows": len(ds.train), "test_rows": len(ds.test), "features": len(ds.features),
               **_target_numbers(ds), "missing_cells": int(ds.train.isna().sum().sum())}
    left_out = sum(ds.profile.get("unlabelled", {}).values())
    if left_out:  # rows without a label cannot be trained or evaluated on: said, not hidden
        metrics["unlabelled_rows"] = left_out
    datasets = {
        name: {"rows": len(frame), "columns": list(frame.columns), "source_sha256": ds.source_hashes.get(name),
               "content_sha256": ds.content_hashes.get(name)}
        for name, frame in (("train", ds.train), ("test", ds.test))
    }
    blob = {"datasets": datasets, "profile": ds.profile, "lineage": lineage,
            "drift": descriptive_drift(ds.train[ds.features], ds.test[ds.features]),
            "features": {"numeric": ds.numeric_features, "categorical": ds.categorical_features,
                         "sensitive": ds.sensitive_features, "target": ds.target, "task": ds.task,
                         "classes": ds.classes}}
    # The data checks see the sensitive columns as audited (value labels and bins applied).
    audited = ds.train.assign(**{c: ds.groups["train"][c].to_numpy() for c in ds.sensitive_features})
    evidence = Evidence(dataset=audited, target=ds.target, reference=ds.train[ds.features],
                        current=ds.test[ds.features], lineage=dict(lineage),
                        sensitive_features=list(ds.sensitive_features))
    return Ingested(dataset=ds, lineage=lineage, evidence=evidence, metrics=metrics, artifacts=stored, blob=blob)


def _target_numbers(ds: Any) -> dict[str, Any]:
    balance = ds.profile["label_balance"]["train"]
    if ds.task == "regression":
        return {"target_mean": balance["mean"]}
    if ds.task == "multiclass":
        return {"classes": len(ds.classes)}
    return {"train_positive_rate": balance["positive_rate"]}


def descriptive_drift(reference: Any, current: Any) -> dict[str, Any] | None:
    """Per-column drift table (evidently's default methods), recorded whatever the policy checks."""
    from governance.errors import UserError
    from governance.metrics.drift import drift_report

    try:
        return drift_report(reference, current).to_dict()
    except UserError:  # e.g. no comparable column: the drift *rules* report that, if any
        return None


def train(ingested: Ingested, model_spec: Any, privacy_spec: Any, seed: int, artifacts: Any,
          on_epoch: EpochCallback | None = None, builder: tuple[str, Callable[..., Any]] | None = None) -> Trained:
    """Fit the model (DP-SGD when ``privacy_spec`` asks), save it, and describe how it was trained.

    ``builder`` is ``model.builder``'s ``(reference, function)``, loaded by the caller; with
    ``model_spec.path`` nothing is trained (:func:`trained_file`).
    """
    from lifecycle.model import save_model
    from lifecycle.train import train as fit

    if model_spec.path is not None:
        return trained_file(ingested, Path(model_spec.path), artifacts)
    result = fit(ingested.dataset, model_spec, privacy_spec, seed=seed, on_epoch=on_epoch, builder=builder)
    path = save_model(result.model, artifacts.path_for("model/model.keras"))
    model_artifact = artifacts.adopt("model", "model", path).to_dict()
    lineage = {**ingested.lineage, "model": model_artifact["sha256"]}
    privacy = dict(result.privacy)
    history = result.history
    metrics = {
        "epochs": model_spec.epochs, "loss": _last(history.get("loss")), "train_accuracy": _last(history.get("accuracy")),
        **({"train_mae": _last(history.get("mae"))} if "mae" in history else {}),
        "wall_time_s": round(result.wall_time_s, 3), "parameters": int(result.model.count_params()),
        "dp": bool(privacy.get("dp")), "epsilon": privacy.get("epsilon"),
    }
    origin = {"type": "builder", "builder": builder[0], "compiled_by": result.compiled_by} if builder else {"type": "mlp"}
    blob = {"privacy": privacy, "history": history, "model": {"sha256": model_artifact["sha256"],
            "parameters": metrics["parameters"], "spec": model_spec.model_dump(mode="json"), "origin": origin},
            "wall_time_s": result.wall_time_s, "lineage": lineage}
    return Trained(model=result.model, model_artifact=model_artifact, privacy=privacy, lineage=lineage, origin=origin,
                   evidence=Evidence(privacy=privacy, lineage=dict(lineage)), metrics=metrics,
                   artifacts={"model": model_artifact}, blob=blob, payload={"privacy": privacy})


def trained_file(ingested: Ingested, path: Path, artifacts: Any) -> Trained:
    """An already trained model (``model.path``): checked against the data, stored byte for byte, not trained.

    The lineage's model hash is the file's own SHA-256 (the stored copy has the same bytes).
    """
    from lifecycle.modelsource import load_trained
    from lifecycle.train import head_of

    ds = ingested.dataset
    content = path.read_bytes()  # one read: the model checked is the model stored and hashed
    model = load_trained(content, path, ds.numeric_features, ds.categorical_features, head_of(ds))
    model_artifact = artifacts.put_bytes("model", "model", "model/model.keras", content).to_dict()
    lineage = {**ingested.lineage, "model": model_artifact["sha256"]}
    privacy = {"dp": False}
    origin = {"type": "keras-file", "path": str(path), "sha256": model_artifact["sha256"]}
    metrics = {"trained": False, "parameters": int(model.count_params()), "dp": False, "epsilon": None}
    blob = {"privacy": privacy, "model": {"sha256": model_artifact["sha256"], "parameters": metrics["parameters"],
            "origin": origin}, "lineage": lineage}
    return Trained(model=model, model_artifact=model_artifact, privacy=privacy, lineage=lineage, origin=origin,
                   evidence=Evidence(privacy=privacy, lineage=dict(lineage)), metrics=metrics,
                   artifacts={"model": model_artifact}, blob=blob, payload={"privacy": privacy})


def _last(values: list[float] | None) -> float | None:
    return float(values[-1]) if values else None


def evaluate(trained: Trained, ingested: Ingested, artifacts: Any) -> Evaluated:
    """The trained model's test-set predictions: the evidence of performance and fairness rules."""
    from lifecycle.evaluate import evaluate_model

    predictions = evaluate_model(trained.model, ingested.dataset)
    stored = artifacts.put_predictions("keras", predictions).to_dict()
    return evaluated(predictions, stored, lineage=trained.lineage)


def evaluated(predictions: Any, artifact: dict[str, Any] | None = None,
              lineage: dict[str, Any] | None = None) -> Evaluated:
    """What the trail records of ``predictions``: performance, group gaps, per-group tables and the
    balance of the true and of the predicted labels.

    ``artifact`` is the stored predictions table, if any; ``lineage`` goes into the evidence when
    given (a run adds its own otherwise).
    """
    from lifecycle.dataprofile import predictions_balance

    sensitive = [str(c) for c in predictions.sensitive.columns]
    metrics = {**performance(predictions), **group_gaps(predictions, sensitive)}
    blob: dict[str, Any] = {"metrics": metrics, "fairness": fairness_reports(predictions, sensitive),
                            "rows": len(predictions.y_true), "label_balance": predictions_balance(predictions)}
    if artifact is not None:
        blob["predictions"] = artifact
    evidence = Evidence(predictions=predictions, lineage=None if lineage is None else dict(lineage))
    return Evaluated(predictions=predictions, predictions_artifact=artifact, evidence=evidence, metrics=metrics,
                     artifacts={"predictions": artifact} if artifact else {}, blob=blob)


def optimize(ingested: Ingested, trained: Trained, evaluated: Evaluated, optimize_spec: Any, data_spec: Any,
             artifacts: Any) -> Optimized:
    """LiteRT variants of the trained model's core, scored on the test set, and the deploy candidate."""
    from lifecycle.model import encode_features
    from lifecycle.optimize import representative_rows
    from lifecycle.registration import candidate
    from lifecycle.variants import litert_variants

    ds = ingested.dataset
    representative = representative_rows(encode_features(trained.model, ds.train),
                                         optimize_spec.representative_samples, data_spec.seed)
    optimized = litert_variants(trained.model, list(optimize_spec.modes), encode_features(trained.model, ds.test),
                                evaluated.predictions, artifacts, representative=representative,
                                lineage=trained.lineage, parent_sha256=trained.model_artifact["sha256"],
                                deploy=optimize_spec.deploy)
    chosen = candidate(optimized, trained, evaluated, ingested, data_spec, artifacts)
    return replace(optimized, candidate=chosen, payload={"deploy_candidate": chosen},
                   blob={**optimized.blob, "deploy": optimize_spec.deploy, "deploy_candidate": chosen})


def described(evidence: Evidence) -> StageResult:
    """What the trail records of a gate given ``evidence`` by a user's script.

    With ``predictions``: as :func:`evaluated`; with ``privacy``: the DP-SGD record and its
    epsilon, as the train stage records it.
    """
    metrics: dict[str, Any] = {}
    blob: dict[str, Any] = {}
    payload: dict[str, Any] = {}
    predictions = evidence.get("predictions")
    if predictions is not None:
        numbers = evaluated(predictions)
        metrics, blob = dict(numbers.metrics), dict(numbers.blob)
    if "privacy" in evidence:
        privacy = dict(evidence.require("privacy"))
        blob["privacy"], payload["privacy"] = privacy, privacy
        metrics.update({k: privacy.get(k) for k in ("dp", "epsilon", "delta") if k in privacy})
    return StageResult(evidence=evidence, metrics=metrics, blob=blob, payload=payload)
