"""Which key signs a trail's checkpoints, and how it is replaced.

A key that signs for the first time is added to the workspace's trusted keys; if an earlier
checkpoint was signed by another key, that change is recorded as a ``key.rotated`` event, so the
trail itself says when each key took over. ``rai trail rotate-key`` does this deliberately: the
old key endorses the new one (signs its id) in the event, and the old private key is kept in
``keys/retired/`` (delete it there once it is no longer wanted).
"""

from __future__ import annotations

import json
import os

from governance.errors import UserError
from governance.trail.checkpoints import Checkpoint
from governance.trail.files import write_atomic
from governance.trail.signing import SIGNING_KEY_ENV, KeyRing, Signer, rotation_message


def ensure_trusted(trail, signer: Signer) -> dict[str, bytes]:
    """Trust ``signer``'s public key; record a ``key.rotated`` event when it replaces another key."""
    ring = KeyRing(trail.workspace.keys)
    trusted = ring.trusted()
    if signer.key_id in trusted:
        return trusted
    previous = _last_signing_key(trail)
    ring.trust(signer.public_raw)
    if previous and previous != signer.key_id:
        trail.append("key.rotated", payload={
            "old_key_id": previous, "new_key_id": signer.key_id,
            "public_key": signer.public_raw.hex(), "endorsement": None,
        })
    return ring.trusted()


def rotate(trail) -> tuple[str, str, Checkpoint]:
    """Generate a new workspace key, retire the old one, record the rotation, sign a checkpoint."""
    if trail.signing_key_path or os.environ.get(SIGNING_KEY_ENV):
        raise UserError(f"the signing key is given by {'path' if trail.signing_key_path else SIGNING_KEY_ENV}; "
                        "rotate it there (point it at a new key) instead")
    old = trail.signer()
    ensure_trusted(trail, old)
    keys_dir = trail.workspace.keys
    new = Signer.generate()
    (keys_dir / "retired").mkdir(mode=0o700, exist_ok=True)
    # Keep the old key before replacing it, so that a crash in between loses nothing.
    write_atomic(keys_dir / "retired" / f"{old.key_id}.pem", old.pem(), mode=0o600)
    write_atomic(keys_dir / "signing.pem", new.pem(), mode=0o600)
    trail.reload_signer()
    public = new.public_raw.hex()
    endorsement = old.sign(rotation_message(old.key_id, new.key_id, public)).hex()
    KeyRing(keys_dir).trust(new.public_raw)
    trail.append("key.rotated", payload={"old_key_id": old.key_id, "new_key_id": new.key_id,
                                          "public_key": public, "endorsement": endorsement})
    return old.key_id, new.key_id, trail.checkpoint()


def _last_signing_key(trail) -> str | None:
    docs = trail.store.latest_checkpoint_docs(limit=1)
    if not docs:
        return None
    try:
        return json.loads(docs[0]).get("key_id")
    except ValueError:
        return None
