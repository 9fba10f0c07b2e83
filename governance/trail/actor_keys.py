"""Approvers' Ed25519 keys: created, registered in the trail, listed in the workspace, looked up.

``rai keys create --actor alice`` writes alice's private key where only she reads it (mode 0600;
by default ``~/.config/rai/approver-keys/alice.pem``, or under ``$RAI_APPROVER_KEYS``) and
registers its public key: an ``actor.key_registered`` event ``{actor, key_id, public_key,
replaces, proof}`` (``proof`` is the new key's signature over its own registration, so nobody
registers a key they do not hold) and a copy in the workspace, ``keys/actors/alice.pub``.

The trail is the authority: a key counts for the decisions recorded after its registration,
until a later registration for the same person replaces it. A key listed for a member in the
policy's ``roles`` counts instead, for the runs of that policy (:meth:`KeyBook.expected`).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from governance.errors import UserError
from governance.trail.files import write_atomic
from governance.trail.signing import Signer, key_id_of, load_signer, verify_signature, write_new_key

REGISTERED = "actor.key_registered"
KEYS_ENV = "RAI_APPROVER_KEYS"  # directory of the approvers' private keys on this machine
KEY_ENV = "RAI_APPROVER_KEY"  # one private key file, used whoever decides
PROOF_TAG = b"rai.actor-key.v1\n"
ACTOR_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@+-]{0,127}$")
ACTOR_MESSAGE = ("actor {got!r}: a name with a key is 1-128 letters, digits, '.', '_', '@', '+' or '-', "
                 "starting with a letter or digit")
_HEX64 = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class ActorKey:
    """A public key that signs one person's decisions, and where it comes from."""

    actor: str
    key_id: str
    public_raw: bytes
    source: str  # "trail entry N" or "policy"
    seq: int = 0


def check_actor_name(actor: str) -> str:
    if not isinstance(actor, str) or not ACTOR_PATTERN.match(actor):
        raise UserError(ACTOR_MESSAGE.format(got=actor))
    return actor


def private_key_dir() -> Path:
    """Where this machine keeps approvers' private keys by default."""
    return Path(os.environ.get(KEYS_ENV) or Path.home() / ".config" / "rai" / "approver-keys")


def proof_message(actor: str, key_id: str) -> bytes:
    return PROOF_TAG + f"{actor}\n{key_id}".encode()


def public_pem(public_raw: bytes) -> bytes:
    return Ed25519PublicKey.from_public_bytes(public_raw).public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


class KeyBook:
    """Registered keys by person, in the order the trail recorded them."""

    def __init__(self, registrations: list[Any] = ()):
        self.keys: dict[str, list[ActorKey]] = {}
        for ev in registrations:
            self.add(ev)

    def add(self, ev: Any) -> None:
        """Count an ``actor.key_registered`` event; a malformed one registers nothing (verification
        reports it)."""
        p = ev.payload
        raw = _raw(p.get("public_key"))
        if raw is None or p.get("key_id") != key_id_of(raw) or not isinstance(p.get("actor"), str):
            return
        self.keys.setdefault(p["actor"], []).append(ActorKey(p["actor"], p["key_id"], raw, f"trail entry {ev.seq}", ev.seq))

    @classmethod
    def from_trail(cls, trail: Any) -> KeyBook:
        return cls(registrations(trail))

    def current(self, actor: str, before_seq: int | None = None) -> ActorKey | None:
        """The key registered last for ``actor`` (before entry ``before_seq``), if any."""
        found = [k for k in self.keys.get(actor, []) if before_seq is None or k.seq < before_seq]
        return found[-1] if found else None

    def expected(self, actor: str, policy_keys: dict[str, str], before_seq: int | None = None) -> ActorKey | None:
        """The key that must sign ``actor``'s decision: the run's policy's, else the registered one."""
        listed = _raw(policy_keys.get(actor))
        if listed is not None:
            return ActorKey(actor, key_id_of(listed), listed, "policy")
        return self.current(actor, before_seq)


def registrations(trail: Any) -> list[Any]:
    """Every ``actor.key_registered`` event, found by its content, not by the kind column.

    Decisions rely on this, so a registration hidden by an edited kind column must not read as
    "no key" (an unsigned decision would then count): rows are selected in the table by their
    body, and a row whose columns disagree with it, or a trail whose seq numbers have gaps, is a
    :class:`TrailIntegrityError`. (The store selects on the body alone, in the database, so the read costs
    what the matching rows cost.)
    """
    from governance.trail.errors import TrailIntegrityError
    from governance.trail.reads import event_of

    count, low, high = trail.store.shape()
    if count and (low != 1 or high != count):
        raise TrailIntegrityError(f"{trail.location}: the entries are not numbered 1..{count} without gaps "
                                  f"(seq {low}..{high}); run `rai trail verify`")
    found = []
    for row in trail.store.rows(body_needle=_KIND_NEEDLE, scan=True):
        event = event_of(row)
        if (event.kind, event.run_id, event.actor, event.time) != (row.kind, row.run_id, row.actor, row.time):
            raise TrailIntegrityError(f"{trail.location}: entry {row.seq}: its columns disagree with its content; "
                                      "run `rai trail verify`")
        if event.kind == REGISTERED:
            found.append(event)
    return found


_KIND_NEEDLE = f'"kind":"{REGISTERED}"'


def _raw(hex_text: Any) -> bytes | None:
    return bytes.fromhex(hex_text) if isinstance(hex_text, str) and _HEX64.match(hex_text) else None


def registration_problem(payload: dict[str, Any]) -> str | None:
    """What is wrong with an ``actor.key_registered`` payload (for verification), or ``None``."""
    raw = _raw(payload.get("public_key"))
    actor = payload.get("actor")
    if raw is None or not isinstance(actor, str):
        return "the key registration names no actor or no public key (64 hex characters)"
    if payload.get("key_id") != key_id_of(raw):
        return f"the key registration of {actor}: key id is not the public key's"
    try:
        proof = bytes.fromhex(payload.get("proof") or "")
    except (TypeError, ValueError):
        proof = b""
    if not verify_signature(raw, proof_message(actor, payload["key_id"]), proof):
        return f"the key registration of {actor} is not signed by the key it registers"
    return None


def register_key(trail: Any, actor: str, signer: Signer, replace: bool = False):
    """Record ``signer``'s public key as ``actor``'s and list it in the workspace; return the event."""
    check_actor_name(actor)
    old = KeyBook.from_trail(trail).current(actor)
    if old is not None and old.key_id == signer.key_id:
        raise UserError(f"key {signer.key_id[:16]}… is already {actor}'s registered key ({old.source})")
    if old is not None and not replace:
        raise UserError(f"{actor} already has a registered key ({old.key_id[:16]}…, {old.source}); pass --replace "
                        "to register a new one (decisions signed with the old key still verify)")
    payload = {"actor": actor, "key_id": signer.key_id, "public_key": signer.public_raw.hex(),
               "replaces": old.key_id if old else None,
               "proof": signer.sign(proof_message(actor, signer.key_id)).hex()}
    event = trail.append(REGISTERED, payload=payload)
    directory = trail.workspace.keys / "actors"
    directory.mkdir(parents=True, exist_ok=True)
    write_atomic(directory / f"{actor}.pub", public_pem(signer.public_raw))
    return event


def create_key(trail: Any, actor: str, private_path: str | Path | None = None, replace: bool = False):
    """A new key for ``actor``: the private key at ``private_path`` (mode 0600), registered; (event, path)."""
    check_actor_name(actor)
    old = KeyBook.from_trail(trail).current(actor)
    if old is not None and not replace:
        raise UserError(f"{actor} already has a registered key ({old.key_id[:16]}…, {old.source}); pass --replace "
                        "to register a new one (decisions signed with the old key still verify)")
    path = Path(private_path) if private_path else private_key_dir() / f"{actor}.pem"
    if path.exists():
        raise UserError(f"{path}: a key file is already there; choose another --private-key path or remove it")
    signer = write_new_key(path)
    return register_key(trail, actor, signer, replace=replace), path


def load_private_key(actor: str, explicit: str | Path | None = None) -> Signer | None:
    """The private key ``actor`` signs with here: ``explicit``, ``$RAI_APPROVER_KEY``, or the default file."""
    chosen = explicit or os.environ.get(KEY_ENV)
    if chosen:
        return load_signer(chosen)
    if ACTOR_PATTERN.match(actor or ""):
        default = private_key_dir() / f"{actor}.pem"
        if default.is_file():
            return load_signer(default)
    return None


def listed_keys(trail: Any) -> list[dict[str, Any]]:
    """Every registration, with whether the workspace's ``keys/actors/`` copy is the current key."""
    book = KeyBook.from_trail(trail)
    directory = trail.workspace.keys / "actors"
    rows = []
    for actor, keys in sorted(book.keys.items()):
        file = directory / f"{actor}.pub"
        listed = file.is_file() and file.read_bytes() == public_pem(keys[-1].public_raw)
        for key in keys:
            rows.append({"actor": actor, "key_id": key.key_id, "registered": key.source,
                         "current": key is keys[-1], "workspace_copy": listed if key is keys[-1] else None})
    return rows
