"""Who may decide on a run, and where its decisions stand.

One owner for the rules every reader and writer of decisions applies (``rai approve``, the
dashboard, the ``accountability.approvals`` check, reports):

* **roles**: when the policy defines ``roles``, a decision counts only for a role it defines and
  by one of that role's members; without ``roles`` (older policies) anyone may decide, for the
  roles the policy's approval rules require;
* **separation of duties** (on by default, set per rule): one person decides for one role per
  run (``one_role_per_person``), and the person who started the run does not approve it
  (``starter_may_approve``);
* **end states**: a run is ``rejected`` once a member of a required role rejects it; that is
  final unless the same person withdraws the rejection with a reason. Otherwise it is
  ``approved`` when every required role has its approvals, and ``pending`` until then.

Decisions are plain dicts as :func:`governance.trail.approvals.approvals_for` returns them;
roles are the recorded form ``{role: {members, min_approvals, keys}}`` (a recorded policy's
``roles``, whose members may also be ``{name, key}``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from governance.vocabulary import closest

APPROVAL_CHECK = "accountability.approvals"
DECISIONS = ("approve", "reject", "withdraw")
APPROVED, PENDING, REJECTED = "approved", "pending", "rejected"


@dataclass(frozen=True)
class Requirement:
    """What a run's decisions must show.

    Attributes
    ----------
    roles : ``{role: {"members": [...], "min_approvals": n, "keys": {...}}}``, or ``None`` when
        the policy defines no roles
    required : ``{role: approvals needed}`` for the roles the approval rules require
    one_role_per_person, starter_may_approve : the separation-of-duties settings
    """

    roles: dict[str, dict[str, Any]] | None
    required: dict[str, int]
    one_role_per_person: bool = True
    starter_may_approve: bool = False

    @classmethod
    def for_rule(cls, roles: dict[str, Any] | None, rule_roles: list[str], min_approvals: int,
                 one_role_per_person: bool = True, starter_may_approve: bool = False) -> Requirement:
        """The requirement of one ``accountability.approvals`` rule."""
        roles = normalize_roles(roles)
        required = {r: max(min_approvals, int(((roles or {}).get(r) or {}).get("min_approvals", 1))) for r in rule_roles}
        return cls(roles, required, one_role_per_person, starter_may_approve)

    @classmethod
    def from_policy(cls, policy: dict[str, Any] | None) -> Requirement:
        """The requirement of every deploy approval rule of a recorded policy together (the strictest)."""
        policy = policy or {}
        roles = normalize_roles(policy.get("roles"))
        rules = [r for r in policy.get("rules") or [] if isinstance(r, dict) and r.get("check") == APPROVAL_CHECK]
        required: dict[str, int] = {}
        for rule in rules:
            p = rule.get("params") or {}
            one = cls.for_rule(roles, list(p.get("roles") or []), int(p.get("min_approvals", 1)))
            for role, n in one.required.items():
                required[role] = max(required.get(role, 0), n)
        params = [r.get("params") or {} for r in rules]
        return cls(roles, required, any(p.get("one_role_per_person", True) for p in params) or not params,
                   bool(params) and all(p.get("starter_may_approve", False) for p in params))

    def separation(self) -> dict[str, bool]:
        return {"one_role_per_person": self.one_role_per_person, "starter_may_approve": self.starter_may_approve}


def normalize_roles(roles: Any) -> dict[str, dict[str, Any]] | None:
    """Recorded roles in one shape: members as names, keys by member; ``None`` for no roles."""
    if not isinstance(roles, dict) or not roles:
        return None
    out = {}
    for name, role in roles.items():
        role = role if isinstance(role, dict) else {}
        members, keys = [], dict(role.get("keys") or {})
        for m in role.get("members") or []:
            if isinstance(m, dict):
                members.append(str(m.get("name")))
                if m.get("key"):
                    keys[str(m.get("name"))] = m["key"]
            else:
                members.append(str(m))
        out[str(name)] = {"members": members, "min_approvals": int(role.get("min_approvals") or 1), "keys": keys}
    return out


@dataclass
class Assessment:
    """Where a run's decisions stand (see the module docstring)."""

    state: str
    roles: dict[str, dict[str, Any]]
    rejections: list[dict[str, Any]] = field(default_factory=list)
    ignored: list[dict[str, Any]] = field(default_factory=list)
    invalid: list[dict[str, Any]] = field(default_factory=list)
    decided_for: dict[str, str] = field(default_factory=dict)
    requirement: Requirement | None = None

    def missing(self) -> list[str]:
        """``["compliance has 0 of 1 approvals", "model-risk rejected by bob"]``: what stands in the way."""
        out = []
        for role, s in self.roles.items():
            if s["rejected_by"]:
                out.append(f"{role} rejected by {', '.join(s['rejected_by'])}")
            elif len(s["approved_by"]) < s["needed"]:
                out.append(f"{role} has {len(s['approved_by'])} of {s['needed']} approvals")
        if not self.requirement or not self.requirement.required:
            out += [f"rejected by {r['actor']} ({r['role']})" for r in self.rejections]
        return out

    def to_dict(self) -> dict[str, Any]:
        req = self.requirement
        return {"state": self.state, "roles": self.roles, "rejections": self.rejections, "ignored": self.ignored,
                "invalid_signatures": self.invalid, "roles_defined": bool(req and req.roles is not None),
                "separation_of_duties": req.separation() if req else None}


def why_not_counted(req: Requirement, decision: dict[str, Any], decided_for: dict[str, str]) -> str | None:
    """Why a decision does not count (the same words refuse it at ``rai approve``), or ``None``."""
    actor, role, kind = decision.get("actor"), decision.get("role"), decision.get("decision")
    if req.roles is not None:
        if role not in req.roles:
            return (f"role {role!r} is not defined by the policy{closest(str(role), list(req.roles))} "
                    f"(roles: {', '.join(req.roles)})")
        members = req.roles[role]["members"]
        if actor not in members:
            if not members:
                return f"{role} has no members yet: name them in the policy's roles.{role}.members"
            return f"{actor} is not a member of {role}{closest(str(actor), members)} (members: {', '.join(members)})"
    elif req.required and role not in req.required and closest(str(role), list(req.required)):
        # Without roles any name goes (an older policy, a role asked for at promotion); a near miss
        # of a required role is a typo, never a new role.
        return (f"the policy requires no {role!r} approval{closest(str(role), list(req.required))} "
                f"(required roles: {', '.join(req.required)})")
    earlier = decided_for.get(actor)
    if req.one_role_per_person and earlier is not None and earlier != role:
        return f"{actor} already decided for {earlier} in this run (separation of duties: one role per person)"
    if kind == "approve" and decision.get("starter") and not req.starter_may_approve:
        return f"{actor} started this run and may not approve it (separation of duties)"
    return None


def assess(req: Requirement, decisions: list[dict[str, Any]]) -> Assessment:
    """Where ``decisions`` (in recorded order) leave a run under ``req``.

    Raises
    ------
    ValueError
        a decision without an actor or with an unknown decision
    """
    approvers: dict[str, list[str]] = {r: [] for r in req.required}
    signed: dict[str, list[str]] = {r: [] for r in req.required}
    active: list[dict[str, Any]] = []
    out = Assessment(PENDING, {}, requirement=req)
    for i, d in enumerate(decisions):
        actor, role, kind = str(d.get("actor") or "").strip(), d.get("role"), d.get("decision")
        if kind not in DECISIONS or not actor:
            raise ValueError(f"approvals[{i}]: needs an actor and a decision in {'|'.join(DECISIONS)}, "
                             f"got actor={d.get('actor')!r}, decision={kind!r}")
        if d.get("signature") == "invalid":
            out.invalid.append(_brief(d, d.get("signature_problem") or "signature does not verify"))
            continue
        if kind == "withdraw":
            active = [r for r in active if not (r["actor"] == actor and r["role"] == role)]
            continue
        why = why_not_counted(req, {**d, "actor": actor}, out.decided_for)
        if why:
            if role in req.required or not req.required:  # a decision for another rule's role is not news here
                out.ignored.append(_brief(d, why))
            continue
        out.decided_for.setdefault(actor, role)
        if kind == "reject":
            active.append(_brief(d, d.get("comment") or ""))
        elif role in approvers and actor not in approvers[role]:
            approvers[role].append(actor)
            if d.get("signature") == "valid":
                signed[role].append(actor)
    out.rejections = active
    _settle(out, req, approvers, signed)
    return out


def _settle(out: Assessment, req: Requirement, approvers: dict[str, list[str]], signed: dict[str, list[str]]) -> None:
    """Each required role's tally, and the run's state from them."""
    for role, needed in req.required.items():
        members = (req.roles or {}).get(role, {}).get("members")
        rejected = sorted({r["actor"] for r in out.rejections if r["role"] == role})
        out.roles[role] = {"needed": needed, "members": members, "approved_by": approvers[role],
                           "signed_by": signed[role], "rejected_by": rejected}
    # Nothing required (an older policy): any counted rejection stands for the run.
    if any(r["role"] in req.required or not req.required for r in out.rejections):
        out.state = REJECTED
    elif all(len(s["approved_by"]) >= s["needed"] for s in out.roles.values()):
        out.state = APPROVED


def _brief(d: dict[str, Any], why: str) -> dict[str, Any]:
    return {"seq": d.get("seq"), "actor": d.get("actor"), "role": d.get("role"), "decision": d.get("decision"),
            "time": d.get("time"), "why": why}
