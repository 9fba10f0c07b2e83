"""Inclusion proofs: show a third party that one entry is in a checkpointed trail.

A proof carries the entry as stored (seq, prev_hash, body, entry_hash), the RFC 6962 audit path
from its leaf to the root, and the checkpoint it was made against. Checking needs only the proof,
the checkpoint file and its public key: recompute the entry hash from the body (so the event's
content is proven, not just its hash), walk the path to the root, and check the checkpoint's
signature.
"""

from __future__ import annotations

import json
from typing import Any

from governance.errors import UserError
from governance.trail.chain import Event, Row, entry_hash
from governance.trail.checkpoints import Checkpoint, CheckpointFormatError
from governance.trail.errors import TrailIntegrityError
from governance.trail.merkle import inclusion_path, leaf_hash, root_of, verify_inclusion
from governance.trail.store import Store
from governance.trail.verify import is_self_consistent

PROOF_FORMAT = "rai.trail.inclusion-proof/v1"


def make_proof(store: Store, checkpoint: Checkpoint, seq: int) -> dict[str, Any]:
    """Inclusion proof of entry ``seq`` against ``checkpoint`` (which must match the stored trail)."""
    if not 1 <= seq <= checkpoint.tree_size:
        raise UserError(f"entry {seq} is not covered by the checkpoint of size {checkpoint.tree_size} "
                        "(run `rai trail checkpoint` first for newer entries)")
    leaves, row = [], None
    for r in store.rows(upto=checkpoint.tree_size):
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
        "entry": {"seq": row.seq, "prev_hash": row.prev_hash, "body": row.body, "entry_hash": row.entry_hash},
        "event": Event.from_row(row).to_dict(),
        "audit_path": [h.hex() for h in inclusion_path(seq - 1, leaves)],
        "checkpoint": checkpoint.to_dict(),
    }


def check_proof(proof: Any, checkpoint: Checkpoint, key_id: str | None = None) -> tuple[list[str], dict | None]:
    """Check an inclusion proof against a checkpoint; return (failures, proven event).

    An empty failure list means: the checkpoint is signed by the key it names (and that key is
    ``key_id`` when given), and the event was entry ``seq`` of the trail the checkpoint signed.
    """
    if not isinstance(proof, dict) or proof.get("format") != PROOF_FORMAT:
        raise UserError(f"not a rai trail inclusion proof (format must be '{PROOF_FORMAT}')")
    failures: list[str] = []
    if not is_self_consistent(checkpoint):
        failures.append("the checkpoint's signature does not verify under the public key it carries")
    if key_id is not None and checkpoint.key_id != key_id:
        failures.append(f"the checkpoint is signed by key {checkpoint.key_id}, not the expected {key_id}")
    try:
        entry, seq, size = proof["entry"], int(proof["seq"]), int(proof["tree_size"])
        row = Row(int(entry["seq"]), "", None, "", "", entry["body"], entry["prev_hash"], entry["entry_hash"])
        path = [bytes.fromhex(h) for h in proof["audit_path"]]
        embedded = Checkpoint.from_dict(proof["checkpoint"], "proof checkpoint")
        event = json.loads(row.body)
        leaf = leaf_hash(bytes.fromhex(row.entry_hash))
        bytes.fromhex(row.prev_hash)
    except (KeyError, TypeError, ValueError, CheckpointFormatError) as err:
        raise UserError(f"malformed inclusion proof: {err}") from None
    if (embedded.tree_size, embedded.root_hash) != (checkpoint.tree_size, checkpoint.root_hash):
        failures.append(f"the proof was made against a checkpoint of size {embedded.tree_size}, "
                        f"not this one (size {checkpoint.tree_size})")
    if row.seq != seq or size != checkpoint.tree_size:
        failures.append("the proof's seq or tree size disagree with its entry or the checkpoint")
    if entry_hash(row.seq, row.prev_hash, row.body) != row.entry_hash:
        failures.append("the entry's content does not match its entry hash")
    if not isinstance(event, dict) or not {"kind", "time", "actor", "run_id"} <= set(event):
        failures.append("the entry's body is not a recorded event")
        event = {}
    if not verify_inclusion(seq - 1, checkpoint.tree_size, leaf, path, bytes.fromhex(checkpoint.root_hash)):
        failures.append("the audit path does not lead to the checkpoint's Merkle root")
    return failures, ({"seq": row.seq, **event} if not failures else None)
