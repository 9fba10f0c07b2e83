"""The optimize stage: LiteRT variants of a model, each scored, described and given its gate's evidence.

For every requested mode the model is converted (:func:`lifecycle.optimize.convert`: the core of
a pipeline model, a user's own single-input model as it is), stored as ``litert/MODE.tflite``,
run by the LiteRT interpreter on the evaluation rows and described: size, per-row latency,
accuracy, performance metrics, per-group gaps and how its predictions differ from the parent's
(:func:`versus_parent`, in the task's terms). ``rai run`` and ``Run.optimize`` both call
:func:`litert_variants`, so their optimize stages record the same numbers in the same shapes.

The *parent* each variant is compared with is the model itself: its predictions on the same rows
(``parent_predictions``), and the size and latency (``parent_stats``) of its float32 LiteRT
conversion, which is always made. Comparing file sizes and interpreter latencies of one format
keeps the ratios about compression, not about Keras's file format or Python call overhead.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from governance.errors import UserError
from governance.evidence import Evidence, task_of
from governance.findings import jsonable
from governance.metrics.performance import task_metrics
from lifecycle.measure import fairness_reports, group_gaps, performance
from lifecycle.outputs import variant_predictions
from lifecycle.results import Converted, Optimized

PARENT_MODE = "float32"


def litert_variants(model: Any, modes: list[str], x: np.ndarray, parent: Any, artifacts: Any, *,
                    representative: np.ndarray, lineage: dict[str, Any], parent_sha256: str | None = None,
                    deploy: str | None = None) -> Optimized:
    """Convert ``model`` per mode, score every variant on ``x`` and describe it next to ``parent``.

    Parameters
    ----------
    model : what :func:`lifecycle.optimize.convert` converts (a pipeline model's core is taken)
    modes : the LiteRT modes to gate; ``float32`` is always converted as the parent's reference
    x : the converted model's inputs for the evaluation rows (a pipeline's encoded test features)
    parent : the Keras model's :class:`~governance.evidence.Predictions` on the same rows
    artifacts : the run's :class:`~lifecycle.artifacts.RunArtifacts`
    representative : int8 calibration inputs
    lineage : the run's lineage; each variant's evidence names its own model hash
    parent_sha256 : the parent model's hash, if it was stored
    deploy : the mode a pipeline will register (``keras`` for the parent), None in a user's run

    Raises
    ------
    UserError
        A conversion that fails, or a variant whose outputs are not scores.
    """
    sensitive = [str(c) for c in parent.sensitive.columns]
    gated = list(dict.fromkeys([*modes, *([PARENT_MODE] if deploy == PARENT_MODE else [])]))
    converted = {mode: _convert(model, mode, representative, x, parent, artifacts, sensitive, gated)
                 for mode in dict.fromkeys([PARENT_MODE, *gated])}
    reference = converted[PARENT_MODE]
    parent_row = {"name": "keras", "sha256": parent_sha256, "size_bytes": reference.row["size_bytes"],
                  "latency_ms": reference.row["latency_ms"], "size_of": f"{PARENT_MODE} LiteRT conversion",
                  **_describe(parent, sensitive)}
    parent_stats = {"size_bytes": parent_row["size_bytes"], "latency_ms": parent_row["latency_ms"]}
    variants = []
    for mode in gated:
        done = converted[mode]
        stats = {"size_bytes": done.row["size_bytes"], "latency_ms": done.row["latency_ms"]}
        evidence = Evidence(predictions=done.predictions, parent_predictions=parent, model_stats=stats,
                            parent_stats=parent_stats, lineage={**lineage, "model": done.row["sha256"]})
        row = {**done.row, "versus_parent": versus_parent(parent, done.predictions),
               **({"deployed": mode == deploy} if deploy is not None else {})}
        variants.append(Converted(mode=mode, artifact=done.artifact, row=row, predictions=done.predictions,
                                  predictions_artifact=done.predictions_artifact, evidence=evidence))
    rows = [v.row for v in variants]
    fairness = {"keras": fairness_reports(parent, sensitive),
                **{v.mode: fairness_reports(v.predictions, sensitive) for v in variants}}
    stored = {**{v.mode: v.artifact for v in variants}, PARENT_MODE: reference.artifact}
    return Optimized(parent=parent_row, variants=tuple(variants), reference=reference, deploy=deploy,
                     metrics=_metrics(parent_row, rows, deploy), artifacts=stored,
                     blob={"parent": parent_row, "variants": rows, "fairness": fairness})


def _convert(model: Any, mode: str, representative: np.ndarray, x: np.ndarray, parent: Any, artifacts: Any,
             sensitive: list[str], gated: list[str]) -> Converted:
    """One variant: converted, stored, scored on ``x``, timed; its predictions stored when it is gated."""
    from lifecycle.optimize import benchmark_latency, convert, litert_runner

    try:
        data = convert(model, mode, representative)
    except ValueError as err:
        raise UserError(f"optimize {mode}: {err}") from None
    artifact = artifacts.put_bytes("litert", mode, f"litert/{mode}.tflite", data)
    runner = litert_runner(data)
    predictions = variant_predictions(runner(x), parent, f"LiteRT {mode}")
    stored = artifacts.put_predictions(mode, predictions).to_dict() if mode in gated else None
    row = {"mode": mode, "sha256": artifact.sha256, "size_bytes": artifact.size_bytes,
           "latency_ms": benchmark_latency(runner, x)["latency_ms"], **_describe(predictions, sensitive)}
    return Converted(mode=mode, artifact=artifact.to_dict(), row=row, predictions=predictions,
                     predictions_artifact=stored)


def _describe(predictions: Any, sensitive: list[str]) -> dict[str, Any]:
    metrics = performance(predictions)
    return {"accuracy": metrics.get("accuracy"), "performance": metrics, "group_gaps": group_gaps(predictions, sensitive)}


def versus_parent(parent: Any, variant: Any) -> dict[str, Any]:
    """How a variant's predictions differ from its parent's on the same rows, in its task's terms.

    Classifiers: ``agreement`` (the share of rows predicted the same class) and
    ``accuracy_change``; multiclass also ``classes``, each class's change of selection rate (the
    share of rows predicted in it) and of recall. Regression: ``mae_change`` and
    ``rmse_change``. A change is the variant's value minus the parent's.
    """
    task = task_of(parent)
    if task == "regression":
        before, after = task_metrics(parent), task_metrics(variant)
        return {"mae_change": after["mae"] - before["mae"], "rmse_change": after["rmse"] - before["rmse"]}
    rows = len(parent.y_true)
    hits = [int(np.count_nonzero(p.y_true == p.y_pred)) for p in (parent, variant)]
    out: dict[str, Any] = {"agreement": float(np.count_nonzero(parent.y_pred == variant.y_pred) / rows),
                           "accuracy_change": (hits[1] - hits[0]) / rows}
    if task == "multiclass":
        (share_p, recall_p), (share_v, recall_v) = _class_rates(parent), _class_rates(variant)
        out["classes"] = [{"class": label, "selection_rate_change": float(share_v[k] - share_p[k]),
                           "recall_change": float(recall_v[k] - recall_p[k])}
                          for k, label in enumerate(jsonable(list(parent.classes)))]
    return out


def _class_rates(predictions: Any) -> tuple[np.ndarray, np.ndarray]:
    """Per class: the share of rows predicted in it, and its recall (0 for a class with no rows)."""
    k = len(predictions.classes)
    actual = np.bincount(predictions.y_true, minlength=k)
    hits = np.bincount(predictions.y_true[predictions.y_true == predictions.y_pred], minlength=k)
    recall = np.divide(hits, actual, out=np.zeros(k), where=actual > 0)
    return np.bincount(predictions.y_pred, minlength=k) / len(predictions.y_pred), recall


def _metrics(parent: dict[str, Any], rows: list[dict[str, Any]], deploy: str | None) -> dict[str, Any]:
    """The stage's headline numbers: the model to deploy (if chosen), the parent, then each variant."""
    out: dict[str, Any] = {}
    if deploy is not None:
        chosen = next((r for r in rows if r["mode"] == deploy), parent)
        out.update(deploy=deploy, accuracy=chosen.get("accuracy"), size_bytes=chosen.get("size_bytes"))
    out.update(parent_size_bytes=parent.get("size_bytes"), parent_accuracy=parent.get("accuracy"))
    for row in rows:
        out[f"{row['mode']}.size_bytes"] = row.get("size_bytes")
        out[f"{row['mode']}.accuracy"] = row.get("accuracy")
    return out
