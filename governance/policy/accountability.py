"""Roles and waiver approvers checked against the rules and waivers, and bound to approval rules.

Called by the loader for every file of an ``extends`` chain, on the policy merged so far:

* ``roles`` merge by name (a role of this file replaces the base's role of that name), and so
  do the severities of ``waiver_approvers``;
* every role an ``accountability.approvals`` rule requires must be defined, once the policy
  defines roles at all; a role's ``min_approvals`` cannot exceed its members; a member has one
  key whatever the role;
* ``waiver_approvers`` names defined roles; with it, every waiver must be approved by a member
  of a role named for the waived rule's severity: anyone else's waiver is refused here, at lint;
* each approval rule's validated parameters learn the policy's roles
  (``Approvals.Params.with_policy_roles``), so the check applies them wherever it runs.
"""

from __future__ import annotations

from typing import Any

from governance.errors import LocatedError
from governance.policy.roles import ROLE_MESSAGE, ROLE_PATTERN, roles_record
from governance.policy.schema import Policy
from governance.vocabulary import Severity, closest
from governance.yamlsafe import Document
from governance.yamlvalidate import describe_value

APPROVAL_CHECK = "accountability.approvals"
SEVERITIES = tuple(s.value for s in Severity)


def bind_accountability(doc: Document, merged: Policy, base: Policy | None, own: Policy) -> list[LocatedError]:
    """Merge the base's roles and waiver approvers into ``merged``, check them, bind approval rules."""
    if base is not None:
        merged.roles = {**base.roles, **own.roles}
        merged.waiver_approvers = {**base.waiver_approvers, **own.waiver_approvers}
    errors = _role_names(doc, own) + _role_sizes(doc, own) + _member_keys(doc, merged)
    approvers = _approver_roles(doc, merged, own)
    # Waivers are judged by the approvers once those name real roles (else that is the one problem).
    errors += _required_roles(doc, merged, own) + approvers + ([] if approvers else _waivers(doc, merged, own))
    if not errors:
        record = roles_record(merged.roles)
        for rule in merged.rules:
            if rule.check == APPROVAL_CHECK and rule.validated is not None:
                rule.validated = rule.validated.with_policy_roles(record)
    return errors


def _role_names(doc: Document, own: Policy) -> list[LocatedError]:
    return [doc.error(("roles", name), ROLE_MESSAGE.format(got=describe_value(name)), key=True)
            for name in own.roles if not ROLE_PATTERN.match(name)]


def _role_sizes(doc: Document, own: Policy) -> list[LocatedError]:
    errors = []
    for name, role in own.roles.items():
        if role.members and role.min_approvals > len(role.members):
            errors.append(doc.error(("roles", name, "min_approvals"),
                                    f"needs {role.min_approvals} approvals but {name} has {len(role.members)} "
                                    f"member(s); add members or lower min_approvals"))
    return errors


def _member_keys(doc: Document, merged: Policy) -> list[LocatedError]:
    """A person signs with one key: the same member listed with two keys is refused."""
    seen: dict[str, tuple[str, str]] = {}
    errors = []
    for name, role in merged.roles.items():
        for j, member in enumerate(role.members):
            if not member.key:
                continue
            first = seen.setdefault(member.name, (member.key, name))
            if first[0] != member.key:
                errors.append(doc.error(("roles", name, "members", j, "key"),
                                        f"{member.name} is listed with another key in role {first[1]}; a person "
                                        "signs with one key"))
    return errors


def _required_roles(doc: Document, merged: Policy, own: Policy) -> list[LocatedError]:
    """Roles required by approval rules exist, once the policy defines roles."""
    if not merged.roles:
        return []
    own_ids = {rule.id: i for i, rule in enumerate(own.rules)}
    errors = []
    for rule in merged.rules:
        if rule.check != APPROVAL_CHECK:
            continue
        for j, role in enumerate(rule.params.get("roles") or []):
            if isinstance(role, str) and role not in merged.roles:
                message = (f"rule '{rule.id}' requires role {role!r}, which the policy's roles do not define"
                           f"{closest(role, list(merged.roles))} (roles: {', '.join(merged.roles)})")
                errors.append(_at_rule(doc, own_ids, rule, ("params", "roles", j), message))
    return errors


def _at_rule(doc: Document, own_ids: dict[str, int], rule: Any, loc: tuple, message: str) -> LocatedError:
    """An error at a rule of this file, or, for an inherited rule, at the ``roles`` that fail it."""
    if rule.id in own_ids:
        return doc.error(("rules", own_ids[rule.id], *loc), message)
    return doc.error(("roles",), message, key=True)


def _approver_roles(doc: Document, merged: Policy, own: Policy) -> list[LocatedError]:
    errors = []
    for severity, roles in own.waiver_approvers.items():
        if severity not in SEVERITIES:
            errors.append(doc.error(("waiver_approvers", severity), f"unknown severity {severity!r}"
                                    f"{closest(severity, SEVERITIES)} (severities: {', '.join(SEVERITIES)})", key=True))
            continue
        for j, role in enumerate(roles):
            if role not in merged.roles:
                defined = f" (roles: {', '.join(merged.roles)})" if merged.roles else "; the policy defines no roles"
                errors.append(doc.error(("waiver_approvers", severity, j),
                                        f"names role {role!r}, which the policy's roles do not define"
                                        f"{closest(role, list(merged.roles))}{defined}"))
    return errors


def _waivers(doc: Document, merged: Policy, own: Policy) -> list[LocatedError]:
    """With ``waiver_approvers``, each waiver is approved by a member of a role named for its rule's severity."""
    if not merged.waiver_approvers:
        return []
    severity = {rule.id: rule.severity for rule in merged.rules}
    own_index = {id(w): k for k, w in enumerate(own.waivers)}
    errors = []
    for waiver in merged.waivers:
        sev = severity.get(waiver.rule)
        if sev is None:
            continue  # a waiver naming no rule is reported by the loader
        problem = waiver_approver_problem(merged, waiver.rule, sev, waiver.approved_by)
        if problem is None:
            continue
        if id(waiver) in own_index:
            errors.append(doc.error(("waivers", own_index[id(waiver)], "approved_by"), problem))
        else:  # a base's waiver that the roles or approvers of this file no longer allow
            errors.append(doc.error(("waiver_approvers",), f"inherited waiver of '{waiver.rule}': {problem}", key=True))
    return errors


def waiver_approver_problem(policy: Policy, rule_id: str, severity: Any, approved_by: str) -> str | None:
    """Why ``approved_by`` may not waive ``rule_id`` of ``severity`` under ``policy``, or ``None``."""
    roles = policy.waiver_approvers.get(severity.value)
    if not roles:
        listed = ", ".join(policy.waiver_approvers)
        return (f"no role may waive a {severity.value} rule: waiver_approvers names roles for {listed} only "
                f"(add waiver_approvers.{severity.value})")
    allowed = sorted({m for r in roles if r in policy.roles for m in policy.roles[r].member_names()})
    if approved_by in allowed:
        return None
    return (f"{approved_by!r} may not waive rule '{rule_id}' (severity {severity.value}): waivers of "
            f"{severity.value} rules are approved by members of {', '.join(roles)}"
            f"{closest(approved_by, allowed)} (members: {', '.join(allowed) or 'none'})")


def bind_recorded_roles(policy: Policy, rules: list[Any]) -> None:
    """Teach approval ``rules`` built outside the loader (from a policy recorded in the trail, or
    added at promotion) the roles of ``policy``, so the check applies them there too."""
    from governance.checks.base import get_check

    record = roles_record(policy.roles)
    for rule in rules:
        if rule.check == APPROVAL_CHECK:
            params = rule.validated if rule.validated is not None else get_check(APPROVAL_CHECK).Params(**rule.params)
            rule.validated = params.with_policy_roles(record)
