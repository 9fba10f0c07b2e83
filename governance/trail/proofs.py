"""Inclusion proofs: show a third party that one entry is in a checkpointed trail.

A proof carries the entry as stored (its entry format, seq, prev_hash, body, entry_hash), the
RFC 6962 audit path from its leaf to the root, and the checkpoint it was made against. Proofs
made before entry formats were named carry none: theirs is format 1. Checking needs only the proof,
the checkpoint file and its public key: recompute the entry hash from the body (so the event's
content is proven, not just its hash), walk the path to the root, and check the checkpoint's
signature.
"""

from __future__ import annotations

from typing import Any

from governance.errors import UserError
from governance.trail.chain import ENTRY_TAGS, Event, Row, entry_hash
from governance.trail.checkpoints import Checkpoint, CheckpointFormatError
from governance.trail.errors import TrailIntegrityError
from governance.trail.formats import trail_format
from governance.trail.merkle import inclusion_path, leaf_hash, root_of, verify_inclusion
from governance.trail.rowcheck import HEX64
from governance.trail.store import MAX_SEQ, Store
from governance.trail.verify import is_self_consistent

PROOF_FORMAT = "rai.trail.inclusion-proof/v1"


def make_proof(store: Store, checkpoint: Checkpoint, seq: int) -> dict[str, Any]:
    """Inclusion proof of entry ``seq`` against ``checkpoint`` (which must match the stored trail)."""
    if not 1 <= seq <= checkpoint.tree_size:
        raise UserError(f"entry {seq} is not covered by the checkpoint of size {checkpoint.tree_size} "
                        "(run `rai trail checkpoint` first for newer entries)")
    leaves, row = [], None
    for r in store.rows(upto=checkpoint.tree_size, scan=True):
        leaves.append(leaf_hash(bytes.fromhex(r.entry_hash)))
        if r.seq == seq:
            row = r
    if len(leaves) != checkpoint.tree_size or root_of(leaves).hex() != checkpoint.root_hash or row is None:
        raise TrailIntegrityError(f"the stored trail no longer matches checkpoint {checkpoint.source or ''} "
                                  "(size or Merkle root differ); run `rai trail verify`")
    return {
        "format": PROOF_FORMAT,
        "seq": seq,
        "tree_size": checkpoint.tree_size,
        "entry": {"format": trail_format(store), "seq": row.seq, "prev_hash": row.prev_hash, "body": row.body,
                  "entry_hash": row.entry_hash},
        "event": Event.from_row(row).to_dict(),
        "audit_path": [h.hex() for h in inclusion_path(seq - 1, leaves)],
        "checkpoint": checkpoint.to_dict(),
    }


def check_proof(proof: Any, checkpoint: Checkpoint, key_id: str | None = None) -> tuple[list[str], dict | None]:
    """Check an inclusion proof against a checkpoint; return (failures, proven event).

    An empty failure list means: the checkpoint is signed by the key it names (and that key is
    ``key_id`` when given), the event was entry ``seq`` of the trail the checkpoint signed, and
    the proof's readable ``event`` copy, when it has one, says exactly what the hashed entry says.
    The event returned is read from the hashed entry, never from that copy.
    """
    if not isinstance(proof, dict) or proof.get("format") != PROOF_FORMAT:
        raise UserError(f"not a rai trail inclusion proof (format must be '{PROOF_FORMAT}')")
    failures: list[str] = []
    if not is_self_consistent(checkpoint):
        failures.append("the checkpoint's signature does not verify under the public key it carries")
    if key_id is not None and checkpoint.key_id != key_id:
        failures.append(f"the checkpoint is signed by key {checkpoint.key_id}, not the expected {key_id}")
    row, version, seq, size, path, embedded = _parse(proof)
    if (embedded.tree_size, embedded.root_hash) != (checkpoint.tree_size, checkpoint.root_hash):
        failures.append(f"the proof was made against a checkpoint of size {embedded.tree_size}, "
                        f"not this one (size {checkpoint.tree_size})")
    if row.seq != seq or size != checkpoint.tree_size or not 1 <= seq <= checkpoint.tree_size:
        failures.append("the proof's seq or tree size disagree with its entry or the checkpoint")
    if entry_hash(row.seq, row.prev_hash, row.body, version) != row.entry_hash:
        failures.append("the entry's content does not match its entry hash")
    try:
        event = Event.from_row(row._replace(seq=seq)).to_dict()
    except (ValueError, TypeError, KeyError, AttributeError, RecursionError):
        failures.append("the entry's body is not a recorded event")
        event = None
    if event is not None and "event" in proof and proof["event"] != event:
        failures.append("the proof's readable event copy differs from the proven entry (it was edited)")
    leaf = leaf_hash(bytes.fromhex(row.entry_hash))
    if 1 <= seq <= checkpoint.tree_size and not verify_inclusion(
            seq - 1, checkpoint.tree_size, leaf, path, bytes.fromhex(checkpoint.root_hash)):
        failures.append("the audit path does not lead to the checkpoint's Merkle root")
    if failures or event is None:
        return failures, None
    return failures, {"seq": seq, **{k: event[k] for k in ("time", "run_id", "actor", "kind", "subjects", "payload")}}


def _parse(proof: dict) -> tuple[Row, int, int, int, list[bytes], Checkpoint]:
    """The proof's parts, each checked for type; a malformed proof is a :class:`UserError`."""
    try:
        entry = proof["entry"]
        seq, size, entry_seq = _integer(proof["seq"], "seq"), _integer(proof["tree_size"], "tree_size"), \
            _integer(entry["seq"], "entry.seq")
        version = entry.get("format", 1)
        if type(version) is not int or version not in ENTRY_TAGS:
            raise ValueError(f"entry.format: must be one of {sorted(ENTRY_TAGS)}, got {str(version)[:40]!r}")
        for name in ("prev_hash", "entry_hash"):
            if not isinstance(entry[name], str) or not HEX64.fullmatch(entry[name]):
                raise ValueError(f"entry.{name}: must be 64 lowercase hex characters")
        if not isinstance(entry["body"], str):
            raise ValueError("entry.body: must be the event's canonical JSON text")
        if not isinstance(proof["audit_path"], list) or len(proof["audit_path"]) > 64:
            raise ValueError("audit_path: must be a list of at most 64 hashes")
        path = []
        for h in proof["audit_path"]:
            if not isinstance(h, str) or not HEX64.fullmatch(h):
                raise ValueError("audit_path: each hash must be 64 lowercase hex characters")
            path.append(bytes.fromhex(h))
        embedded = Checkpoint.from_dict(proof["checkpoint"], "proof checkpoint")
        entry["body"].encode("utf-8")
    except (KeyError, TypeError, ValueError, UnicodeEncodeError, CheckpointFormatError) as err:
        raise UserError(f"malformed inclusion proof: {str(err)[:200]}") from None
    row = Row(entry_seq, "", None, "", "", entry["body"], entry["prev_hash"], entry["entry_hash"])
    return row, version, seq, size, path, embedded


def _integer(value: Any, name: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= MAX_SEQ:
        raise ValueError(f"{name}: must be a whole number in [0, {MAX_SEQ}], got {str(value)[:40]!r}")
    return value
