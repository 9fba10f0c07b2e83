"""Signed decisions: approvals, rejections, withdrawals and revocations, signed by the person deciding.

A decision event (``approval.recorded``, ``model.revoked``) of someone with a key carries
``payload.signature = {algorithm, key_id, value}``: the Ed25519 signature, by that person's key,
of::

    b"rai.decision.v1\\n" || canonical JSON of {"actor", "kind", "payload" (without signatures), "run_id"}

The key that must have signed is the one the run's policy lists for the member in ``roles``,
else the person's key registered in the trail before the decision (:class:`KeyBook`). A
revocation also carries ``workspace_signature``, the same message signed by the workspace key.

:func:`signature_problems` is what ``rai trail verify`` adds to its walk: a decision whose
signature does not verify (edited, or forged), one signed by a key that is not the member's
(re-signed), or an unsigned one by a person who had a key is reported at its entry as
``bad_signature`` (exit 1); decisions by people without keys are counted in a warning.
"""

from __future__ import annotations

from typing import Any

from governance.trail.actor_keys import REGISTERED, KeyBook, registration_problem
from governance.trail.canonical import CanonicalJSONError, canonical_bytes
from governance.trail.chain import Event
from governance.trail.problems import Problem
from governance.trail.signing import Signer, verify_signature
from governance.trail.store import UnreadableTrail

TAG = b"rai.decision.v1\n"
SIGNED_KINDS = ("approval.recorded", "model.revoked")
_SIGNATURES = ("signature", "workspace_signature")
_NEEDLES = tuple(f'"kind":"{kind}"' for kind in (*SIGNED_KINDS, REGISTERED))


def decision_message(kind: str, run_id: str | None, actor: str, payload: dict[str, Any]) -> bytes:
    """The bytes a decision's signatures cover."""
    unsigned = {k: v for k, v in payload.items() if k not in _SIGNATURES}
    return TAG + canonical_bytes({"actor": actor, "kind": kind, "payload": unsigned, "run_id": run_id}, "decision")


def signature_block(signer: Signer, message: bytes) -> dict[str, str]:
    return {"algorithm": "ed25519", "key_id": signer.key_id, "value": signer.sign(message).hex()}


def policy_keys(policy: dict[str, Any] | None) -> dict[str, str]:
    """``{member: public key hex}`` listed in a recorded policy's ``roles``."""
    keys: dict[str, str] = {}
    roles = (policy or {}).get("roles") or {}
    for role in roles.values() if isinstance(roles, dict) else []:
        for member in (role or {}).get("members") or [] if isinstance(role, dict) else []:
            if isinstance(member, dict) and isinstance(member.get("key"), str) and isinstance(member.get("name"), str):
                keys.setdefault(member["name"], member["key"])
    return keys


def check_decision(kind: str, run_id: str | None, actor: str, payload: dict[str, Any], seq: int | None,
                   book: KeyBook, run_policy_keys: dict[str, str]) -> tuple[str, str | None, str | None]:
    """``(status, key id, problem)`` of one decision: ``valid``, ``unsigned`` (nobody's key to check)
    or ``invalid`` with the problem in words."""
    expected = book.expected(actor, run_policy_keys, seq)
    block = payload.get("signature")
    if block is None:
        if expected is not None:
            return "invalid", None, (f"unsigned, but {actor} has key {expected.key_id[:16]}… ({expected.source}): "
                                     "recorded without the member's key")
        return "unsigned", None, None
    key_id = block.get("key_id") if isinstance(block, dict) else None
    if expected is None:
        return "invalid", key_id, f"signed by key {str(key_id)[:16]}…, which is not a key of {actor}"
    if key_id != expected.key_id:
        return "invalid", key_id, (f"signed by key {str(key_id)[:16]}…, not by {actor}'s key "
                                   f"{expected.key_id[:16]}… ({expected.source}): re-signed by someone else")
    if not _verifies(expected.public_raw, kind, run_id, actor, payload, block):
        return "invalid", key_id, "its signature does not verify: changed after it was signed, or forged"
    return "valid", key_id, None


def _verifies(public_raw: bytes, kind: str, run_id: str | None, actor: str, payload: dict, block: Any) -> bool:
    try:
        value = bytes.fromhex(block.get("value")) if isinstance(block, dict) else b""
        message = decision_message(kind, run_id, actor, payload)
    except (TypeError, ValueError, CanonicalJSONError):
        return False
    return verify_signature(public_raw, message, value)


def signature_problems(store: Any, trusted: dict[str, bytes]) -> tuple[list[Problem], list[str]]:
    """Every decision's signature checked, in one pass over the entries: (problems, warnings)."""
    book = KeyBook()
    run_keys: dict[str, dict[str, str]] = {}
    problems: list[Problem] = []
    unsigned: dict[str, int] = {}
    for row in _readable_rows(store):
        event = _event(row)
        if event is None:
            continue
        if event.kind == "run.started":
            run_keys[event.run_id or ""] = policy_keys(event.payload.get("policy"))
        elif event.kind == REGISTERED:
            problem = registration_problem(event.payload)
            if problem:
                problems.append(Problem("bad_signature", row.seq, problem))
            else:
                book.add(event)
        elif event.kind in SIGNED_KINDS:
            problems += _decision_problems(event, book, run_keys.get(event.run_id or "", {}),
                                           trusted, unsigned)
    return problems, _unsigned_warning(unsigned)


def _readable_rows(store: Any):
    """The rows in seq order, up to the first that cannot be read (the walk reports that one)."""
    try:
        yield from store.rows(scan=True)
    except UnreadableTrail:
        return


def _event(row: Any) -> Event | None:
    """The event of a row that may hold a decision, a key registration or a policy with keys."""
    body = row.body if isinstance(row.body, str) else ""
    if not any(needle in body for needle in _NEEDLES) and not ('"kind":"run.started"' in body and '"key":"' in body):
        return None
    try:
        event = Event.from_row(row)
    except (ValueError, TypeError, KeyError):
        return None  # the walk reports an entry that holds no event
    return event if isinstance(event.payload, dict) else None


def _decision_problems(event: Event, book: KeyBook, keys: dict[str, str], trusted: dict[str, bytes],
                       unsigned: dict[str, int]) -> list[Problem]:
    out = []
    status, _, problem = check_decision(event.kind, event.run_id, event.actor, event.payload, event.seq, book, keys)
    what = "revocation" if event.kind == "model.revoked" else f"{event.payload.get('decision')} decision"
    if status == "invalid":
        out.append(Problem("bad_signature", event.seq, f"the {what} by {event.actor}: {problem}"))
    elif status == "unsigned":
        unsigned[event.actor] = unsigned.get(event.actor, 0) + 1
    if event.kind == "model.revoked":
        block = event.payload.get("workspace_signature")
        public = trusted.get(block.get("key_id")) if isinstance(block, dict) else None
        if public is None or not _verifies(public, event.kind, event.run_id, event.actor, event.payload, block):
            out.append(Problem("bad_signature", event.seq, f"the revocation by {event.actor} is not signed by a "
                                                           "trusted workspace key"))
    return out


def _unsigned_warning(unsigned: dict[str, int]) -> list[str]:
    if not unsigned:
        return []
    total = sum(unsigned.values())
    who = ", ".join(sorted(unsigned))
    return [f"{total} decision(s) are unsigned: {who} had no registered key when deciding; their identity "
            "rests on the recorded actor name alone (`rai keys create --actor NAME`)"]
