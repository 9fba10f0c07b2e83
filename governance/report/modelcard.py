"""Model cards (Mitchell et al. 2019) of a run, with narrative text kept in a sidecar YAML.

Numbers come from the run's report document (trail records and evidence; nothing is recomputed).
Words come from people: the pipeline spec's ``metadata`` seeds a sidecar file
(``runs/RUN_ID/model-card.yaml`` in the workspace by default) the first time a card is generated;
from then on the sidecar is only read, never rewritten, so edits survive every regeneration. A
key present in the sidecar wins over the run's metadata, even when empty (deleting text is an
edit too); a key absent from it falls back to the metadata.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import Field

from governance.display import group_label
from governance.errors import UserError
from governance.report.readable import in_numeric_order
from governance.report.text import evidence_tables
from governance.yamlsafe import load_document
from governance.yamlvalidate import ClosedModel, validate

SCHEMA_VERSION = "1.0"
KIND = "rai.model-card"
SIDECAR_NAME = "model-card.yaml"
_UNWRITABLE = "cannot write the model-card narrative file {path}: {why}"
_HEADER = """\
# Narrative fields of the model card of run {run_id}.
# Edit freely: `rai model-card` reads this file and never overwrites it. Numbers (metrics,
# per-group tables, hashes, privacy) come from the audit trail and cannot be edited here.
"""


class DetailsText(ClosedModel):
    description: str | None = None
    owner: str | None = None
    contact: str | None = None
    license: str | None = None


class IntendedUseText(ClosedModel):
    primary_uses: str | None = None
    primary_users: str | None = None
    out_of_scope_uses: list[str] = Field(default_factory=list)


class Narrative(ClosedModel):
    """The editable text of a model card, section by section."""

    model_details: DetailsText = Field(default_factory=DetailsText)
    intended_use: IntendedUseText = Field(default_factory=IntendedUseText)
    factors: str | None = None
    metrics: str | None = None
    evaluation_data: str | None = None
    training_data: str | None = None
    quantitative_analyses: str | None = None
    ethical_considerations: list[str] = Field(default_factory=list)
    caveats_and_recommendations: list[str] = Field(default_factory=list)


def seed_narrative(metadata: dict[str, Any]) -> dict[str, Any]:
    """The narrative as the pipeline spec's ``metadata`` states it (the sidecar's first content)."""
    m = metadata or {}
    return Narrative(
        model_details=DetailsText(**{k: m.get(k) for k in ("description", "owner", "contact", "license")}),
        intended_use=IntendedUseText(primary_uses=m.get("intended_use"),
                                     out_of_scope_uses=list(m.get("out_of_scope_uses") or [])),
        ethical_considerations=list(m.get("ethical_considerations") or []),
        caveats_and_recommendations=list(m.get("limitations") or []),
    ).model_dump()


def load_narrative(path: Path, seed: dict[str, Any], run_id: str) -> dict[str, Any]:
    """The sidecar's narrative merged over ``seed``; writes the sidecar from ``seed`` if absent."""
    if not path.exists():
        text = _HEADER.format(run_id=run_id) + yaml.safe_dump(seed, sort_keys=False, allow_unicode=True, width=100)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        except OSError as err:
            raise UserError(_UNWRITABLE.format(path=path, why=err.strerror or err)) from None
        return seed
    edited = validate(load_document(path), Narrative).model_dump(exclude_unset=True)
    merged = {**seed}
    for key, value in edited.items():
        merged[key] = {**seed[key], **value} if isinstance(value, dict) else value
    return merged


def _per_group(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """One per-group table per set of sensitive features, from the evaluate gate's fairness evidence."""
    seen, out = set(), []
    for f in (f for g in doc["gates"] if g["stage"] == "evaluate" and not g.get("subject") for f in g["findings"]):
        ev = f.get("evidence") or {}
        if not str(f.get("check", "")).startswith("fairness.") or not ev.get("groups"):
            continue
        key = tuple(ev.get("sensitive_features") or [])
        if key in seen:
            continue
        seen.add(key)
        table = next((t for t in evidence_tables(ev) if t[0] == "groups"), None)
        groups = in_numeric_order(ev["groups"], lambda g: g.get("group") if isinstance(g, dict) else g)
        out.append({"sensitive_features": list(key), "source_rule": f.get("rule_id"),
                    "metrics": ev.get("metrics") or {}, "groups": groups, "header": table[1] if table else []})
    return out


def _dataset(doc: dict[str, Any], word: str) -> dict[str, Any] | None:
    return next((d for d in doc["data"]["datasets"] if word in d["name"]), None)


def _measured_rules(doc: dict[str, Any]) -> list[dict[str, Any]]:
    families = ("performance.", "fairness.", "optimize.", "privacy.")
    return [{"rule": r["id"], "check": r["check"], "stage": r["stage"], "params": r["params"]}
            for r in doc["policy"]["rules"] if str(r.get("check") or "").startswith(families)]


def card_oversight(acc: dict[str, Any]) -> dict[str, Any]:
    """Who approved the model, how far that is proven, and whether it was revoked."""
    return {"approval_state": acc.get("state"), "approval_required": bool(acc.get("required")),
            "decisions": len(acc.get("decisions") or []),
            "approved_by": {role: s.get("approved_by", []) for role, s in (acc.get("roles") or {}).items()},
            "signatures": acc.get("signatures"), "revoked": acc.get("revocations") or [],
            "waivers_applied": (acc.get("waiver_tally") or {}).get("count", 0)}


def build_model_card(doc: dict[str, Any], narrative: dict[str, Any]) -> dict[str, Any]:
    """The model card of a report document (``ReportDocument.to_dict()``) and its narrative."""
    run, system, cfg = doc["run"], doc["system"], doc["run"].get("configuration") or {}
    reg = system.get("registered") or {}
    privacy = doc.get("privacy")
    groups = _per_group(doc)
    evaluate = next((s for s in doc["stages"] if s["stage"] == "evaluate"), {})
    return {
        "schema_version": SCHEMA_VERSION, "kind": KIND, "run_id": run["run_id"],
        "generated_at": doc["generated"]["at"], "decision": doc["verdict"]["decision"],
        "oversight": card_oversight(doc.get("accountability") or {}),
        "model_details": {
            **narrative["model_details"], "name": system.get("name"), "version": reg.get("version"),
            "pipeline": run.get("pipeline"), "date": run.get("finished_at") or run.get("started_at"),
            "architecture": cfg.get("model"), "differential_privacy": bool(privacy and privacy["record"].get("dp")),
            "model_sha256": (system.get("model") or {}).get("sha256"),
            "deployed_variant": reg.get("variant"), "deployed_sha256": reg.get("model_sha256"),
            "policy": {k: doc["policy"].get(k) for k in ("name", "version", "sha256")},
        },
        "intended_use": narrative["intended_use"],
        "factors": {"sensitive_features": (cfg.get("data") or {}).get("sensitive_features") or [],
                    "groups": [group_label(g.get("group")) for t in groups for g in t["groups"]],
                    "notes": narrative["factors"]},
        "metrics": {"measured": _measured_rules(doc), "notes": narrative["metrics"]},
        "evaluation_data": {"dataset": _dataset(doc, "test"), "notes": narrative["evaluation_data"]},
        "training_data": {"dataset": _dataset(doc, "train"), "drift": doc["data"].get("drift"),
                          "notes": narrative["training_data"]},
        "quantitative_analyses": {
            "metrics": evaluate.get("metrics") or {}, "per_group": groups,
            "variants": (doc.get("optimization") or {}).get("variants") or [],
            "notes": narrative["quantitative_analyses"],
        },
        "ethical_considerations": {"items": narrative["ethical_considerations"],
                                   "privacy": privacy["statement"] if privacy else None},
        "caveats_and_recommendations": {
            "items": narrative["caveats_and_recommendations"],
            "warnings": [f"{f['rule_id']}: {f['message']}" for g in doc["gates"] for f in g["findings"]
                         if f.get("status") in ("warning", "waived", "inconclusive", "failed", "error")],
            "not_covered": doc["frameworks"].get("not_covered") or [],
        },
    }
