"""Layout of the compliance report: the document's sections as blocks, verdict first.

Section order follows the questions a reviewer asks: did it pass (and if not, why), what ran,
on which model and data, under which policy, with what evidence, and which clauses that evidence
speaks to. Findings, privacy, optimization and the trail are laid out in
:mod:`governance.report.layout_evidence`.
"""

from __future__ import annotations

from typing import Any

from governance.report import layout_evidence as E
from governance.report.blocks import Block, Heading, KeyValues, Paragraph, Table
from governance.report.layout_evidence import evidence_blocks
from governance.report.readable import in_numeric_order
from governance.report.text import fmt_bytes, fmt_params, fmt_value
from governance.report.verdict import trusted, with_integrity

_TONE = {"passed": "ok", "blocked": "alert", "failed": "alert"}


def report_blocks(doc: dict[str, Any]) -> list[Block]:
    """Every block of the report of ``doc`` (a ``ReportDocument.to_dict()``), in order."""
    blocks: list[Block] = [Heading(1, f"Compliance report: run {doc['run']['run_id']}")]
    blocks += verdict_blocks(doc)
    for part in (run_blocks, system_blocks, data_blocks, policy_blocks, E.findings_blocks,
                 E.privacy_blocks, E.optimization_blocks, E.oversight_blocks, E.trail_blocks,
                 E.framework_blocks):
        blocks += part(doc)
    return blocks


def verdict_blocks(doc: dict[str, Any]) -> list[Block]:
    """The decision in plain words, then the run at a glance."""
    v = doc["verdict"]
    if trusted(doc["trail"]):
        tone = _TONE.get(v["decision"], "note")
        out: list[Block] = [Paragraph(v["headline"], tone)]
        out += [Paragraph(line, tone if v["decision"] == "blocked" else "") for line in v["explanation"]]
    else:  # the warning first, in red, whatever the trail says was decided
        v = with_integrity(v, doc["trail"])
        out = [Paragraph(v["headline"], "alert"), Paragraph(v["explanation"][0], "alert")]
        out += [Paragraph(line) for line in v["explanation"][1:]]
    pol, cp = doc["policy"], doc["trail"].get("checkpoint") or {}
    verified = doc["trail"].get("verification") or {}
    out.append(KeyValues([
        ("Run", doc["run"]["run_id"]),
        ("Pipeline", fmt_value(doc["run"].get("pipeline"))),
        ("System", fmt_value(doc["system"].get("name"))),
        ("Decision", v["decision"]),
        ("Policy", f"{fmt_value(pol.get('name'))} {fmt_value(pol.get('version'))} (sha256 {fmt_value(pol.get('sha256'))})"),
        ("Trail", f"checkpoint of {fmt_value(cp.get('tree_size'))} entries, "
                  + ("verified" if verified.get("ok") else "NOT verified")),
        ("Generated", f"{doc['generated']['at']} by rai {doc['generated']['tool_version']}"),
    ]))
    return out


def run_blocks(doc: dict[str, Any]) -> list[Block]:
    r = doc["run"]
    out: list[Block] = [Heading(2, "1. Run identity"), KeyValues([
        ("Run id", r["run_id"]), ("Pipeline", fmt_value(r.get("pipeline"))),
        ("Started", fmt_value(r.get("started_at"))), ("Finished", fmt_value(r.get("finished_at"))),
        ("Actor", fmt_value(r.get("actor"))), ("Code revision", fmt_value(r.get("code_revision"))),
        ("Pipeline spec sha256", fmt_value(r.get("spec_hash"))),
    ])]
    if r.get("versions"):
        out.append(Table(["Component", "Version"], [[k, fmt_value(v)] for k, v in sorted(r["versions"].items())],
                         caption="Tool and library versions"))
    cfg = r.get("configuration") or {}
    rows = [(k, fmt_value(v)) for k, v in cfg.items() if v]
    if rows:
        out.append(Paragraph("Configuration (from the pipeline spec):"))
        out.append(KeyValues(rows))
    return out


def system_blocks(doc: dict[str, Any]) -> list[Block]:
    s = doc["system"]
    out: list[Block] = [Heading(2, "2. System and model"),
                        KeyValues([("System", fmt_value(s.get("name"))), ("Pipeline", fmt_value(s.get("pipeline")))])]
    arts = ([("model", s["model"])] if s.get("model") else []) + [("LiteRT variant", v) for v in s.get("variants") or []]
    if arts:
        out.append(Table(["Role", "Name", "SHA-256", "Size"],
                         [[role, fmt_value(a.get("name")), fmt_value(a.get("sha256")), fmt_bytes(a.get("size_bytes"))]
                          for role, a in arts], caption="Model files"))
    for label, entry in (("Registered", s.get("registered")), ("Deployed", s.get("deployed"))):
        if entry:
            out.append(Paragraph(f"{label}:"))
            out.append(KeyValues([(k, fmt_value(v)) for k, v in entry.items()]))
    if not s.get("registered"):
        out.append(Paragraph("No model of this run was registered.", "note"))
    meta = doc.get("metadata") or {}
    if meta:
        out.append(Paragraph("Model-card metadata supplied by people:"))
        out.append(KeyValues([(k.replace("_", " "), fmt_value(v)) for k, v in meta.items() if v not in (None, [], "")]))
    return out


def data_blocks(doc: dict[str, Any]) -> list[Block]:
    d = doc["data"]
    out: list[Block] = [Heading(2, "3. Data lineage")]
    if d["datasets"]:
        out.append(Table(["Dataset", "SHA-256 (as stored)", "Source file SHA-256", "Rows", "Columns"],
                         [[x["name"], fmt_value(x.get("sha256")), fmt_value(x.get("source_sha256")), fmt_value(x.get("rows")),
                           fmt_value(x.get("columns"))] for x in d["datasets"]], caption="Datasets"))
    else:
        out.append(Paragraph("No dataset hashes were recorded for this run.", "alert"))
    if d.get("profile"):
        out.append(Heading(3, "Profile"))
        out += profile_blocks(d["profile"], d.get("predicted"))
    out.append(Heading(3, "Train versus test drift"))
    out += evidence_blocks(d["drift"]) if d.get("drift") else [Paragraph("No drift table was recorded.", "note")]
    return out


PREDICTED = "predicted (evaluate)"
_SPLIT_ORDER = {"train": 0, "test": 1}


def profile_blocks(profile: Any, predicted: dict[str, Any] | None = None) -> list[Block]:
    """Rows, labels (and the evaluate stage's predictions), missing values and group sizes per
    split, when the profile has them."""
    if not (isinstance(profile, dict) and isinstance(profile.get("rows"), dict)):
        return evidence_blocks(profile)
    # The trail keeps keys sorted ("test" before "train"): the training split is read first.
    splits = sorted(profile["rows"], key=lambda name: _SPLIT_ORDER.get(name, len(_SPLIT_ORDER)))
    balance = profile.get("label_balance") or {}
    entries = [(name, profile["rows"][name], balance.get(name) or {}) for name in splits]
    if predicted:
        entries.append((PREDICTED, predicted.get("rows"), predicted.get("balance") or {}))
    out: list[Block] = [labels_table(entries)]
    missing = profile.get("missing") or {}
    columns = sorted({c for split in missing.values() for c in (split or {})})
    if columns:
        out.append(Table(["Column"] + splits, [[c] + [fmt_value((missing.get(s) or {}).get(c, 0)) for s in splits]
                                               for c in columns], caption="Missing values"))
    for feature, counts in (profile.get("groups") or {}).items():
        groups = in_numeric_order(list(dict.fromkeys(g for split in counts.values() for g in (split or {}))), str)
        out.append(Table([feature] + splits, [[g] + [fmt_value((counts.get(s) or {}).get(g, 0)) for s in splits]
                                              for g in groups], caption=f"Group sizes by {feature}"))
    return out


def labels_table(entries: list[tuple[str, Any, dict[str, Any]]]) -> Table:
    """``(split, rows, balance)`` as the task reads best: binary, positives and their rate;
    multiclass, rows and share per class; regression, the target's mean, spread and range."""
    if any("classes" in b for _, _, b in entries):
        classes = list(dict.fromkeys(c for _, _, b in entries for c in b.get("classes") or {}))
        rows = [["rows", *(fmt_value(n) for _, n, _ in entries)]]
        for label in classes:
            rows.append([label, *(_share((b.get("classes") or {}).get(label), b.get("classes")) for _, _, b in entries)])
        return Table(["Class", *(name for name, _, _ in entries)], rows, caption="Rows and labels")
    if any("mean" in b for _, _, b in entries):
        return Table(["Split", "Rows", "Mean", "Std", "Min", "Max"],
                     [[name, fmt_value(n), *(fmt_value(b.get(k)) for k in ("mean", "std", "min", "max"))]
                      for name, n, b in entries], caption="Rows and labels")
    return Table(["Split", "Rows", "Positive labels", "Positive rate"],
                 [[name, fmt_value(n), fmt_value(b.get("positive")), fmt_value(b.get("positive_rate"))]
                  for name, n, b in entries], caption="Rows and labels")


def _share(count: Any, counts: Any) -> str:
    """``2428 (24.3%)``: a class's rows and its share of the split."""
    total = sum(v for v in counts.values() if isinstance(v, int)) if isinstance(counts, dict) else 0
    if not isinstance(count, int) or isinstance(count, bool):
        return "-"
    return f"{count} ({count / total:.1%})" if total else str(count)


def policy_blocks(doc: dict[str, Any]) -> list[Block]:
    p = doc["policy"]
    out: list[Block] = [Heading(2, "4. Policy in force"), KeyValues([
        ("Name", fmt_value(p.get("name"))), ("Version", fmt_value(p.get("version"))),
        ("SHA-256", fmt_value(p.get("sha256"))), ("Source", fmt_value(p.get("source"))),
        ("Owner", fmt_value(p.get("owner"))), ("Blocks from severity", fmt_value(p.get("fail_on"))),
        ("Frameworks", ", ".join(p.get("frameworks") or []) or "-"),
    ])]
    if p.get("rules_from") == "findings":
        out.append(Paragraph("The trail records only the policy's identity; the rules below are those "
                             "that produced findings, with the threshold each one reported.", "note"))
    out.append(Table(
        ["Rule", "Stage", "Check", "Severity", "Parameters in force", "Maps to"],
        [[r["id"], fmt_value(r.get("stage")), fmt_value(r.get("check")), fmt_value(r.get("severity")),
          fmt_params(r.get("params")), ", ".join(r.get("maps_to") or []) or "-"] for r in p["rules"]],
        caption=f"{len(p['rules'])} rules"))
    if p.get("waivers"):
        out.append(Table(["Rule", "Reason", "Approved by", "Expires"],
                         [[fmt_value(w.get("rule")), fmt_value(w.get("reason")), fmt_value(w.get("approved_by")),
                           fmt_value(w.get("expires"))] for w in p["waivers"]], caption="Waivers declared in the policy"))
    return out
