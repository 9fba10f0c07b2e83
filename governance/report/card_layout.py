"""Layout of a model card as blocks, in the section order of Mitchell et al. (2019)."""

from __future__ import annotations

from typing import Any

from governance.display import group_label
from governance.report.blocks import BarChart, Block, Bullets, Heading, KeyValues, Paragraph, Table
from governance.report.readable import fmt_settings
from governance.report.text import fmt_bytes, fmt_params, fmt_value

_MISSING = "Not stated. Edit the model-card narrative file to add it."
_GROUP_COLUMNS = ("count", "selection_rate", "accuracy", "tpr", "fpr", "excluded")


def _text(value: Any) -> Paragraph:
    return Paragraph(str(value)) if value else Paragraph(_MISSING, "note")


def _items(values: list[str]) -> Block:
    return Bullets(list(values)) if values else Paragraph(_MISSING, "note")


def _details(card: dict[str, Any]) -> list[Block]:
    d = card["model_details"]
    pol = d.get("policy") or {}
    rows = [("Name", d.get("name")), ("Version", d.get("version")), ("Pipeline", d.get("pipeline")),
            ("Date", d.get("date")), ("Owner", d.get("owner")), ("Contact", d.get("contact")),
            ("License", d.get("license")), ("Architecture", fmt_settings(d.get("architecture"))),
            ("Differential privacy", d.get("differential_privacy")), ("Model SHA-256", d.get("model_sha256")),
            ("Deployed variant", d.get("deployed_variant")), ("Deployed SHA-256", d.get("deployed_sha256")),
            ("Policy", f"{pol.get('name')} {pol.get('version')} (sha256 {pol.get('sha256')})"),
            ("Run", card["run_id"]), ("Governance decision", card["decision"])]
    blocks: list[Block] = [Heading(2, "Model details")]
    oversight = card.get("oversight") or {}
    for r in oversight.get("revoked") or []:
        blocks.append(Paragraph(f"REVOKED: version {r['version']} was revoked at {r['time']} by {r['actor']}: "
                                f"{r['reason']} (trail entry #{r['seq']}). Do not use it.", "alert"))
    if oversight.get("approval_state"):
        rows.append(("Human approval", _approval(oversight)))
    return blocks + [_text(d.get("description")), KeyValues([(k, fmt_value(v)) for k, v in rows])]


def _approval(oversight: dict[str, Any]) -> str:
    """``approved (risk: ana); 1 signed, 0 unsigned``, or that the policy asks for none."""
    if oversight.get("approval_required") is False and not oversight.get("decisions"):
        return "not required by the policy; no decision recorded"  # never "approved" by nobody
    approved = "; ".join(f"{role}: {', '.join(who) or 'nobody'}" for role, who in oversight["approved_by"].items())
    signed = oversight.get("signatures") or {}
    return (f"{oversight['approval_state']}" + (f" ({approved})" if approved else "")
            + f"; {signed.get('signed', 0)} signed, {signed.get('unsigned', 0)} unsigned"
            + ("" if oversight.get("approval_required", True) else "; the policy requires none"))


def _intended_use(card: dict[str, Any]) -> list[Block]:
    u = card["intended_use"]
    return [Heading(2, "Intended use"), Heading(3, "Primary uses"), _text(u.get("primary_uses")),
            Heading(3, "Primary users"), _text(u.get("primary_users")),
            Heading(3, "Out-of-scope uses"), _items(u.get("out_of_scope_uses") or [])]


def _group_blocks(table: dict[str, Any]) -> list[Block]:
    features = ", ".join(table["sensitive_features"])
    header = ["group"] + [c for c in _GROUP_COLUMNS if c in table["header"]]
    rows = [[group_label(g.get("group"))] + [fmt_value(g.get(c)) for c in header[1:]] for g in table["groups"]]
    out: list[Block] = [Heading(3, f"By {features}"), Table(header, rows, caption=f"from rule {table['source_rule']}")]
    bars = [(group_label(g.get("group")), float(g["tpr"])) for g in table["groups"]
            if isinstance(g.get("tpr"), (int, float)) and not g.get("excluded")]
    if bars:
        out.append(BarChart(f"True positive rate by {features}", bars))
    if table.get("metrics"):
        out.append(KeyValues([(k.replace("_", " "), fmt_value(v)) for k, v in table["metrics"].items()]))
    return out


def _analyses(card: dict[str, Any]) -> list[Block]:
    q = card["quantitative_analyses"]
    out: list[Block] = [Heading(2, "Quantitative analyses")]
    if q.get("notes"):
        out.append(Paragraph(q["notes"]))
    if q["metrics"]:
        out.append(KeyValues([(k, fmt_value(v)) for k, v in q["metrics"].items()]))
    for table in q["per_group"]:
        out += _group_blocks(table)
    if q["variants"]:
        out.append(Heading(3, "Optimized (LiteRT) variants"))
        out.append(Table(["Variant", "Size", "Accuracy", "Group gaps", "Gate"],
                         [[fmt_value(v["name"]), fmt_bytes(v.get("size_bytes")), fmt_value(v.get("accuracy")),
                           fmt_params(v.get("group_gaps")), fmt_value(v.get("gate"))] for v in q["variants"]]))
    return out


def _data(card: dict[str, Any], key: str, title: str) -> list[Block]:
    section = card[key]
    ds = section.get("dataset") or {}
    out: list[Block] = [Heading(2, title), _text(section.get("notes"))]
    if ds:
        out.append(KeyValues([("Dataset", fmt_value(ds.get("name"))), ("SHA-256", fmt_value(ds.get("sha256"))),
                              ("Rows", fmt_value(ds.get("rows"))), ("Columns", fmt_value(ds.get("columns")))]))
    drift = section.get("drift") or {}
    if drift:
        out.append(KeyValues([("Drift against the test set: share of drifted columns", fmt_value(drift.get("drifted_share"))),
                              ("Dataset drift", fmt_value(drift.get("dataset_drift")))]))
    return out


def card_blocks(card: dict[str, Any]) -> list[Block]:
    """Every block of ``card`` (see :func:`governance.report.modelcard.build_model_card`)."""
    name = card["model_details"].get("name") or card["run_id"]
    factors, metrics = card["factors"], card["metrics"]
    ethics, caveats = card["ethical_considerations"], card["caveats_and_recommendations"]
    blocks: list[Block] = [Heading(1, f"Model card: {name}")]
    blocks += _details(card) + _intended_use(card)
    blocks += [Heading(2, "Factors"), _text(factors.get("notes")),
               KeyValues([("Sensitive features", ", ".join(factors["sensitive_features"]) or "-"),
                          ("Groups evaluated", "; ".join(factors["groups"]) or "-")])]
    blocks += [Heading(2, "Metrics"), _text(metrics.get("notes")),
               Table(["Rule", "Check", "Stage", "Parameters in force"],
                     [[m["rule"], m["check"], m["stage"], fmt_params(m["params"])] for m in metrics["measured"]])]
    blocks += _data(card, "evaluation_data", "Evaluation data") + _data(card, "training_data", "Training data")
    blocks += _analyses(card)
    blocks += [Heading(2, "Ethical considerations"), _items(ethics["items"])]
    if ethics.get("privacy"):
        blocks += [Heading(3, "Privacy")] + [Paragraph(p) for p in ethics["privacy"].split("\n\n") if p.strip()]
    blocks += [Heading(2, "Caveats and recommendations"), _items(caveats["items"])]
    if caveats["warnings"]:
        blocks += [Paragraph("Findings a user of this model should know about:"), Bullets(caveats["warnings"])]
    if caveats["not_covered"]:
        blocks += [Paragraph("Not shown by the automated evidence behind this card:"), Bullets(caveats["not_covered"])]
    return blocks
