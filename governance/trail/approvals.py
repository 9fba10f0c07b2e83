"""Human decisions on a run, recorded in the trail (``approval.recorded``) and read back.

The CLI (``rai approve``), the pipeline, ``rai.start_run`` runs and the dashboard all go
through these functions, so a decision is admitted, recorded and read the same way wherever it
is made. What may be decided, by whom, and where a run stands is
:mod:`governance.trail.accountability`'s; signatures are
:mod:`governance.trail.approval_signatures`'; revocation is :mod:`governance.trail.revocations`'.

``approval.recorded`` payload: ``role``, ``decision`` (``approve`` | ``reject`` |
``withdraw``), ``comment`` (for a withdrawal: the reason), ``withdraws`` (the seq of the
rejection withdrawn), ``policy_sha256`` (the run's policy) and, when the person has a key,
``signature``.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Any

from governance.errors import UserError
from governance.provenance import current_actor
from governance.trail.accountability import (
    DECISIONS,
    REJECTED,
    Assessment,
    Requirement,
    assess,
    why_not_counted,
)
from governance.trail.actor_keys import KeyBook, load_private_key, private_key_dir
from governance.trail.approval_signatures import (
    check_decision,
    decision_message,
    policy_keys,
    signature_block,
)
from governance.trail.revocations import REVOKED, Target, revoke
from governance.trail.signing import Signer

OPEN = (None, "awaiting_approval")  # a run still running, or waiting for its approvals


@dataclass
class RunDecisions:
    """What the trail says about one run's decisions (one checked read of the run)."""

    run_id: str
    starter: str | None
    policy: dict[str, Any]
    finished: str | None  # the last run.finished decision; None while running
    kind: str = "pipeline"  # pipeline (``rai run``), api (``rai.start_run``) or audit
    decisions: list[dict[str, Any]] = field(default_factory=list)
    registered: list[dict[str, Any]] = field(default_factory=list)
    revoked: list[Any] = field(default_factory=list)

    @property
    def requirement(self) -> Requirement:
        return Requirement.from_policy(self.policy)

    def assessment(self) -> Assessment:
        return assess(self.requirement, self.decisions)


@dataclass
class Decided:
    """A recorded decision, the revocations it caused, and where the run stands now."""

    event: Any
    revoked: list[Any]
    run: RunDecisions


def read_decisions(trail: Any, run_id: str, book: KeyBook | None = None) -> RunDecisions | None:
    """The run's decisions, each with its signature checked; ``None`` for a run never started.

    Reads the chain the way verification does (``checked`` reads: the table, never an index; seq
    numbers without gaps; every entry of the run hashing to its entry hash): a hidden or edited
    rejection raises :class:`TrailIntegrityError` instead of reading as "no rejection".
    """
    events = trail.events(run_id=run_id, checked=True)
    started = next((e for e in events if e.kind == "run.started"), None)
    if started is None:
        return None
    book = book if book is not None else KeyBook.from_trail(trail)
    policy = dict(started.payload.get("policy") or {})
    finished = [e.payload.get("decision") for e in events if e.kind == "run.finished"]
    out = RunDecisions(run_id, started.actor, policy, finished[-1] if finished else None,
                       str(started.payload.get("kind") or "pipeline"))
    keys = policy_keys(policy)
    for e in events:
        if e.kind == "approval.recorded":
            status, key_id, problem = check_decision(e.kind, e.run_id, e.actor, e.payload, e.seq, book, keys)
            out.decisions.append({
                "seq": e.seq, "role": e.payload.get("role"), "decision": e.payload.get("decision"), "actor": e.actor,
                "time": e.time, "comment": e.payload.get("comment", ""), "withdraws": e.payload.get("withdraws"),
                "signature": status, "key_id": key_id, "signature_problem": problem,
                "starter": e.actor == started.actor})
        elif e.kind == "model.registered":
            out.registered.append({**e.payload, "seq": e.seq})
        elif e.kind == REVOKED:
            out.revoked.append(e)
    return out


def approvals_for(trail: Any, run_id: str) -> list[dict[str, Any]]:
    """Decisions on a run in the order recorded: ``{"seq", "role", "decision", "actor", "time",
    "comment", "withdraws", "signature", "key_id", "signature_problem", "starter"}``.

    ``signature`` is ``valid``, ``unsigned`` (the person has no key) or ``invalid``; ``starter``
    says the person started the run. Deploy gates decide on this (see :func:`read_decisions`).
    """
    run = read_decisions(trail, run_id)
    return run.decisions if run is not None else []


def record_approval(trail: Any, run_id: str, role: str, decision: str, actor: str | None = None,
                    comment: str | None = None, *, key: str | None = None, signer: Signer | None = None):
    """Admit, sign and append a decision on a run; return the event (see :func:`decide`)."""
    return decide(trail, run_id, role, decision, actor, comment, key=key, signer=signer).event


def decide(trail: Any, run_id: str, role: str, decision: str, actor: str | None = None,
           comment: str | None = None, *, key: str | None = None, signer: Signer | None = None) -> Decided:
    """Record ``actor``'s decision for ``role`` on ``run_id`` (signed with ``key``, a file, or
    ``signer``; by default the person's own key file), or refuse it with one line.

    A rejection that leaves a registered run ``rejected`` also revokes its registry entries.

    Raises
    ------
    UserError
        what :func:`admission_problem` and :func:`decision_signer` refuse, or an unknown run,
        role or decision. Nothing is recorded.
    """
    _check_form(role, decision)
    actor = (actor or current_actor()).strip()
    if not isinstance(run_id, str) or not run_id or trail.count(run_id=run_id, kind="run.started") == 0:
        raise UserError(_unknown_run(trail, run_id))
    book = KeyBook.from_trail(trail)
    run = read_decisions(trail, run_id, book)
    if run is None:
        raise UserError(_unknown_run(trail, run_id))
    role = role.strip()
    problem = admission_problem(run, role, decision, actor, comment)
    if problem:
        raise UserError(f"run {run_id}: {problem}; nothing recorded")
    signer = decision_signer(run.policy, book, actor, key, signer)
    payload: dict[str, Any] = {"role": role, "decision": decision, "comment": (comment or "").strip(),
                               "policy_sha256": run.policy.get("sha256")}
    if decision == "withdraw":
        payload["withdraws"] = _standing(run, actor, role)[-1]["seq"]
    if signer is not None:
        payload["signature"] = signature_block(signer, decision_message("approval.recorded", run_id, actor, payload))
    event = trail.append("approval.recorded", run_id=run_id, actor=actor, payload=payload)
    after = read_decisions(trail, run_id, book) or run
    revoked = []
    if decision == "reject" and after.assessment().state == REJECTED:
        revoked = _revoke_registered(trail, after, actor, role, payload["comment"], signer)
    return Decided(event, revoked, after)


def admission_problem(run: RunDecisions, role: str, decision: str, actor: str, comment: str | None) -> str | None:
    """Why ``actor`` may not record ``decision`` for ``role`` on ``run`` now, or ``None``."""
    if run.revoked:
        e = run.revoked[0]
        return (f"it is revoked ({e.payload.get('name')} v{e.payload.get('version')} revoked at {e.time} by {e.actor}); "
                "decisions on it are closed: a new run registers a new version")
    now = run.assessment()
    if decision == "withdraw":
        if not (comment or "").strip():
            return "a withdrawal needs its reason: give it with --comment"
        if not _standing(run, actor, role):
            return f"{actor} has no standing rejection as {role} to withdraw (only the person who rejected may withdraw)"
        return None
    if decision == "approve" and now.state == REJECTED:
        r = now.rejections[0]
        return (f"it was rejected by {r['actor']} ({r['role']}, trail entry #{r['seq']}); a rejection is final unless "
                f"{r['actor']} withdraws it: rai approve {run.run_id} --role {r['role']} --decision withdraw "
                f"--comment REASON --actor {r['actor']}")
    # A passed run may still be signed off for a role its deploy gate did not ask for (``rai promote
    # --require-approval``); for the roles it decided on, its approvals are history.
    later_sign_off = run.finished == "passed" and role not in run.requirement.required
    if decision == "approve" and run.finished not in OPEN and not later_sign_off:
        return (f"it has finished ({run.finished}): only a running run or one awaiting approval can be approved")
    if decision == "reject" and run.finished in ("blocked", "failed"):
        return f"it has finished ({run.finished}) and deployed nothing: there is nothing to reject"
    why = why_not_counted(run.requirement, {"actor": actor, "role": role, "decision": decision,
                                            "starter": actor == run.starter}, now.decided_for)
    if why:
        return why
    if decision == "approve" and actor in (now.roles.get(role) or {}).get("approved_by", []):
        return f"{actor} already approved it as {role}"
    if decision == "reject" and _standing(run, actor, role):
        return f"{actor} already rejected it as {role}"
    return None


def _standing(run: RunDecisions, actor: str, role: str) -> list[dict[str, Any]]:
    """``actor``'s rejections as ``role`` that still stand."""
    return [r for r in run.assessment().rejections if r["actor"] == actor and r["role"] == role]


def revocation_problem(run: RunDecisions | None, actor: str) -> str | None:
    """Why ``actor`` may not revoke what ``run`` registered: with roles, only their members may."""
    roles = run.requirement.roles if run is not None else None
    if roles is None or any(actor in r["members"] for r in roles.values()):
        return None
    return (f"{actor} is not a member of any role of run {run.run_id}'s policy (roles: "
            + "; ".join(f"{name}: {', '.join(r['members']) or 'no members'}" for name, r in roles.items()) + ")")


def decision_signer(policy: dict[str, Any], book: KeyBook, actor: str, key: str | None = None,
                    signer: Signer | None = None) -> Signer | None:
    """The key that signs ``actor``'s decision: refused when it is missing or not the member's."""
    expected = book.expected(actor, policy_keys(policy))
    signer = signer or load_private_key(actor, key)
    if signer is None:
        if expected is None:
            return None
        raise UserError(f"{actor} signs decisions with key {expected.key_id[:16]}… ({expected.source}): give the private "
                        f"key with --key FILE, $RAI_APPROVER_KEY or {private_key_dir() / (actor + '.pem')}; nothing recorded")
    if expected is None:
        raise UserError(f"key {signer.key_id[:16]}… is not a registered key of {actor} (register it with "
                        f"`rai keys create --actor {actor}`, or list it in the policy's roles); nothing recorded")
    if signer.key_id != expected.key_id:
        raise UserError(f"key {signer.key_id[:16]}… does not match {actor}'s key {expected.key_id[:16]}… "
                        f"({expected.source}); nothing recorded")
    return signer


def _revoke_registered(trail: Any, run: RunDecisions, actor: str, role: str, comment: str,
                       signer: Signer | None) -> list[Any]:
    """Revoke the registry entries a rejected run registered (those still there and not revoked)."""
    from pathlib import Path

    done = {e.payload.get("manifest_sha256") for e in run.revoked}
    out = []
    for reg in run.registered:
        entry_dir = Path(str(reg.get("manifest_path") or "")).parent
        if reg.get("manifest_sha256") in done or not (entry_dir / "manifest.json").is_file():
            continue
        target = Target(entry_dir, str(reg.get("name")), int(reg.get("version") or 0), reg.get("model_sha256"), run.run_id)
        reason = f"run {run.run_id} rejected by {actor} ({role})" + (f": {comment}" if comment else "")
        out.append(revoke(trail, target, reason, actor, signer))
    return out


def _check_form(role: Any, decision: Any) -> None:
    if decision not in DECISIONS:
        raise UserError(f"decision {decision!r}: must be one of {', '.join(DECISIONS)}")
    if not isinstance(role, str) or not role.strip():
        raise UserError("role: must be a non-empty name, e.g. 'risk-officer'")


def _unknown_run(trail: Any, run_id: str) -> str:
    started = [e.run_id for e in trail.events(kind="run.started") if e.run_id]
    message = f"unknown run id {run_id!r}: the trail has no run.started event for it"
    close = difflib.get_close_matches(str(run_id), started, n=3)
    if close:
        return f"{message} (did you mean {', '.join(close)}?)"
    if started:
        return f"{message} (latest runs: {', '.join(started[-3:])})"
    return f"{message} (no runs recorded yet)"
