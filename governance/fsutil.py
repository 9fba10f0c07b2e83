"""Files as rai fingerprints and writes them: the one place that hashes a file and that writes
one atomically and durably.

Errors are the operating system's (:class:`OSError`): each caller says what failed in its own
terms (the trail, for one, turns them into ``TrailUnavailable``, exit code 3).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path


def file_sha256(path: str | Path) -> str:
    """SHA-256 (hex) of a file's bytes, read in chunks (any size, constant memory)."""
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def write_atomic(path: str | Path, data: bytes, mode: int = 0o644) -> None:
    """Write ``data`` to ``path`` so that readers see the old file or the whole new one, durably.

    The data goes to a temporary file of its own in the same directory, is fsynced, gets
    ``mode`` (whatever the umask), is renamed over ``path``, and the directory is fsynced, so
    that the rename itself survives a crash. On failure no temporary file is left behind and
    what was at ``path`` is untouched.
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass  # the original error is the one to report
        raise
    fsync_dir(path.parent)


def fsync_dir(directory: str | Path) -> None:
    """Flush a directory's entries (a file created or renamed in it) to disk."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
