"""The model card and the manifest body of a registry entry, from a deploy candidate and the run's facts.

The card follows the sections of Mitchell et al. (2019), "Model Cards for Model Reporting":
model details, intended use, factors (the sensitive features), metrics, evaluation and training
data, ethical considerations, caveats. People supply the descriptive fields (the spec's
``metadata``, or ``rai.start_run(metadata=...)``); the run supplies the numbers and the
governance record. Pipeline and API runs register through the same two functions.

A *candidate* (:func:`lifecycle.registration.candidate` for a pipeline) is a dict with
``variant``, ``format``, ``metrics`` (``accuracy``, ``size_bytes``, ``latency_ms``),
``performance``, ``group_gaps``, ``schema`` and ``lineage``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from governance.metrics.privacy import privacy_statement
from governance.provenance import policy_source

#: DP-SGD parameters a manifest carries (the full record is in the trail).
_MANIFEST_PRIVACY = ("dp", "epsilon", "delta", "accountant", "noise_multiplier", "l2_norm_clip", "steps", "sampling_rate")


@dataclass(frozen=True)
class RunFacts:
    """What a card and a manifest say about the run that registers a model."""

    run_id: str
    pipeline: str | None  # the pipeline's name; None for an API run
    run_name: str | None  # the name given to rai.start_run; None for a pipeline run
    model_name: str
    architecture: dict[str, Any]
    metadata: dict[str, Any]
    privacy: dict[str, Any]
    policy: Any
    decisions: dict[str, Any]  # each decided stage's status and finding counts


def model_card(candidate: dict[str, Any], facts: RunFacts) -> dict[str, Any]:
    """The model card of ``candidate`` (JSON-able)."""
    meta, schema = facts.metadata, candidate["schema"]
    return {
        "schema": "rai.model-card/1",
        "model_details": {
            "name": facts.model_name, "pipeline": facts.pipeline, "run_id": facts.run_id, "run_name": facts.run_name,
            "format": candidate["format"], "variant": candidate["variant"], "sha256": candidate["lineage"]["model"],
            "architecture": facts.architecture, "owner": meta.get("owner"), "description": meta.get("description"),
            "contact": meta.get("contact"), "license": meta.get("license"),
        },
        "intended_use": {"primary": meta.get("intended_use"), "out_of_scope": meta.get("out_of_scope_uses") or []},
        "factors": {"sensitive_features": schema.get("sensitive") or []},
        "metrics": {"performance": candidate.get("performance") or {}, "group_gaps": candidate.get("group_gaps") or {},
                    "size_bytes": candidate["metrics"].get("size_bytes"),
                    "latency_ms": candidate["metrics"].get("latency_ms")},
        "data": {"datasets": candidate["lineage"].get("datasets") or {}, "target": schema.get("target"),
                 "task": schema.get("task", "binary"), "positive_label": schema.get("positive_label")},
        "privacy": {"record": facts.privacy, "statement": _statement(facts.privacy)},
        "governance": {"policy": policy_record(facts.policy), "decisions": facts.decisions},
        "ethical_considerations": meta.get("ethical_considerations") or [],
        "caveats_and_recommendations": meta.get("limitations") or [],
    }


def manifest_body(candidate: dict[str, Any], facts: RunFacts) -> dict[str, Any]:
    """The signed fields of a registry manifest besides files and the card (see :mod:`lifecycle.deploy`)."""
    privacy = facts.privacy
    return {
        "run_id": facts.run_id, "pipeline": facts.pipeline, "run_name": facts.run_name,
        "variant": candidate["variant"], "format": candidate["format"],
        "model_sha256": candidate["lineage"]["model"], "parent_model_sha256": candidate["lineage"].get("parent_model"),
        "policy": policy_record(facts.policy), "policy_sha256": facts.policy.sha256, "decision_summary": facts.decisions,
        "epsilon": privacy.get("epsilon") if privacy.get("dp") else None,
        "privacy": {k: privacy.get(k) for k in _MANIFEST_PRIVACY},
        "metrics": {"performance": candidate.get("performance") or {}, **candidate["metrics"]},
        "group_gaps": candidate.get("group_gaps") or {},
        "schema": candidate["schema"], "lineage": candidate["lineage"], "threshold": candidate.get("threshold", 0.5),
    }


def architecture(model_spec: Any) -> dict[str, Any]:
    """What a pipeline's model is: the spec's MLP, the user's builder, or a trained file."""
    kind = "keras-file" if model_spec.path else "builder" if model_spec.builder else "mlp"
    settings = model_spec.model_dump(mode="json", exclude_none=True)
    if kind == "keras-file":
        settings = {"path": model_spec.path}
    elif kind == "builder":
        settings = {k: v for k, v in settings.items() if k not in ("hidden_units", "dropout")}
    return {"type": kind, **settings}


def policy_record(policy: Any) -> dict[str, Any]:
    """The policy as a card and a manifest name it."""
    return {"name": policy.policy, "version": policy.version, "sha256": policy.sha256, "owner": policy.owner,
            "source": policy_source(policy)}


def _statement(record: dict[str, Any]) -> str:
    try:
        return privacy_statement(record)
    except Exception:  # an incomplete record still gets a card; the record itself is attached
        return "trained with DP-SGD" if record.get("dp") else "trained without differential privacy"
