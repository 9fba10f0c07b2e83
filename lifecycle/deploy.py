"""Deploy: a versioned, content-addressed model registry with signed manifests.

Layout (``REGISTRY`` is ``deploy.registry`` of the spec, default ``WORKSPACE/registry``)::

    REGISTRY/MODEL_NAME/VERSION/
      model.tflite | model.keras     the deployed model (LiteRT core, or the whole Keras model)
      preprocess.keras               for LiteRT: the Keras model whose preprocessing feeds the core
      reference.parquet              training features and scores: the monitor's drift reference
      model_card.json                the model card
      manifest.json                  {"manifest": BODY, "signature": {...}}

``BODY`` names every file of the entry with its SHA-256 and size, and carries the model's name
and version, the run id, the policy hash, the decision summary, epsilon and the model card. The
signature is Ed25519 over :data:`SIGNING_DOMAIN` followed by the canonical JSON of ``BODY``, with
the workspace's signing key (the one that signs trail checkpoints); :func:`verify_manifest`
checks it against the workspace's trusted keys, re-hashes every file and checks that the signed
name and version are the entry's place in the registry, so an edited manifest, a swapped model
file, a foreign key or an entry copied to another name or version is refused before anything is
served or monitored. Model names are file names, never paths.

Versions are 1, 2, 3, ... per model name. An entry is written into a hidden temporary directory
and renamed into place, so a reader never sees a half-written version and two concurrent
registrations never get the same number.
"""

from __future__ import annotations

import errno
import json
import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from governance.errors import UserError
from governance.findings import jsonable
from governance.fsutil import file_sha256, fsync_dir
from governance.manifest import MANIFEST, SCHEMA, ManifestCheck, read_manifest, sign_body
from governance.manifest import verify_manifest as verify_signed_files
from governance.provenance import utc_now_seconds
from governance.trail.signing import KeyRing, Signer
from lifecycle.spec import name_problem

MODEL_CARD = "model_card.json"


@dataclass(frozen=True)
class RegistryEntry:
    """One registered model version: its directory and its (signed) manifest body."""

    name: str
    version: int
    dir: Path
    body: dict[str, Any]

    @property
    def manifest_path(self) -> Path:
        return self.dir / MANIFEST

    def file(self, role: str) -> Path:
        """Path of the entry's file with ``role`` (``model``, ``preprocess``, ``reference``, ...)."""
        for name, info in self.body["files"].items():
            if info.get("role") == role:
                return self.dir / name
        raise KeyError(f"registry entry {self.name}/{self.version} has no '{role}' file")


def register(
    registry: Path,
    name: str,
    files: dict[str, tuple[str, Path]],
    body: dict[str, Any],
    model_card: dict[str, Any],
    signer: Signer,
    keyring: KeyRing | None = None,
) -> RegistryEntry:
    """Write a new version of ``name`` into ``registry`` with a signed manifest.

    Parameters
    ----------
    registry : registry root directory
    name : model name (the spec's ``deploy.model_name``)
    files : ``{file name in the entry: (role, source path)}``; one role must be ``"model"``
    body : manifest fields (run id, policy, decision summary, privacy, ...); ``name``,
        ``version``, ``files``, ``model_card`` and ``registered_at`` are filled in here
    model_card : the model card, stored as ``model_card.json`` and inside the manifest
    signer : the workspace's Ed25519 key
    keyring : where the signer's public key is added as trusted (so verification finds it); with
        it, the published entry is verified (signature, hashes, name and version) before returning
    """
    if not any(role == "model" for role, _ in files.values()):
        raise ValueError("a registry entry needs a file with role 'model'")
    _check_name(name)
    model_dir = registry / name
    model_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=model_dir))
    try:
        listed = _copy_files(staging, files)
        card_bytes = json.dumps(jsonable(model_card), indent=2, sort_keys=True).encode("utf-8")
        (staging / MODEL_CARD).write_bytes(card_bytes)
        listed[MODEL_CARD] = {"role": "model_card", "sha256": file_sha256(staging / MODEL_CARD), "size_bytes": len(card_bytes)}
        entry = _publish(model_dir, staging, name, {**jsonable(body), "files": listed, "model_card": jsonable(model_card)},
                         signer, keyring)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    if keyring is not None:  # what serve and monitor will check, checked once at the source too
        check = verify_manifest(entry.dir, keyring.trusted())
        if not check.ok:
            raise UserError(f"{entry.dir}: the entry just registered does not verify: {check.problems[0]}")
    return entry


def _copy_files(staging: Path, files: dict[str, tuple[str, Path]]) -> dict[str, dict[str, Any]]:
    listed = {}
    for file_name, (role, source) in files.items():
        target = staging / file_name
        shutil.copyfile(source, target)
        listed[file_name] = {"role": role, "sha256": file_sha256(target), "size_bytes": target.stat().st_size}
    return listed


def _publish(model_dir: Path, staging: Path, name: str, body: dict, signer: Signer, keyring: KeyRing | None) -> RegistryEntry:
    """Sign the manifest for the next free version and rename the staged entry into place."""
    if keyring is not None:
        keyring.trust(signer.public_raw)
    version = next_version(model_dir)
    while True:
        full = {"schema": SCHEMA, "name": name, "version": version,
                "registered_at": utc_now_seconds(), **body}
        document = {"manifest": full, "signature": sign_body(full, signer)}
        (staging / MANIFEST).write_text(json.dumps(document, indent=2, sort_keys=True), encoding="utf-8")
        _fsync_dir_files(staging)
        try:
            os.rename(staging, model_dir / str(version))
        except OSError as err:
            if err.errno not in (errno.EEXIST, errno.ENOTEMPTY):
                raise
            version += 1  # another registration took this number first: sign for the next one
            continue
        fsync_dir(model_dir)  # the rename itself survives a crash
        return RegistryEntry(name, version, model_dir / str(version), full)


def _fsync_dir_files(directory: Path) -> None:
    for path in directory.iterdir():
        with open(path, "rb") as handle:
            os.fsync(handle.fileno())


def next_version(model_dir: Path) -> int:
    """One more than the highest existing version number (1 for a new model)."""
    return max(versions(model_dir), default=0) + 1


def versions(model_dir: Path) -> list[int]:
    """Registered version numbers of a model, ascending."""
    if not model_dir.is_dir():
        return []
    # Only canonical numbers ("7", not "07" or a Unicode digit) name versions: one directory per version.
    return sorted(int(p.name) for p in model_dir.iterdir() if re.fullmatch(r"[1-9][0-9]{0,8}", p.name) and p.is_dir())


def find_entry(registry: Path, name: str, version: int | None = None) -> RegistryEntry:
    """The registry entry of ``name`` at ``version`` (default: the latest); UserError if absent.

    The manifest is read but *not* verified; call :func:`verify_manifest` before trusting it.
    """
    _check_name(name)
    if version is not None and (isinstance(version, bool) or not isinstance(version, int) or version < 1):
        raise UserError(f"model version must be a whole number from 1, got {version!r}")
    model_dir = registry / name
    available = versions(model_dir)
    if not available:
        known = sorted(p.name for p in registry.iterdir() if p.is_dir()) if registry.is_dir() else []
        hint = f"; registered models: {', '.join(known)}" if known else "; the registry is empty"
        raise UserError(f"{registry}: no registered model '{name}'{hint}")
    version = available[-1] if version is None else version
    if version not in available:
        raise UserError(f"{model_dir}: no version {version}; versions are {', '.join(map(str, available))}")
    entry_dir = model_dir / str(version)
    document = read_manifest(entry_dir / MANIFEST)
    return RegistryEntry(name, version, entry_dir, document.get("manifest") or {})


def verify_manifest(entry_dir: Path, trusted: dict[str, bytes]) -> ManifestCheck:
    """Verify a registry entry: signature, every file's hash, and its place in the registry.

    On top of :func:`governance.manifest.verify_manifest` (signature against ``trusted``, every
    listed file re-hashed), the signed ``name`` and ``version`` must be the entry's directory
    names (``REGISTRY/NAME/VERSION``): a verified copy of one model's entry under another name
    or version is refused, since the signature vouches for the model it names, not for the place.
    """
    check = verify_signed_files(entry_dir, trusted)
    if check.body is None:
        return check
    problem = place_problem(entry_dir, check.body)
    if problem is None:
        return check
    return ManifestCheck(False, [*check.problems, problem], check.body, check.key_id)


def verified_entry(registry: Path, name: str, version: int | None, trusted: dict[str, bytes]) -> RegistryEntry:
    """The entry of ``name`` (at ``version``, default the latest) once it verifies; UserError otherwise.

    Reads and hashes files but loads no model: callers check their input against the entry's
    signed schema before anything heavy is imported.
    """
    entry = find_entry(registry, name, version)
    check = verify_manifest(entry.dir, trusted)
    if not check.ok:
        raise UserError(f"{entry.dir}: refusing to load {name} v{entry.version}: {check.problems[0]}")
    return RegistryEntry(entry.name, entry.version, entry.dir, check.body or {})


def place_problem(entry_dir: Path, body: dict[str, Any]) -> str | None:
    """Why a manifest ``body`` does not belong at ``entry_dir`` (``.../NAME/VERSION``), or None."""
    name, version = entry_dir.parent.name, entry_dir.name
    signed_name, signed_version = body.get("name"), body.get("version")
    if signed_name == name and isinstance(signed_version, int) and str(signed_version) == version:
        return None
    return (f"manifest is signed for {str(signed_name)[:64]!r} v{str(signed_version)[:16]}, but the entry is "
            f"{name!r} v{version} (an entry copied or moved within the registry is not that model)")


def _check_name(name: str) -> None:
    problem = name_problem(name)
    if problem:
        raise UserError(f"model name {problem}")
