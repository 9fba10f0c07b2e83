"""Layout of the evidence sections: findings, privacy, optimization, oversight, trail, frameworks."""

from __future__ import annotations

from typing import Any

from governance.report.accountability import oversight_blocks as accountability_blocks
from governance.report.blocks import BarChart, Block, Bullets, Heading, KeyValues, Paragraph, Table
from governance.report.layout_intervals import (
    confidence_rows,
    has_intervals,
    inconclusive_paragraph,
    interval_charts,
    interval_table,
    observed_text,
)
from governance.report.readable import fmt_threshold, groups_in_order
from governance.report.text import (
    CLAUSE_STATUS_WORDS,
    STATUS_WORDS,
    chart_series,
    evidence_scalars,
    evidence_tables,
    fmt_bytes,
    fmt_interval,
    fmt_params,
    fmt_value,
    short_hash,
)
from governance.vocabulary import Decision, finding_blocks, gate_decision

_PRIVACY_FIELDS = ("dp", "epsilon", "epsilon_pld", "delta", "accountant", "l2_norm_clip", "noise_multiplier",
                   "sampling_rate", "steps", "epochs", "batch_size", "examples", "microbatches")


def evidence_blocks(evidence: Any) -> list[Block]:
    """Scalars of an evidence dict as key-values, then each of its tables (groups in numeric order)."""
    out: list[Block] = []
    intervals = has_intervals(evidence)
    rows = [(k, fmt_interval(None, v) if k.endswith("interval") else fmt_value(v))
            for k, v in evidence_scalars(evidence) if not (intervals and k == "confidence")]
    rows += confidence_rows(evidence) if intervals else []
    if rows:
        out.append(KeyValues(rows))
    for name, header, rows in evidence_tables(groups_in_order(evidence)):
        if name == "groups" and has_intervals(evidence):
            out.append(interval_table(evidence))
        else:
            out.append(Table(header, [[fmt_value(c) for c in row] for row in rows], caption=name))
    return out


def status_text(finding: dict[str, Any]) -> str:
    """``FAILED``, ``passed``, ...; an inconclusive finding also says whether it blocks."""
    status = finding.get("status")
    word = STATUS_WORDS.get(status, str(status))
    if status == "inconclusive":
        word += " (blocks)" if finding_blocks(finding) else " (warns)"
    return word


def _included(f: dict[str, Any], column: str) -> list[float]:
    """``column`` of the groups a fairness check compared (excluded small groups left out)."""
    rows = (f.get("evidence") or {}).get("groups") or []
    return [float(r[column]) for r in rows if isinstance(r, dict) and not r.get("excluded")
            and isinstance(r.get(column), (int, float)) and not isinstance(r.get(column), bool)]


def _finding_chart(f: dict[str, Any], params: dict[str, Any]) -> BarChart | None:
    series = chart_series({**f, "evidence": groups_in_order(f.get("evidence"))}, params.get("metric"))
    if series is None:
        return None
    column, bars = series
    check, threshold = str(f.get("check", "")), f.get("threshold")
    title = f"{f.get('rule_id')}: {column} by group" + (f" ({f['subject']})" if f.get("subject") else "")
    values = _included(f, column) or [v for _, v in bars]
    allowed = f"observed {fmt_value(f.get('observed'))}, allowed {fmt_threshold(threshold, params)}"
    numeric = isinstance(threshold, (int, float)) and not isinstance(threshold, bool)
    if check.endswith("_min") and numeric:  # a per-group minimum: every bar against the threshold
        return BarChart(title, bars, limit=threshold, limit_label="minimum allowed", limit_kind="min")
    if check.endswith("_ratio"):  # four-fifths rule: smallest over largest, so each bar against min x largest
        ratio = min(values) / max(values) if max(values) > 0 else None
        limit = threshold * max(values) if numeric and ratio is not None else None
        return BarChart(title, bars, limit=limit, limit_label=f"{fmt_value(threshold)} × the largest" if limit else "",
                        limit_kind="min", notes=[f"ratio (smallest ÷ largest) {fmt_value(ratio)}; {allowed}"])
    return BarChart(title, bars, notes=[f"gap (largest minus smallest) {fmt_value(max(values) - min(values))}; {allowed}"])


def findings_blocks(doc: dict[str, Any]) -> list[Block]:
    """Stage metrics, then each gate's findings and the evidence behind every finding."""
    out: list[Block] = [Heading(2, "5. Findings and evidence")]
    metric_rows = [[s["stage"] or "-", s["status"] or "-", fmt_params(s["metrics"]),
                    "\n".join(f"{a['name']} {short_hash(a['sha256'])}" for a in s["artifacts"]) or "-"]
                   for s in doc["stages"]]
    if metric_rows:
        out.append(Table(["Stage", "Status", "Metrics", "Artifacts (SHA-256 prefix)"], metric_rows, caption="Stages"))
    params = {r["id"]: r.get("params") or {} for r in doc["policy"]["rules"]}
    if not doc["gates"]:
        out.append(Paragraph("No gate decision was recorded for this run.", "alert"))
    for g in doc["gates"]:
        title = f"Gate {g['stage']}" + (f" ({g['subject']})" if g.get("subject") else "")
        out.append(Heading(3, f"{title}: {'BLOCKED' if gate_decision(g['decision']) == Decision.BLOCKED else g['decision']}"))
        if g.get("superseded_by"):
            out.append(Paragraph(f"Superseded: this gate was decided again at entry {g['superseded_by']}; only "
                                 "that later decision counts for the run.", "note"))
        elif not g.get("binding", True):
            out.append(Paragraph("Not binding: this variant is not the one deployed; its findings are evidence "
                                 "of how the conversion behaves.", "note"))
        out.append(Table(
            ["Rule", "Status", "Severity", "Observed", "Threshold", "Message"],
            [[f.get("rule_id"), status_text(f), fmt_value(f.get("severity")),
              observed_text(f), fmt_threshold(f.get("threshold"), params.get(f.get("rule_id"))),
              fmt_value(f.get("message"))]
             for f in g["findings"]], status_column=1))
        for f in g["findings"]:
            if not f.get("evidence"):
                continue
            out.append(Heading(4, f"Evidence for {f.get('rule_id')}"))
            if f.get("status") == "inconclusive":
                out.append(inconclusive_paragraph(f, params.get(f.get("rule_id"), {})))
            if has_intervals(f["evidence"]):
                out += interval_charts(f, params.get(f.get("rule_id"), {}))
            else:
                chart = _finding_chart(f, params.get(f.get("rule_id"), {}))
                out += [chart] if chart else []
            out += evidence_blocks(f["evidence"])
    return out


def _budget(doc: dict[str, Any]) -> float | None:
    limits = [r["params"].get("max_epsilon") for r in doc["policy"]["rules"] if r.get("check") == "privacy.epsilon_budget"]
    limits = [x for x in limits if isinstance(x, (int, float))]
    return min(limits) if limits else None


def privacy_blocks(doc: dict[str, Any]) -> list[Block]:
    out: list[Block] = [Heading(2, "6. Privacy")]
    p = doc.get("privacy")
    if not p:
        return out + [Paragraph("No privacy record was written for this run.", "note")]
    rec = p["record"]
    out.append(KeyValues([(k, fmt_value(rec[k], 6)) for k in _PRIVACY_FIELDS if k in rec]))
    eps, budget = rec.get("epsilon"), _budget(doc)
    if rec.get("dp") and isinstance(eps, (int, float)):
        bars = [("epsilon spent" + (f" ({rec.get('accountant')})" if rec.get("accountant") else ""), float(eps))]
        if isinstance(rec.get("epsilon_pld"), (int, float)):
            bars.append(("epsilon spent (pld)", float(rec["epsilon_pld"])))
        out.append(BarChart("Privacy budget", bars, limit=budget, limit_label="policy budget" if budget else ""))
    out += [Paragraph(par) for par in str(p["statement"]).split("\n\n") if par.strip()]
    return out


def optimization_blocks(doc: dict[str, Any]) -> list[Block]:
    out: list[Block] = [Heading(2, "7. Optimization: parent model against LiteRT variants")]
    o = doc.get("optimization")
    if not o:
        return out + [Paragraph("No LiteRT variant was produced in this run.", "note")]
    parent = o.get("parent") or {}
    rows = []
    if parent:
        rows.append(["parent", fmt_bytes(parent.get("size_bytes")), "1", fmt_value(parent.get("latency_ms")),
                     fmt_value(parent.get("accuracy")), "-", fmt_params(parent.get("group_gaps")), "-", "-"])
    for v in o["variants"]:
        ratio = _ratio(v.get("size_bytes"), parent.get("size_bytes"))
        drop = (v["accuracy"] - parent["accuracy"]) if _num(v.get("accuracy")) and _num(parent.get("accuracy")) else None
        rows.append([fmt_value(v["name"]), fmt_bytes(v.get("size_bytes")), ratio, fmt_value(v.get("latency_ms")),
                     fmt_value(v.get("accuracy")), fmt_value(drop), fmt_params(v.get("group_gaps")),
                     fmt_value(v.get("gate")), "yes" if v.get("deployed") else "no"])
    out.append(Table(["Model", "Size", "Size ratio", "Latency (ms)", "Accuracy", "Accuracy change",
                      "Group gaps", "Gate", "Deployed"], rows))
    return out


def _num(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def _ratio(a: Any, b: Any) -> str:
    return fmt_value(a / b, 3) if _num(a) and _num(b) and b else "-"


def oversight_blocks(doc: dict[str, Any]) -> list[Block]:
    out: list[Block] = [Heading(2, "8. Human oversight: approvals and waivers")]
    if doc["approvals"]:
        out.append(Table(["When", "Who", "Role", "Decision", "Comment"],
                         [[fmt_value(a["time"]), fmt_value(a["actor"]), fmt_value(a["role"]), fmt_value(a["decision"]),
                           fmt_value(a["comment"])] for a in doc["approvals"]], caption="Approvals"))
    else:
        out.append(Paragraph("No approval was recorded for this run.", "note"))
    if doc["waivers"]:
        out.append(Table(["Rule", "Stage", "Approved by", "Reason", "Expires", "Applied"],
                         [[fmt_value(w["rule"]), fmt_value(w["stage"]) + (f" ({w['subject']})" if w.get("subject") else ""),
                           fmt_value(w["approved_by"]), fmt_value(w["reason"]),
                           fmt_value(w["expires"]), fmt_value(w["applied_at"])] for w in doc["waivers"]], caption="Waivers applied"))
    else:
        out.append(Paragraph("No waiver was applied in this run."))
    if doc.get("accountability"):
        out += accountability_blocks(doc["accountability"])
    return out


def trail_blocks(doc: dict[str, Any]) -> list[Block]:
    t = doc["trail"]
    cp, ver = t.get("checkpoint") or {}, t.get("verification") or {}
    out: list[Block] = [Heading(2, "9. Audit trail"), KeyValues([
        ("Checkpoint size (entries)", fmt_value(cp.get("tree_size"))), ("Merkle root", fmt_value(cp.get("root_hash"))),
        ("Head hash", fmt_value(cp.get("head_hash"))), ("Signed at", fmt_value(cp.get("time"))),
        ("Key id", fmt_value(cp.get("key_id"))), ("Signature", fmt_value(cp.get("signature"))),
    ])]
    if ver.get("ok"):
        out.append(Paragraph("Verified when this report was generated: the hash chain, the Merkle root of the "
                             f"first {fmt_value(cp.get('tree_size'))} entries and the checkpoint's signature are intact.", "ok"))
    else:
        out.append(Paragraph("The trail did NOT verify when this report was generated: "
                             + ("; ".join(ver.get("problems") or []) or "no checkpoint to verify against") + ".", "alert"))
    out.append(Table(["Seq", "Time", "Event", "Actor", "Entry hash"],
                     [[str(e["seq"]), fmt_value(e["time"]), e["kind"], fmt_value(e["actor"]), short_hash(e["entry_hash"], 16)]
                      for e in doc["events"]], caption=f"The run's {len(doc['events'])} trail entries"))
    return out


def framework_blocks(doc: dict[str, Any]) -> list[Block]:
    fm = doc["frameworks"]
    out: list[Block] = [Heading(2, "10. Framework mapping"), Paragraph(
        "Which rules and records of this run bear on each clause: 'checked' means a rule related to the "
        "clause was evaluated (its result is shown beside it), 'records only' that the trail holds "
        "relevant records but no check tested them. Neither is a statement of conformity; the last "
        "column says what automated evidence does not show.", "note")]
    for fw in fm["frameworks"]:
        declared = "" if fw["declared_by_policy"] else " (not declared by the policy)"
        out.append(Heading(3, fw["name"] + declared))
        out.append(Table(["Clause", "Status", "Rules", "Records", "Not covered"], [
            [c["title"], CLAUSE_STATUS_WORDS[c["status"]],
             "; ".join(f"{r['id']} ({r['via']}, {r['status']})" for r in c["rules"]) or "-",
             ", ".join(r["name"] for r in c["records"]) or "-", c["not_covered"] or "-"]
            for c in fw["clauses"]]))
    if fm["other_references"]:
        out.append(Paragraph("Clause references in the policy that these tables do not list: " + "; ".join(
            f"{o['ref']} ({', '.join(o['rules'])})" for o in fm["other_references"]) + "."))
    out.append(Heading(2, "11. What automated evidence does not cover"))
    out.append(Bullets(list(fm["not_covered"])))
    return out

