"""The optimize stage's work: LiteRT variants of the trained model, each scored and described.

For every requested mode the model's core is converted (:func:`lifecycle.optimize.convert`),
stored as ``litert/MODE.tflite``, run by the LiteRT interpreter on the whole test set (after the
model's own Keras preprocessing, exactly as serving does it) and described: size, per-row
latency, accuracy, performance metrics and per-group gaps.

The *parent* each variant is compared with is the trained model itself: its test-set predictions
(``parent_predictions``) are the Keras model's, and its size and latency (``parent_stats``) are
those of its float32 LiteRT conversion, which is always made. Comparing file sizes and interpreter
latencies of one format keeps the ratios about compression, not about Keras's file format or
Python call overhead.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from governance.evidence import Evidence, Predictions
from lifecycle.measure import fairness_reports, group_gaps, performance

PARENT_MODE = "float32"


@dataclass
class Built:
    """Everything the optimize stage made (see :func:`build_all`)."""

    parent: dict[str, Any]
    rows: list[dict[str, Any]] = field(default_factory=list)
    artifacts: dict[str, dict[str, Any]] = field(default_factory=dict)
    predictions: dict[str, dict[str, Any]] = field(default_factory=dict)
    fairness: dict[str, Any] = field(default_factory=dict)
    evidence: list[tuple[str, Evidence]] = field(default_factory=list)


def build_all(run: Any) -> Built:
    """Convert, store, score and describe every variant; evidence for each variant's gate."""
    from lifecycle.model import encode_features
    from lifecycle.optimize import benchmark_latency, convert, litert_runner, representative_rows

    ds, opt = run.dataset, run.spec.optimize
    encoded_test = encode_features(run.model, ds.test)
    representative = representative_rows(encode_features(run.model, ds.train), opt.representative_samples,
                                          run.spec.data.seed)
    sensitive = ds.sensitive_features
    modes = list(dict.fromkeys([PARENT_MODE, *opt.modes]))
    described: dict[str, dict[str, Any]] = {}
    variant_predictions: dict[str, Predictions] = {}
    for mode in modes:
        data = convert(run.model, mode, representative)
        artifact = run.artifacts.put_bytes("litert", mode, f"litert/{mode}.tflite", data)
        runner = litert_runner(data)
        scores = np.asarray(runner(encoded_test), dtype=float).reshape(-1)
        preds = _predictions(run.predictions, scores)
        variant_predictions[mode] = preds
        described[mode] = {"mode": mode, "sha256": artifact.sha256, "size_bytes": artifact.size_bytes,
                           "latency_ms": benchmark_latency(runner, encoded_test)["latency_ms"], **_describe(preds, sensitive),
                           "artifact": artifact.to_dict()}
    return _assemble(run, described, variant_predictions, sensitive)


def _predictions(parent: Predictions, scores: np.ndarray) -> Predictions:
    return Predictions(y_true=parent.y_true, y_pred=(scores >= 0.5).astype(np.int64), y_score=scores,
                       sensitive=parent.sensitive)


def _describe(predictions: Predictions, sensitive: list[str]) -> dict[str, Any]:
    metrics = performance(predictions)
    return {"accuracy": metrics.get("accuracy"), "performance": metrics, "group_gaps": group_gaps(predictions, sensitive)}


def _assemble(run: Any, described: dict[str, dict], preds: dict[str, Predictions], sensitive: list[str]) -> Built:
    opt = run.spec.optimize
    float_row = described[PARENT_MODE]
    parent = {"name": "keras", "sha256": run.model_artifact["sha256"], "size_bytes": float_row["size_bytes"],
              "latency_ms": float_row["latency_ms"], "size_of": f"{PARENT_MODE} LiteRT conversion",
              **_describe(run.predictions, sensitive)}
    parent_stats = {"size_bytes": parent["size_bytes"], "latency_ms": parent["latency_ms"]}
    built = Built(parent=parent, fairness={"keras": fairness_reports(run.predictions, sensitive)})
    built.predictions["keras"] = run.predictions_artifact
    gated = list(dict.fromkeys([*opt.modes, *([PARENT_MODE] if opt.deploy == PARENT_MODE else [])]))
    for mode in gated:
        row = dict(described[mode])
        built.artifacts[mode] = row.pop("artifact")
        row["deployed"] = mode == opt.deploy
        built.rows.append(row)
        built.predictions[mode] = run.artifacts.put_predictions(mode, preds[mode]).to_dict()
        built.fairness[mode] = fairness_reports(preds[mode], sensitive)
        stats = {"size_bytes": row["size_bytes"], "latency_ms": row["latency_ms"]}
        built.evidence.append((mode, Evidence(
            predictions=preds[mode], parent_predictions=run.predictions, model_stats=stats, parent_stats=parent_stats,
            metadata=run.metadata(), lineage={**run.lineage, "model": row["sha256"]})))
    if PARENT_MODE not in gated:  # the parent's conversion is evidence too, but not a candidate
        built.artifacts[PARENT_MODE] = described[PARENT_MODE]["artifact"]
    return built
