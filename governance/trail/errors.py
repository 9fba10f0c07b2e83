"""Errors of the audit trail, and the exit code each one means in the CLI.

========================  ====  ==================================================================
error                     exit  meaning
========================  ====  ==================================================================
``TrailIntegrityError``   1     the recorded trail is damaged or tampered with (an unreadable
                                database page, a forged index, a blob whose content changed, a
                                checkpoint that does not verify); ``rai trail verify`` locates it
``EventError`` and other  2     a mistake in what was asked (a malformed event, a wrong workspace,
``UserError``                   a bad option or output path)
``TrailUnavailable``      3     the trail cannot be read or written *here*: permissions, a
                                read-only or full file system, an I/O error, an unreachable
                                server. Nothing says it was tampered with.
========================  ====  ==================================================================

Exit code 1 always means "integrity problem", so a script can tell tampering from an environment
that merely keeps rai from reading.
"""

from __future__ import annotations

import errno

from governance.errors import UserError


class EventError(UserError, ValueError):
    """An event that cannot be recorded (bad kind, NaN in the payload, non-hash subject)."""


class TrailIntegrityError(UserError):
    """The trail is damaged or tampered with; run ``rai trail verify`` for the full report."""

    exit_code = 1


class TrailMissing(UserError):
    """There is no trail where one was expected (a reader must not create one)."""


class TrailBusy(UserError):
    """Another writer held the trail longer than the wait allowed (exit 2: nothing is damaged)."""


class TrailUnavailable(UserError):
    """The trail cannot be read or written here (permissions, read-only or full disk, I/O error,
    unreachable server); exit 3: not evidence of tampering."""

    exit_code = 3


# OS errors that say something about the machine, not about the trail's content.
_ENVIRONMENT_ERRNOS = {errno.EACCES, errno.EPERM, errno.EROFS, errno.EIO, errno.ENOSPC, errno.EDQUOT,
                       errno.EMFILE, errno.ENFILE, errno.ENOMEM, errno.EBUSY, errno.ETXTBSY}


def is_environment_error(err: OSError) -> bool:
    """Whether an OS error comes from the machine (permissions, full disk, I/O) rather than the data."""
    return err.errno in _ENVIRONMENT_ERRNOS


def unavailable(err: OSError, action: str, path: object = None) -> TrailUnavailable:
    """A one-line :class:`TrailUnavailable` for an OS error while ``action`` (e.g. "write") on a path."""
    where = path if path is not None else (err.filename or "workspace")
    return TrailUnavailable(f"{where}: cannot {action}: {err.strerror or err}")
