"""A user's own Keras model inside a governed run: LiteRT variants and registry entries.

:meth:`lifecycle.session.Run.optimize` and :meth:`~lifecycle.session.Run.register` call these.
The model is any single-input Keras model whose output is the positive-class probability (one
sigmoid unit, or two softmax units of which the second is positive). Conversion and scoring
reuse :mod:`lifecycle.optimize`, exactly as the pipeline does for its own MLP.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from governance.errors import UserError
from governance.evidence import Predictions
from governance.findings import GateResult

THRESHOLD = 0.5


@dataclass
class Variant:
    """One LiteRT conversion of a model, scored and gated.

    Attributes
    ----------
    mode : ``float32``, ``dynamic_range``, ``float16`` or ``int8``
    path : the ``.tflite`` file (a run artifact, hashed in the trail)
    sha256, size_bytes, latency_ms : what the optimize rules compare with the parent
    accuracy : on the evaluation data
    result : the variant's optimize gate (``optimize`` and ``evaluate`` rules)
    """

    mode: str
    path: Path
    sha256: str
    size_bytes: int
    latency_ms: float | None
    accuracy: float | None
    predictions: Predictions = field(repr=False)
    result: GateResult | None = field(default=None, repr=False)
    evidence: Any = field(default=None, repr=False)

    @property
    def blocked(self) -> bool:
        return bool(self.result is not None and self.result.blocked)


def as_features(x: Any, name: str) -> np.ndarray:
    """A 2-D float32 matrix of model inputs (one row per example)."""
    try:
        array = np.asarray(x.to_numpy() if hasattr(x, "to_numpy") else x, dtype=np.float32)
    except (TypeError, ValueError) as err:
        raise UserError(f"{name}: expected numeric model inputs, got {type(x).__name__} ({err})") from None
    if array.ndim == 1:
        array = array.reshape(-1, 1)
    if array.ndim != 2 or not len(array):
        raise UserError(f"{name}: expected a non-empty 2-D array of model inputs, got shape {array.shape}")
    if not np.isfinite(array).all():
        raise UserError(f"{name}: {int((~np.isfinite(array)).sum())} non-finite input value(s)")
    return array


def positive_scores(output: Any, name: str) -> np.ndarray:
    """Positive-class scores from a model's output: ``(n,)``, ``(n, 1)`` or two softmax columns."""
    array = np.asarray(output, dtype=float)
    if array.ndim == 2 and array.shape[1] == 2:
        array = array[:, 1]
    array = array.reshape(len(array), -1)
    if array.shape[1] != 1:
        raise UserError(f"{name}: the model outputs {array.shape[1]} values per row; a binary model outputs "
                        "one probability (or two softmax columns)")
    scores = array[:, 0]
    if not np.isfinite(scores).all():
        raise UserError(f"{name}: the model produced non-finite scores")
    return scores


def keras_scores(model: Any, x: np.ndarray) -> np.ndarray:
    """The Keras model's positive-class scores on ``x``."""
    return positive_scores(model.predict(x, verbose=0, batch_size=4096), "model")


def build_variant(model: Any, mode: str, representative: np.ndarray, x: np.ndarray, parent: Predictions,
                  artifacts: Any) -> Variant:
    """Convert ``model`` to LiteRT in ``mode``, store it, score it on ``x`` and time it."""
    from lifecycle.evaluate import accuracy
    from lifecycle.optimize import benchmark_latency, convert, litert_runner

    try:
        data = convert(model, mode, representative)
    except ValueError as err:
        raise UserError(f"optimize {mode}: {err}") from None
    artifact = artifacts.put_bytes("litert", mode, f"litert/{mode}.tflite", data)
    runner = litert_runner(data)
    scores = positive_scores(runner(x), f"LiteRT {mode}")
    predictions = Predictions(parent.y_true, (scores >= THRESHOLD).astype(np.int64), parent.sensitive, y_score=scores)
    latency = benchmark_latency(runner, x)["latency_ms"]
    return Variant(mode, artifacts.path_for(f"litert/{mode}.tflite"), artifact.sha256, artifact.size_bytes,
                   latency, accuracy(predictions), predictions)


def model_card(run: Any, name: str, fmt: str, mode: str, model_sha: str, metrics: dict[str, Any],
               features: int) -> dict[str, Any]:
    """The model card of a model registered from the user's code (Mitchell et al. 2019 sections)."""
    meta = run.metadata
    return {
        "schema": "rai.model-card/1",
        "model_details": {
            "name": name, "pipeline": None, "run_id": run.run_id, "run_name": run.name, "format": fmt,
            "variant": mode, "sha256": model_sha, "architecture": {"type": "user-keras", "inputs": features},
            "owner": meta.get("owner"), "description": meta.get("description"), "contact": meta.get("contact"),
            "license": meta.get("license"),
        },
        "intended_use": {"primary": meta.get("intended_use"), "out_of_scope": meta.get("out_of_scope_uses") or []},
        "factors": {"sensitive_features": metrics.get("sensitive_features", [])},
        "metrics": {"performance": metrics.get("performance", {}), "group_gaps": metrics.get("group_gaps", {}),
                    "size_bytes": metrics.get("size_bytes"), "latency_ms": metrics.get("latency_ms")},
        "data": {"datasets": {}, "target": None, "positive_label": None},
        "privacy": {"record": run.privacy_record},
        "governance": {"policy": {"name": run.policy.policy, "version": run.policy.version,
                                  "sha256": run.policy.sha256, "owner": run.policy.owner},
                       "decisions": run.decision_counts()},
        "ethical_considerations": meta.get("ethical_considerations") or [],
        "caveats_and_recommendations": meta.get("limitations") or [],
    }
