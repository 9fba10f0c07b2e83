"""The report's accountability section: who decided, with which key, under which roles; revocations;
the waivers applied, tallied.

Everything is read from the run's events (up to the report's ``upto_seq``) and the key
registrations recorded before them, with the rules of :mod:`governance.trail.accountability`,
so a report says what ``rai approve`` and the deploy gate would say about the same trail.
"""

from __future__ import annotations

from typing import Any

from governance.report.blocks import Block, Heading, Paragraph, Table
from governance.report.text import fmt_value
from governance.trail.accountability import Requirement, assess
from governance.trail.actor_keys import REGISTERED, KeyBook
from governance.trail.approval_signatures import check_decision, policy_keys


def accountability(rec: Any, waivers: list[dict[str, Any]], rules: list[dict[str, Any]]) -> dict[str, Any]:
    """The section's content (see :func:`oversight_blocks` for how it reads)."""
    started = rec.first("run.started") or {}
    policy = dict((started.get("payload") or {}).get("policy") or {})
    upto = rec.events[-1]["seq"] if rec.events else 0
    book = KeyBook([e for e in rec.trail.events(kind=REGISTERED) if e.seq <= upto]) if rec.trail is not None else KeyBook()
    keys = policy_keys(policy)
    decisions = []
    for e in rec.of_kind("approval.recorded"):
        p = e.get("payload") or {}
        status, key_id, problem = check_decision("approval.recorded", rec.run_id, e.get("actor"), p, e["seq"], book, keys)
        decisions.append({"seq": e["seq"], "time": e.get("time"), "actor": e.get("actor"), "role": p.get("role"),
                          "decision": p.get("decision"), "comment": p.get("comment"), "signature": status,
                          "key_id": key_id, "signature_problem": problem, "starter": e.get("actor") == started.get("actor")})
    req = Requirement.from_policy(policy)
    try:
        state = assess(req, decisions).to_dict()
    except ValueError as err:  # a decision rai never writes: said, not counted
        state = {"state": "unreadable", "problem": str(err), "roles": {}, "rejections": [], "ignored": [],
                 "invalid_signatures": [], "roles_defined": req.roles is not None,
                 "separation_of_duties": req.separation()}
    signed = sum(d["signature"] == "valid" for d in decisions)
    return {**state, "required": bool(req.required), "starter": started.get("actor"), "decisions": decisions,
            "signatures": {"signed": signed, "unsigned": sum(d["signature"] == "unsigned" for d in decisions),
                           "invalid": sum(d["signature"] == "invalid" for d in decisions)},
            "revocations": [_revocation(e) for e in rec.of_kind("model.revoked")],
            "waiver_tally": waiver_tally(waivers, rules, policy)}


def _revocation(e: dict[str, Any]) -> dict[str, Any]:
    p = e.get("payload") or {}
    return {"seq": e["seq"], "time": e.get("time"), "actor": e.get("actor"), "name": p.get("name"),
            "version": p.get("version"), "reason": p.get("reason"), "signed": bool(p.get("signature"))}


def waiver_tally(waivers: list[dict[str, Any]], rules: list[dict[str, Any]], policy: dict[str, Any]) -> dict[str, Any]:
    """Every waiver applied: rule, severity, who approved it, until when, and whether the policy's
    ``waiver_approvers`` checked who; with counts by severity."""
    severity = {r.get("id"): r.get("severity") for r in rules}
    checked = bool(policy.get("waiver_approvers"))
    rows = [{"rule": w.get("rule"), "severity": severity.get(w.get("rule")), "approved_by": w.get("approved_by"),
             "expires": w.get("expires"), "stage": w.get("stage"), "approver_checked": checked} for w in waivers]
    by_severity: dict[str, int] = {}
    for row in rows:
        by_severity[str(row["severity"])] = by_severity.get(str(row["severity"]), 0) + 1
    return {"count": len(rows), "by_severity": by_severity, "approvers_checked": checked, "rows": rows}


def with_accountability(v: dict[str, Any], acc: dict[str, Any]) -> dict[str, Any]:
    """``v`` led by a revocation or a rejection, when the trail records one (unchanged otherwise)."""
    if acc.get("revocations"):
        r = acc["revocations"][0]
        return {**v, "headline": f"REVOKED: {r['name']} version {r['version']} must not be served.",
                "explanation": [f"Revoked at {r['time']} by {r['actor']}: {r['reason']} (trail entry #{r['seq']}). "
                                "`rai serve` refuses it.", f"As recorded: {v['headline']}", *v["explanation"]]}
    if acc.get("state") == "rejected":
        r = acc["rejections"][0]
        return {**v, "headline": f"REJECTED by {r['actor']} ({r['role']}): this model must not be deployed.",
                "explanation": [f"Rejected at {r['time']} (trail entry #{r['seq']}): {r['why'] or 'no reason given'}. "
                                f"Final unless {r['actor']} withdraws the rejection with a reason.",
                                f"As recorded: {v['headline']}", *v["explanation"]]}
    return v


def statement(acc: dict[str, Any]) -> str:
    """One sentence on how far the decisions' identities are proven."""
    s, n = acc["signatures"], len(acc["decisions"])
    if not n:
        return "No human decision was recorded for this run."
    text = f"{s['signed']} of {n} decision(s) are signed by the deciding person's key and verify."
    if s["unsigned"]:
        text += (f" {s['unsigned']} are unsigned: the person had no registered key, so the identity rests on the "
                 "recorded actor name alone.")
    if s["invalid"]:
        text += f" {s['invalid']} have a signature that does NOT verify and do not count."
    return text


def oversight_blocks(acc: dict[str, Any]) -> list[Block]:
    """Roles, decisions with their signatures, separation of duties, revocations, the waiver tally."""
    out: list[Block] = [Heading(3, "Accountability")]
    for r in acc["revocations"]:
        out.append(Paragraph(f"REVOKED: {r['name']} v{r['version']} at {r['time']} by {r['actor']}: {r['reason']} "
                             f"(trail entry #{r['seq']}).", "alert"))
    tone = {"approved": "ok", "rejected": "alert"}.get(acc["state"], "note")
    out.append(Paragraph(f"Approval state: {acc['state']}." + ("" if acc["required"] else
                                                               " The policy requires no approval."), tone))
    out.append(Paragraph(statement(acc), "alert" if acc["signatures"]["invalid"] else "note"))
    if acc["roles"]:
        out.append(Table(["Role", "Members", "Needed", "Approved by", "Signed by", "Rejected by"], [
            [role, ", ".join(s["members"]) if s["members"] is not None else "anyone (no roles defined)",
             str(s["needed"]), ", ".join(s["approved_by"]) or "-", ", ".join(s["signed_by"]) or "-",
             ", ".join(s["rejected_by"]) or "-"] for role, s in acc["roles"].items()], caption="Roles"))
    sod = acc.get("separation_of_duties") or {}
    out.append(Paragraph(f"Separation of duties: one role per person {'on' if sod.get('one_role_per_person') else 'off'}; "
                         f"the person who started the run ({fmt_value(acc['starter'])}) "
                         f"{'may' if sod.get('starter_may_approve') else 'may not'} approve it."))
    for i in acc["ignored"] + acc["invalid_signatures"]:
        out.append(Paragraph(f"Not counted: #{i['seq']} {i['actor']} as {i['role']}: {i['why']}", "note"))
    tally = acc["waiver_tally"]
    if tally["count"]:
        counts = ", ".join(f"{n} {sev}" for sev, n in sorted(tally["by_severity"].items()))
        out.append(Table(["Rule", "Severity", "Approved by", "Until", "Stage"], [
            [fmt_value(w["rule"]), fmt_value(w["severity"]), fmt_value(w["approved_by"]), fmt_value(w["expires"]),
             fmt_value(w["stage"])] for w in tally["rows"]],
            caption=f"Waivers applied: {tally['count']} ({counts}); approvers "
                    + ("checked against the policy's waiver_approvers" if tally["approvers_checked"] else
                       "not checked (the policy names no waiver_approvers)")))
    else:
        out.append(Paragraph("Waivers applied: none."))
    return out
