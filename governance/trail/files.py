"""Durable file writes of the trail (checkpoints, keys, blobs), in the trail's terms.

The writing itself is :func:`governance.fsutil.write_atomic`'s; a write that the machine refuses
(permissions, a read-only or full file system) becomes one
:class:`~governance.trail.errors.TrailUnavailable` line naming the file, and leaves no partial
file behind: what was there before is untouched.
"""

from __future__ import annotations

from pathlib import Path

from governance import fsutil
from governance.trail.errors import unavailable


def write_atomic(path: Path, data: bytes, mode: int = 0o644) -> None:
    """:func:`governance.fsutil.write_atomic`, failing with :class:`TrailUnavailable` (exit code 3)."""
    try:
        fsutil.write_atomic(path, data, mode)
    except OSError as err:
        raise unavailable(err, "write", path) from None
