"""Content-addressed evidence files: ``blobs/sha256/ab/abcdef...`` named by their SHA-256.

Events carry the digests, not the content, so large tables and reports stay out of the database
while staying covered by the chain: a blob whose bytes no longer hash to its name is corrupt.
By convention an event refers to blobs with payload keys named ``blob`` or ending in ``_blob``
(one digest) and ``blobs`` or ending in ``_blobs`` (a list of digests); verification checks that
those exist and are intact.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from governance.errors import UserError
from governance.fsutil import file_sha256
from governance.trail.errors import TrailIntegrityError, is_environment_error, unavailable
from governance.trail.files import write_atomic

_DIGEST = re.compile(r"^[0-9a-f]{64}$")


class BlobMissing(UserError):
    """No blob with that digest in the workspace."""


class BlobStore:
    """Blobs under one directory (the workspace's ``blobs/``)."""

    def __init__(self, root: Path):
        self.root = Path(root)

    def path(self, digest: str) -> Path:
        if not isinstance(digest, str) or not _DIGEST.match(digest):
            raise UserError(f"blob digest {digest!r}: must be 64 lowercase hex characters (SHA-256)")
        return self.root / "sha256" / digest[:2] / digest

    def put(self, data: bytes) -> str:
        """Store ``data`` (idempotent; a damaged copy is replaced) and return its SHA-256 hex."""
        digest = hashlib.sha256(data).hexdigest()
        path = self.path(digest)
        if self.status(digest) != "ok":
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as err:
                raise unavailable(err, "create the blob directory", path.parent) from None
            write_atomic(path, data, mode=0o444)
        return digest

    def put_file(self, source: str | Path) -> str:
        """Store a file's content (read in chunks to hash, then copied) and return its digest."""
        source = Path(source)
        digest = file_sha256(source)
        if self.status(digest) != "ok":
            return self.put(source.read_bytes())
        return digest

    def get(self, digest: str) -> bytes:
        """The blob's bytes, checked against the digest (a mismatch is a :class:`TrailIntegrityError`)."""
        path = self.path(digest)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise BlobMissing(f"blob {digest} not found in {self.root}") from None
        except OSError as err:
            if is_environment_error(err):
                raise unavailable(err, "read evidence blob", path) from None
            raise TrailIntegrityError(f"blob {digest} is corrupted: {err.strerror or err}") from None
        if hashlib.sha256(data).hexdigest() != digest:
            raise TrailIntegrityError(f"blob {digest} is corrupted: its content no longer has that hash")
        return data

    def status(self, digest: str) -> str:
        """``ok``, ``missing`` or ``corrupted``."""
        path = self.path(digest)
        try:
            actual = file_sha256(path)
        except FileNotFoundError:
            return "missing"
        except OSError as err:
            if is_environment_error(err):  # cannot read here: not evidence that it changed
                raise unavailable(err, "read evidence blob", path) from None
            return "corrupted"  # e.g. a directory where the blob should be
        return "ok" if actual == digest else "corrupted"

    def digests(self) -> Iterator[str]:
        """Digests of all stored blobs (by file name)."""
        base = self.root / "sha256"
        try:
            if not base.is_dir():
                return
            for sub in sorted(base.iterdir()):
                if sub.is_dir():
                    yield from sorted(f.name for f in sub.iterdir() if _DIGEST.match(f.name))
        except OSError as err:
            raise unavailable(err, "list evidence blobs", base) from None


def blob_refs(payload: Any) -> Iterator[str]:
    """Digests an event payload refers to by the ``*_blob`` / ``*_blobs`` naming convention."""
    if isinstance(payload, dict):
        for key, value in payload.items():
            if key == "blob" or key.endswith("_blob"):
                if isinstance(value, str) and _DIGEST.match(value):
                    yield value
            elif key == "blobs" or key.endswith("_blobs"):
                if isinstance(value, list):
                    yield from (v for v in value if isinstance(v, str) and _DIGEST.match(v))
            else:
                yield from blob_refs(value)
    elif isinstance(payload, list):
        for item in payload:
            yield from blob_refs(item)
