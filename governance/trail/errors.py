"""Errors of the audit trail.

A :class:`TrailIntegrityError` means the recorded trail itself is damaged or tampered with (an
unreadable database, a blob whose content no longer matches its hash, a checkpoint that does not
verify). It is not the user's mistake, so the CLI exits 1 for it, as ``rai trail verify`` does for a
tampered trail, and prints one line instead of a traceback. Every other trail error exits 2:
exit code 1 always means "integrity problem".
"""

from __future__ import annotations

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
    """The trail's database cannot be reached: server down, wrong URL, bad credentials (exit 2)."""
