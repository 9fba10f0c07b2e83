"""Framework mapping of one run: for each clause, which rules and records support it.

A rule relates to a clause in one of two ways, and the report says which: the policy author named
the clause in the rule's ``maps_to`` (``via: maps_to``), or the rule's check is one that produces
evidence for the clause (``via: check``, see ``Clause.checks``). A clause's status is
``failing`` when a related rule failed or errored at a binding gate, ``supported`` when a related
rule was evaluated, ``records`` when only trail records (no check) bear on it, else ``none``.
Evidence supporting a clause is not a statement of conformity; the ``not_covered`` text of every
clause says what remains for people.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from governance.report.frameworks import FRAMEWORKS, NOT_COVERED, RECORDS, Clause, clause_matches
from governance.vocabulary import STATUS_ORDER, status_blocks

# Worst first: the status shown for a rule evaluated at several gates (or variants).
_STATUS_RANK = STATUS_ORDER


def rule_statuses(gates: list[dict[str, Any]]) -> dict[str, str]:
    """The worst status each rule reached across binding gates (and variants).

    A variant that is not deployed has non-binding gates: its failures are evidence, not the
    run's outcome, so they count only for a rule that no binding gate evaluated.
    """
    binding = _worst(f for g in gates if g.get("binding", True) for f in g["findings"])
    other = _worst(f for g in gates if not g.get("binding", True) for f in g["findings"])
    return {**other, **binding}


def _worst(findings: Iterable[dict[str, Any]]) -> dict[str, str]:
    worst: dict[str, str] = {}
    for f in findings:
        rid, status = f.get("rule_id"), f.get("status")
        if status in _STATUS_RANK and (rid not in worst or _STATUS_RANK.index(status) < _STATUS_RANK.index(worst[rid])):
            worst[rid] = status
    return worst


def records_present(doc: dict[str, Any]) -> set[str]:
    """Which kinds of trail records (see ``frameworks.RECORDS``) this run has."""
    present = set()
    if doc["events"]:
        present.add("trail")
    if doc["policy"].get("sha256"):
        present.add("policy")
    if any(d.get("sha256") for d in doc["data"]["datasets"]) or (doc["system"].get("model") or {}).get("sha256"):
        present.add("lineage")
    if doc["data"].get("drift"):
        present.add("drift")
    if doc["privacy"] and doc["privacy"]["record"].get("dp"):
        present.add("privacy")
    meta = doc.get("metadata") or {}
    if meta.get("owner") or meta.get("intended_use"):
        present.add("model_card")
    for key, name in (("approvals", "approvals"), ("waivers", "waivers")):
        if doc.get(key):
            present.add(name)
    if doc.get("optimization"):
        present.add("variants")
    if doc["system"].get("registered"):
        present.add("registration")
    return present


def _clause_row(clause: Clause, rules: list[dict], statuses: dict[str, str], present: set[str]) -> dict:
    related = []
    for r in rules:
        refs = r.get("maps_to") or []
        if any(clause_matches(ref, clause.id) for ref in refs):
            via = "maps_to"
        elif clause.covers_check(str(r.get("check") or ""), r.get("stage")):
            via = "check"
        else:
            continue
        related.append({"id": r["id"], "check": r.get("check"), "via": via,
                        "status": statuses.get(r["id"], "not evaluated")})
    records = [{"name": n, "description": RECORDS[n]} for n in clause.records if n in present]
    evaluated = [x for x in related if x["status"] not in ("not evaluated", "skipped")]
    if any(status_blocks(x["status"]) or x["status"] == "inconclusive" for x in related):
        status = "failing"
    elif evaluated:
        status = "supported"
    elif records:
        status = "records"
    else:
        status = "none"
    return {"id": clause.id, "title": clause.title, "status": status, "rules": related,
            "records": records, "not_covered": clause.gap}


def framework_mapping(doc: dict[str, Any]) -> dict[str, Any]:
    """Coverage of every clause of every framework, plus ``maps_to`` references we do not know."""
    rules = doc["policy"]["rules"]
    statuses = rule_statuses(doc["gates"])
    present = records_present(doc)
    declared = set(doc["policy"].get("frameworks") or [])
    frameworks = [
        {"id": fw.id, "name": fw.name, "declared_by_policy": fw.id in declared,
         "clauses": [_clause_row(c, rules, statuses, present) for c in fw.clauses]}
        for fw in FRAMEWORKS
    ]
    known = [c.id for fw in FRAMEWORKS for c in fw.clauses]
    other: dict[str, list[str]] = {}
    for r in rules:
        for ref in r.get("maps_to") or []:
            if not any(clause_matches(ref, k) for k in known):
                other.setdefault(ref, []).append(r["id"])
    return {
        "frameworks": frameworks,
        "other_references": [{"ref": k, "rules": v} for k, v in sorted(other.items())],
        "not_covered": list(NOT_COVERED),
    }
