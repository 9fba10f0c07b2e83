"""The verdict: what happened to the run, in plain words, before any table.

A reader who stops after the first paragraph of a report must know whether the run passed and,
if not, which rule stopped it, what was measured, what was required, and what did not happen as
a consequence (later stages, registration).

Two things come before the decision itself. When the trail did not verify, the verdict says
first that the report cannot be trusted (:func:`with_integrity`): the records it repeats may have
been edited. And a gate decided more than once in a run (the deploy gate of a run resumed after
an approval) counts by its last decision only; the earlier one is superseded (see
:func:`governance.report.sections.gates`), and the verdict says so.
"""

from __future__ import annotations

from typing import Any

from governance.report.layout_intervals import observed_text
from governance.report.readable import fmt_threshold
from governance.report.text import fmt_value
from governance.vocabulary import Decision, finding_blocks, gate_decision

UNTRUSTED = "TRAIL NOT VERIFIED: this report cannot be trusted."


def _finding_sentence(f: dict[str, Any], params: dict[str, dict[str, Any]]) -> str:
    rule = f"Rule '{f.get('rule_id')}' ({f.get('check')}, severity {f.get('severity')})"
    where = f" for {f['subject']}" if f.get("subject") else ""
    if f.get("status") == "error":
        return (f"{rule} could not be evaluated{where}: {f.get('message')}. A check that cannot run "
                "blocks; it never passes.")
    numbers = ""
    if f.get("observed") is not None or f.get("threshold") is not None:
        required = fmt_threshold(f.get("threshold"), params.get(f.get("rule_id")))
        numbers = f" Measured {observed_text(f)}; the policy requires {required}."
    message = str(f.get("message") or "").rstrip(".")
    if f.get("status") == "inconclusive":  # not a failure: the interval neither clears nor breaks the bound
        return f"{rule} was inconclusive{where}: {message}.{numbers} Under this policy an inconclusive result blocks."
    return f"{rule} failed{where}: {message}.{numbers}"


def _blocked(g: dict[str, Any]) -> bool:
    return gate_decision(g.get("decision")) == Decision.BLOCKED


def blocking_findings(gates: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The findings that made a binding gate block, in trail order (superseded gates do not bind)."""
    return [f for g in gates if _blocked(g) and g.get("binding", True)
            for f in g["findings"] if finding_blocks(f)]


def _counts(gates: list[dict[str, Any]]) -> str:
    gates = [g for g in gates if g.get("binding", True)]
    findings = [f for g in gates for f in g["findings"]]
    counts: dict[str, int] = {}
    for f in findings:
        counts[f.get("status")] = counts.get(f.get("status"), 0) + 1
    parts = [f"{counts[s]} {s}" for s in ("passed", "warning", "waived", "skipped", "inconclusive", "failed", "error") if counts.get(s)]
    return f"{len(gates)} binding gate decisions with {len(findings)} rule results ({', '.join(parts) or 'none'})"


def _decision(g: dict[str, Any]) -> str:
    known = gate_decision(g.get("decision"))
    return known.value if known else fmt_value(g.get("decision"))


def _rule_list(g: dict[str, Any]) -> str:
    return ", ".join(f"'{f.get('rule_id')}'" for f in g["findings"] if finding_blocks(f))


def _non_binding(gates: list[dict[str, Any]]) -> list[str]:
    """Failures at gates of variants that were not deployed: evidence, not the run's outcome."""
    return [f"Variant {g['subject']} was not deployed; its gate would have blocked on {_rule_list(g)}"
            " (see the optimization section)."
            for g in gates if not g.get("binding", True) and not g.get("superseded_by") and _blocked(g)]


def _superseded(gates: list[dict[str, Any]]) -> list[str]:
    """Gates decided again later in the run: only their last decision counts."""
    by_seq = {g["seq"]: g for g in gates}
    out = []
    for g in gates:
        later = by_seq.get(g.get("superseded_by"))
        if later is None:
            continue
        name = f"{g['stage']} gate" + (f" ({g['subject']})" if g.get("subject") else "")
        why = f" on {_rule_list(g)}" if _blocked(g) and _rule_list(g) else ""
        out.append(f"The {name} was decided again at entry {later['seq']} ({_decision(later)}); "
                   f"its earlier decision at entry {g['seq']} ({_decision(g)}{why}) is superseded "
                   "and not counted above.")
    return out


def verdict(run_finished: dict[str, Any] | None, gates: list[dict[str, Any]], system: dict[str, Any],
            last_event: dict[str, Any] | None, rules: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """``{"decision", "headline", "explanation": [sentences], "blocked_at", "blocking"}``.

    ``rules`` (the policy's, with their ``params``) give a bare-number threshold its direction.
    """
    fin = run_finished or {}
    params = {r.get("id"): r.get("params") or {} for r in rules or []}
    blocking = blocking_findings(gates)
    decision = fin.get("decision") or ("blocked" if blocking else "incomplete")
    blocked_at = fin.get("blocked_at") or next(
        (g["stage"] for g in gates if _blocked(g) and g.get("binding", True)), None)
    reasons = [str(r) for r in fin.get("reasons") or []]
    reg = system.get("registered")
    lines: list[str]
    if decision == "blocked":
        headline = f"BLOCKED at the {blocked_at or 'unknown'} gate: this model must not be deployed."
        lines = [_finding_sentence(f, params) for f in blocking] or reasons
        if blocked_at == "deploy":  # the last gate: nothing comes after it but the registration
            lines.append("The model was not deployed." if not reg else "A model was registered before the block.")
        else:
            lines.append(f"Stages after {blocked_at or 'the blocking gate'} did not run"
                         + ("." if reg else ", and no model was registered."))
    elif decision == "passed" and not any(g.get("binding", True) for g in gates):
        headline = "RECORDED, NOT CHECKED: no policy rule was evaluated in this run."
        lines = reasons or ["The run recorded evidence without a policy; nothing was gated."]
    elif decision == "passed":
        headline = "PASSED: every binding gate passed (a failed rule, if any, was waived)."
        lines = [f"The run recorded {_counts(gates)}."]
        if reg:
            lines.append(f"Model '{reg.get('name')}' version {reg.get('version')} was registered"
                         + (f" (variant {reg['variant']})." if reg.get("variant") else "."))
        lines += _non_binding(gates)
    elif decision == "awaiting_approval":
        headline = "WAITING FOR APPROVAL: the automated gates passed, a required human approval is missing."
        lines = reasons or ["Record the approval with `rai approve` and resume the run."]
    elif decision == "failed":
        headline = f"FAILED{' at ' + blocked_at if blocked_at else ''}: the run stopped on an error, not on a policy decision."
        lines = reasons or ["The trail records no reason."]
    else:
        headline = "INCOMPLETE: the run has no final record; it is still running or was interrupted."
        last = last_event or {}
        lines = [f"The last recorded event is {last.get('kind')} at {last.get('time')} (seq {last.get('seq')})."]
    lines += _superseded(gates)
    warnings = [f for g in gates if g.get("binding", True) for f in g["findings"] if f.get("status") == "warning"]
    if warnings and decision != "blocked":
        lines.append("Warnings (reported, not blocking): " + "; ".join(
            f"'{f.get('rule_id')}' measured {fmt_value(f.get('observed'))}, the policy requires "
            f"{fmt_threshold(f.get('threshold'), params.get(f.get('rule_id')))}"
            for f in warnings) + ".")
    return {"decision": decision, "headline": headline, "explanation": lines,
            "blocked_at": blocked_at, "blocking": blocking}


def trusted(trail: dict[str, Any] | None) -> bool:
    """Whether the report's trail section says the trail verified against its checkpoint."""
    return bool(((trail or {}).get("verification") or {}).get("ok"))


def with_integrity(v: dict[str, Any], trail: dict[str, Any] | None) -> dict[str, Any]:
    """``v`` led by the integrity warning when the trail did not verify (unchanged when it did).

    The decision stays as recorded (it is what the trail says), but the headline says first that
    it cannot be trusted and why; the recorded headline follows, marked as unverified.
    """
    if trusted(trail) or v.get("headline") == UNTRUSTED:
        return v
    problems = ((trail or {}).get("verification") or {}).get("problems") or ["no checkpoint to verify against"]
    return {**v, "headline": UNTRUSTED, "explanation": [
        "The audit trail did not verify when this report was generated: " + "; ".join(problems) + ". "
        "Its records may have been edited, so the decision below is only what the trail says now.",
        f"As recorded (unverified): {v['headline']}",
        *v["explanation"]]}
