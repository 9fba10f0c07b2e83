"""The model card and the manifest body of a registry entry, from a run's recorded state.

The card follows the sections of Mitchell et al. (2019), "Model Cards for Model Reporting":
model details, intended use, factors (the sensitive features), metrics, evaluation and training
data, ethical considerations, caveats. People supply the descriptive fields (the spec's
``metadata``); the pipeline supplies the numbers and the governance record.
"""

from __future__ import annotations

from typing import Any

from governance.metrics.privacy import privacy_statement
from governance.provenance import policy_source


def model_card(run: Any) -> dict[str, Any]:
    """The model card of the run's deploy candidate (JSON-able)."""
    spec, cand, meta = run.spec, run.candidate, run.metadata()
    return {
        "schema": "rai.model-card/1",
        "model_details": {
            "name": spec.deploy.model_name, "pipeline": spec.name, "run_id": run.run_id,
            "format": cand["format"], "variant": cand["variant"], "sha256": cand["lineage"]["model"],
            "architecture": {"type": "mlp", **spec.model.model_dump(mode="json")},
            "owner": meta.get("owner"), "description": meta.get("description"),
            "contact": meta.get("contact"), "license": meta.get("license"),
        },
        "intended_use": {"primary": meta.get("intended_use"), "out_of_scope": meta.get("out_of_scope_uses") or []},
        "factors": {"sensitive_features": cand["schema"]["sensitive"]},
        "metrics": {"performance": cand.get("performance") or {}, "group_gaps": cand.get("group_gaps") or {},
                    "size_bytes": cand["metrics"].get("size_bytes"), "latency_ms": cand["metrics"].get("latency_ms")},
        "data": {"datasets": cand["lineage"]["datasets"], "target": cand["schema"]["target"],
                 "positive_label": cand["schema"]["positive_label"]},
        "privacy": {"record": run.privacy, "statement": _statement(run.privacy)},
        "governance": {"policy": _policy(run), "decisions": decision_summary(run)},
        "ethical_considerations": meta.get("ethical_considerations") or [],
        "caveats_and_recommendations": meta.get("limitations") or [],
    }


def manifest_body(run: Any) -> dict[str, Any]:
    """The signed fields of a registry manifest besides files and the card (see :mod:`lifecycle.deploy`)."""
    cand = run.candidate
    return {
        "run_id": run.run_id, "pipeline": run.spec.name, "variant": cand["variant"], "format": cand["format"],
        "model_sha256": cand["lineage"]["model"], "parent_model_sha256": cand["lineage"].get("parent_model"),
        "policy": _policy(run), "policy_sha256": run.policy.sha256,
        "decision_summary": decision_summary(run),
        "epsilon": run.privacy.get("epsilon") if run.privacy.get("dp") else None,
        "privacy": {k: run.privacy.get(k) for k in ("dp", "epsilon", "delta", "accountant", "noise_multiplier",
                                                    "l2_norm_clip", "steps", "sampling_rate")},
        "metrics": {**(cand.get("performance") or {}), **cand["metrics"]},
        "group_gaps": cand.get("group_gaps") or {},
        "schema": cand["schema"], "lineage": cand["lineage"], "threshold": 0.5,
    }


def decision_summary(run: Any) -> dict[str, Any]:
    """Each stage's gate status and the count of findings by status, up to (not including) deploy."""
    counts: dict[str, int] = {}
    for entry in run.stage_entries:
        for finding in entry.get("findings") or []:
            counts[finding["status"]] = counts.get(finding["status"], 0) + 1
    return {"stages": {e["stage"]: e["status"] for e in run.stage_entries}, "findings": counts}


def _policy(run: Any) -> dict[str, Any]:
    p = run.policy
    return {"name": p.policy, "version": p.version, "sha256": p.sha256, "owner": p.owner, "source": policy_source(p)}


def _statement(record: dict[str, Any]) -> str:
    try:
        return privacy_statement(record)
    except Exception:  # an incomplete record still gets a card; the record itself is attached
        return "trained with DP-SGD" if record.get("dp") else "trained without differential privacy"
