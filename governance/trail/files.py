"""Durable file writes shared by checkpoints, keys and blobs.

A write that the machine refuses (permissions, a read-only or full file system) becomes one
:class:`~governance.trail.errors.TrailUnavailable` line naming the file, and leaves no partial
file behind: what was there before is untouched.
"""

from __future__ import annotations

import os
from pathlib import Path

from governance.trail.errors import unavailable


def write_atomic(path: Path, data: bytes, mode: int = 0o644) -> None:
    """Write ``data`` to ``path`` so that readers see the old file or the whole new one, durably.

    The data goes to a temporary file in the same directory, is fsynced, renamed over ``path``,
    and the directory is fsynced so that the rename itself survives a crash.

    Raises
    ------
    TrailUnavailable
        when the file system refuses the write (exit code 3)
    """
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.chmod(tmp, mode)  # the umask may have narrowed it
            os.replace(tmp, path)
        except BaseException:
            _remove(tmp)
            raise
        fsync_dir(path.parent)
    except OSError as err:
        raise unavailable(err, "write", path) from None


def fsync_dir(directory: Path) -> None:
    """Flush a directory entry change (create, rename) to disk."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _remove(path: Path) -> None:
    try:
        path.unlink(missing_ok=True)
    except OSError:
        pass  # the original error is the one to report
