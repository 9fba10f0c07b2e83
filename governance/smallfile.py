"""Read a small file (a policy, a spec) safely: a regular file only, never blocking, capped.

A plain ``open().read()`` blocks forever on a FIFO with no writer, never ends on ``/dev/zero``
and reads a multi-gigabyte file whole. :func:`read_file_bytes` checks the kind of file before
opening it (``stat``) and again on what it opened (``fstat``: the name may have changed in
between), opens it non-blocking, and reads at most one byte past the limit, so files whose size
``stat`` does not tell (``/proc``, a growing file) are refused too.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from governance.errors import LocatedError

MAX_BYTES = 1 << 20
TOO_BIG = "file is {size}; the limit is 1 MiB (1048576 bytes)"


class UnreadableFile(LocatedError):
    """The file could not be read at all (missing, not a regular file, no permission)."""

    def __init__(self, file: str, reason: str, errno: int | None = None):
        self.reason, self.errno = reason, errno
        super().__init__(file, None, None, "", f"cannot read file: {reason}")


def read_file_bytes(path: str | Path, file: str) -> bytes:
    """The bytes of the regular file at ``path`` (shown as ``file``), at most :data:`MAX_BYTES`.

    Raises
    ------
    UnreadableFile
        Missing, not a regular file, not permitted, or a name no file can have.
    LocatedError
        Larger than the limit.
    """
    try:
        _refuse_special(os.stat(path).st_mode, file)
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
        with os.fdopen(fd, "rb") as handle:
            info = os.fstat(handle.fileno())
            _refuse_special(info.st_mode, file)
            if info.st_size > MAX_BYTES:
                raise LocatedError(file, 1, 1, "", TOO_BIG.format(size=f"{info.st_size} bytes"))
            raw = handle.read(MAX_BYTES + 1)
    except OSError as err:
        raise UnreadableFile(file, err.strerror or str(err), err.errno) from None
    except ValueError:  # a NUL or a lone surrogate in the name: no file can have it
        raise UnreadableFile(file, "the name is not a valid path") from None
    if len(raw) > MAX_BYTES:  # files whose size stat does not tell (/proc, growing files)
        raise LocatedError(file, 1, 1, "", TOO_BIG.format(size=f"over {MAX_BYTES} bytes"))
    return raw


def _refuse_special(mode: int, file: str) -> None:
    if stat.S_ISREG(mode):
        return
    kinds = ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO (named pipe)"),
             (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
             (stat.S_ISSOCK, "a socket"))
    kind = next((name for test, name in kinds if test(mode)), "not a file")
    raise UnreadableFile(file, f"it is {kind}, not a regular file")
