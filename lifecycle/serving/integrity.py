"""Checks a served registry entry must pass: when the server starts and every ``recheck_seconds``.

Each check takes the entry as it was loaded and returns ``None`` or a one-line reason to refuse.
:func:`entry_checks` is the one list the server runs; a new reason to stop serving (for instance
the revocation of an entry recorded in the trail) is one more function appended there.
"""

from __future__ import annotations

from collections.abc import Callable

from governance.trail.signing import KeyRing
from governance.workspace import Workspace
from lifecycle.deploy import RegistryEntry, verify_manifest

EntryCheck = Callable[[RegistryEntry], "str | None"]


def entry_checks(ws: Workspace) -> list[EntryCheck]:
    """The checks of a served entry, in order; the first failing one refuses it."""
    return [manifest_unchanged(ws), not_revoked(ws)]


def manifest_unchanged(ws: Workspace) -> EntryCheck:
    """The entry still verifies (signature by a trusted key, every file's hash) *and* its signed
    manifest is the one that was loaded: another validly signed entry copied over it is refused."""

    def check(entry: RegistryEntry) -> str | None:
        result = verify_manifest(entry.dir, KeyRing(ws.keys).trusted())
        if not result.ok:
            return result.problems[0]
        if result.body != entry.body:
            return "manifest.json: a different signed manifest replaced the one being served"
        return None

    return check


def not_revoked(ws: Workspace) -> EntryCheck:
    """The entry has not been revoked (``rai revoke``, or a rejection of the run that registered it):
    neither its ``revoked.json`` mark nor a ``model.revoked`` event of the trail names it."""
    from governance.trail.revocations import RevocationWatch

    watch = RevocationWatch(ws)

    def check(entry: RegistryEntry) -> str | None:
        return watch.reason(entry.dir)

    return check


def first_problem(entry: RegistryEntry, checks: list[EntryCheck]) -> str | None:
    """The first check's reason to refuse ``entry``, or None when all pass."""
    for check in checks:
        try:
            reason = check(entry)
        except Exception as err:  # a check that cannot run is a reason to stop, never a pass
            reason = f"integrity check {getattr(check, '__name__', 'check')} failed: {err}"
        if reason:
            return reason
    return None
