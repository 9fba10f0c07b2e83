"""Ed25519 signing keys and the workspace's set of trusted public keys.

Which private key signs, first match wins:

1. a path given by the caller (``open_trail(..., signing_key=PATH)``),
2. the ``RAI_SIGNING_KEY`` environment variable (a path),
3. ``keys/signing.pem`` in the workspace, created on first use.

Private keys are unencrypted PKCS8 PEM files with mode 0600. A key's id is the SHA-256 of its
raw 32-byte public key, in hex. Every key that has signed a checkpoint is kept as a public key in
``keys/trusted/KEY_ID.pub`` (PEM), so checkpoints signed before a key rotation still verify.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from governance.errors import UserError
from governance.fsutil import fsync_dir
from governance.trail.errors import is_environment_error, unavailable
from governance.trail.files import write_atomic

SIGNING_KEY_ENV = "RAI_SIGNING_KEY"
_HEX64 = re.compile(r"[0-9a-f]{64}")
_RAW = (serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_id_of(public_raw: bytes) -> str:
    """Key id: SHA-256 of the raw public key, hex."""
    return hashlib.sha256(public_raw).hexdigest()


def verify_signature(public_raw: bytes, message: bytes, signature: bytes) -> bool:
    """Whether ``signature`` is a valid Ed25519 signature of ``message`` under ``public_raw``."""
    try:
        Ed25519PublicKey.from_public_bytes(public_raw).verify(signature, message)
    except (InvalidSignature, ValueError):
        return False
    return True


@dataclass(frozen=True)
class Signer:
    """An Ed25519 private key with its public key and id."""

    private_key: Ed25519PrivateKey
    path: Path | None = None

    @property
    def public_raw(self) -> bytes:
        return self.private_key.public_key().public_bytes(*_RAW)

    @property
    def key_id(self) -> str:
        return key_id_of(self.public_raw)

    def sign(self, message: bytes) -> bytes:
        return self.private_key.sign(message)

    @classmethod
    def generate(cls) -> Signer:
        return cls(Ed25519PrivateKey.generate())

    def pem(self) -> bytes:
        return self.private_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )


def load_signer(path: str | Path) -> Signer:
    """Load a PKCS8 PEM Ed25519 private key; a bad file is a one-line :class:`UserError`."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as err:
        if is_environment_error(err):
            raise unavailable(err, "read the signing key", path) from None
        raise UserError(f"signing key {path}: cannot read ({err.strerror})") from None
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as err:
        raise UserError(f"signing key {path}: not an unencrypted PKCS8 PEM private key ({err})") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise UserError(f"signing key {path}: is a {type(key).__name__}, expected an Ed25519 key")
    return Signer(key, path)


def write_new_key(path: Path) -> Signer:
    """Create a fresh key at ``path`` (mode 0600) unless one appears there first; return the key at ``path``.

    The key is written to a private temporary file and hard-linked into place, so that several
    processes using a new workspace at once end up sharing one complete key file.
    """
    signer = Signer.generate()
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.write(fd, signer.pem())
            os.fsync(fd)
        finally:
            os.close(fd)
        try:
            os.link(tmp, path)
        except FileExistsError:
            return load_signer(path)
        finally:
            tmp.unlink(missing_ok=True)
        fsync_dir(path.parent)  # the new name survives a crash
    except OSError as err:
        raise unavailable(err, "write a new signing key", path) from None
    return Signer(signer.private_key, path)


def resolve_signer(keys_dir: Path, explicit: str | Path | None = None) -> Signer:
    """The key that signs for this workspace (see the module docstring for the order)."""
    chosen = explicit or os.environ.get(SIGNING_KEY_ENV)
    if chosen:
        return load_signer(chosen)
    path = keys_dir / "signing.pem"
    if path.exists():
        return load_signer(path)
    return write_new_key(path)


class KeyRing:
    """Trusted public keys of a workspace (``keys/trusted/*.pub``)."""

    def __init__(self, keys_dir: Path):
        self.dir = keys_dir / "trusted"

    def trusted(self) -> dict[str, bytes]:
        """Key id -> raw public key of every trusted key (ids recomputed, file names ignored).

        A file that is not a key trusts nothing (verification then reports the unknown key); a
        directory or file the machine will not let rai read is :class:`TrailUnavailable`, since
        silently trusting fewer keys would make intact checkpoints look forged.
        """
        keys: dict[str, bytes] = {}
        try:
            if not self.dir.is_dir():
                return keys
            names = sorted(entry.name for entry in os.scandir(self.dir) if entry.name.endswith(".pub"))
        except OSError as err:
            raise unavailable(err, "read the trusted keys", self.dir) from None
        for name in names:
            try:
                key = serialization.load_pem_public_key((self.dir / name).read_bytes())
            except ValueError:
                continue
            except OSError as err:
                if is_environment_error(err):
                    raise unavailable(err, "read a trusted key", self.dir / name) from None
                continue
            if isinstance(key, Ed25519PublicKey):
                raw = key.public_bytes(*_RAW)
                keys[key_id_of(raw)] = raw
        return keys

    def trust(self, public_raw: bytes) -> str:
        """Add a public key to the trusted set; return its id."""
        kid = key_id_of(public_raw)
        try:
            self.dir.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise unavailable(err, "create the trusted keys directory", self.dir) from None
        path = self.dir / f"{kid}.pub"
        if not path.exists():
            pem = Ed25519PublicKey.from_public_bytes(public_raw).public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            write_atomic(path, pem)
        return kid


ROTATION_TAG = b"rai.trail.key-rotation.v1\n"


def rotation_message(old_key_id: str, new_key_id: str, new_public_key: str) -> bytes:
    """Bytes the old key signs to endorse its successor in a ``key.rotated`` event."""
    return ROTATION_TAG + f"{old_key_id}\n{new_key_id}\n{new_public_key}".encode("ascii")


def rotation_problem(payload: dict, trusted: dict[str, bytes]) -> tuple[str, str] | None:
    """What is wrong with a ``key.rotated`` payload, as (problem kind, message), or ``None``.

    Both keys must be trusted by this workspace (every key that signs is kept trusted, retired
    ones too), the public key must be the new key's, and an endorsement, when there is one, must
    be the old key's signature over the rotation (see :func:`rotation_message`). Switching keys
    by path or ``RAI_SIGNING_KEY`` records no endorsement.
    """
    old, new, pub, sig = (payload.get(k) for k in ("old_key_id", "new_key_id", "public_key", "endorsement"))
    for name, value in (("old_key_id", old), ("new_key_id", new)):
        if not isinstance(value, str) or not _HEX64.fullmatch(value):
            return "bad_signature", f"the key rotation's {name} is not a key id (64 lowercase hex characters)"
    for name, value in (("old", old), ("new", new)):
        if value not in trusted:
            return "unknown_key", f"the key rotation names an {name} key {value[:16]}… this workspace does not trust"
    if pub is not None and (not isinstance(pub, str) or pub != trusted[new].hex()):
        return "bad_signature", "the key rotation's public key is not the new key's"
    if sig is None:
        return None
    try:
        sig_raw = bytes.fromhex(sig) if isinstance(sig, str) else b""
    except ValueError:
        sig_raw = b""
    if not verify_signature(trusted[old], rotation_message(old, new, trusted[new].hex()), sig_raw):
        return "bad_signature", "the key rotation is not endorsed by the old key"
    return None
