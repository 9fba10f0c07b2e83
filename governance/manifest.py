"""Signed manifests of registry entries: signing and verification (no TensorFlow).

A registry entry's ``manifest.json`` is ``{"manifest": BODY, "signature": {...}}``. The
signature is Ed25519 over :data:`SIGNING_DOMAIN` followed by the canonical JSON of ``BODY``,
made with the workspace's signing key (the one that signs trail checkpoints).
:func:`verify_manifest` checks it against the workspace's trusted keys and re-hashes every file
the body lists, so an edited manifest, a swapped model file or a foreign key is detected. It
lives in :mod:`governance` so that serving, the CLI and the dashboard verify the same way.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from governance.errors import UserError
from governance.fsutil import file_sha256
from governance.trail.canonical import canonical_bytes
from governance.trail.signing import Signer, key_id_of, verify_signature

SCHEMA = "rai.registry-manifest/1"
SIGNING_DOMAIN = b"rai.registry-manifest/1\x00"
MANIFEST = "manifest.json"


@dataclass
class ManifestCheck:
    """The result of :func:`verify_manifest`: ``ok`` and every problem found."""

    ok: bool
    problems: list[str] = field(default_factory=list)
    body: dict[str, Any] | None = None
    key_id: str | None = None


def sign_body(body: dict[str, Any], signer: Signer) -> dict[str, str]:
    """The signature block of a manifest body."""
    signature = signer.sign(SIGNING_DOMAIN + canonical_bytes(body, "manifest"))
    return {
        "algorithm": "ed25519",
        "key_id": signer.key_id,
        "public_key": signer.public_raw.hex(),
        "value": base64.b64encode(signature).decode("ascii"),
    }


def read_manifest(path: Path) -> dict[str, Any]:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise UserError(f"{path}: unreadable manifest ({err})") from None
    if not isinstance(document, dict):
        raise UserError(f"{path}: manifest is not a JSON object")
    return document


def verify_manifest(entry_dir: Path, trusted: dict[str, bytes]) -> ManifestCheck:
    """Check an entry's manifest signature against ``trusted`` keys and every listed file's hash.

    Parameters
    ----------
    entry_dir : ``REGISTRY/NAME/VERSION``
    trusted : key id -> raw Ed25519 public key (``KeyRing(workspace.keys).trusted()``)
    """
    try:
        document = read_manifest(entry_dir / MANIFEST)
    except UserError as err:
        return ManifestCheck(False, [str(err)])
    body, signature = document.get("manifest"), document.get("signature") or {}
    if not isinstance(body, dict):
        return ManifestCheck(False, [f"{entry_dir / MANIFEST}: no manifest body"])
    problems = _signature_problems(body, signature, trusted)
    problems += _file_problems(entry_dir, body)
    return ManifestCheck(not problems, problems, body, signature.get("key_id"))


def _signature_problems(body: dict, signature: dict, trusted: dict[str, bytes]) -> list[str]:
    key_id = signature.get("key_id")
    public = trusted.get(key_id) if isinstance(key_id, str) else None
    if public is None:
        return [f"manifest signed by unknown key {str(key_id)[:16]}... (not in the workspace's trusted keys)"]
    if key_id_of(public) != key_id:
        return ["trusted key file does not match its key id"]
    try:
        value = base64.b64decode(signature.get("value") or "", validate=True)
        message = SIGNING_DOMAIN + canonical_bytes(body, "manifest")
    except (ValueError, TypeError) as err:
        return [f"manifest signature is malformed ({err})"]
    if not verify_signature(public, message, value):
        return ["manifest signature does not match its content (manifest edited after signing)"]
    return []


def _file_problems(entry_dir: Path, body: dict) -> list[str]:
    problems = []
    for name, info in sorted((body.get("files") or {}).items()):
        path = entry_dir / name
        if Path(name).name != name:
            problems.append(f"manifest lists a file outside the entry: {name!r}")
        elif not path.is_file():
            problems.append(f"{name}: listed in the manifest but missing")
        elif file_sha256(path) != info.get("sha256"):
            problems.append(f"{name}: sha256 differs from the manifest (file modified or replaced)")
    if not any(info.get("role") == "model" for info in (body.get("files") or {}).values()):
        problems.append("manifest lists no model file")
    return problems
