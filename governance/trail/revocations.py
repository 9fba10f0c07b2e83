"""Revoked registry entries: the ``model.revoked`` event, the entry's mark, and what a server checks.

Revoking an entry (``rai revoke NAME VERSION --reason ...``, or a rejection of the run that
registered it) records ``model.revoked`` ``{name, version, model_sha256, manifest_sha256,
registry, registered_by_run, reason}`` under the registering run, signed by the person revoking
(when they have a key) and by the workspace key (``workspace_signature``; see
:mod:`governance.trail.approval_signatures`), and then writes ``revoked.json`` into the entry:
the revocation with the trail entry's seq and time, signed by the workspace key. The trail is
the authority; the mark lets anyone looking at the registry see it, and is found even without
the trail. Revocation is final: a new run registers a new version.

:class:`RevocationWatch` is what ``rai serve`` asks, when it starts and at every re-check: the
entry's mark, and every ``model.revoked`` event naming its manifest (read incrementally).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from governance.errors import UserError
from governance.trail.approval_signatures import decision_message, signature_block
from governance.trail.canonical import canonical_bytes
from governance.trail.errors import TrailMissing
from governance.trail.files import write_atomic
from governance.trail.signing import Signer

REVOKED = "model.revoked"
MARKER = "revoked.json"
MARKER_TAG = b"rai.registry-revocation/1\x00"


@dataclass(frozen=True)
class Target:
    """A registry entry to revoke, as its manifest names it."""

    entry_dir: Path
    name: str
    version: int
    model_sha256: str | None
    run_id: str | None  # the run that registered it

    @property
    def manifest_sha256(self) -> str:
        return _manifest_sha256(self.entry_dir)


def revocations(trail: Any, run_id: str | None = None) -> list[Any]:
    """Every ``model.revoked`` event (of ``run_id``), read the checked way decisions are."""
    return trail.events(run_id=run_id, kind=REVOKED, checked=True)


def revocation_of(events: list[Any], manifest_sha256: str) -> Any | None:
    """The revocation naming ``manifest_sha256`` among ``events``, if any."""
    return next((e for e in events if e.payload.get("manifest_sha256") == manifest_sha256), None)


def revoke(trail: Any, target: Target, reason: str, actor: str, signer: Signer | None = None,
           run_known: bool = True) -> Any:
    """Record the revocation of ``target`` and mark its entry; return the event.

    Raises
    ------
    UserError
        no reason, or the entry is revoked already
    """
    from governance.trail.keys import ensure_trusted

    if not isinstance(reason, str) or not reason.strip():
        raise UserError("revoke: give the reason with --reason (it is recorded and shown wherever the entry is)")
    digest = target.manifest_sha256
    earlier = revocation_of(revocations(trail), digest)
    if earlier is not None:
        raise UserError(f"{target.name} v{target.version} is revoked already (trail entry #{earlier.seq}, "
                        f"{earlier.time}, by {earlier.actor}: {earlier.payload.get('reason')})")
    run_id = target.run_id if run_known else None
    payload = {"name": target.name, "version": target.version, "model_sha256": target.model_sha256,
               "manifest_sha256": digest, "registry": str(target.entry_dir.parent.parent.resolve()),
               "registered_by_run": target.run_id, "reason": reason.strip()}
    message = decision_message(REVOKED, run_id, actor, payload)
    workspace_key = trail.signer()
    ensure_trusted(trail, workspace_key)
    if signer is not None:
        payload["signature"] = signature_block(signer, message)
    payload["workspace_signature"] = signature_block(workspace_key, message)
    subjects = {"manifest": digest, **({"model": target.model_sha256} if target.model_sha256 else {})}
    event = trail.append(REVOKED, run_id=run_id, actor=actor, payload=payload, subjects=subjects)
    mark = {k: v for k, v in payload.items() if k not in ("signature", "workspace_signature")}
    mark.update(seq=event.seq, time=event.time, actor=actor)
    document = {"revocation": mark, "signature": signature_block(workspace_key, MARKER_TAG + canonical_bytes(mark))}
    write_atomic(target.entry_dir / MARKER, json.dumps(document, indent=2, sort_keys=True).encode("utf-8"))
    return event


def describe(revocation: dict[str, Any]) -> str:
    """``revoked at TIME by ACTOR: REASON (trail entry #N)`` from an event payload or a mark."""
    seq = f" (trail entry #{revocation['seq']})" if revocation.get("seq") else ""
    return f"revoked at {revocation.get('time')} by {revocation.get('actor')}: {revocation.get('reason')}{seq}"


def read_mark(entry_dir: Path) -> dict[str, Any] | None:
    """The entry's revocation mark, or ``None``; a mark that cannot be read still marks it revoked."""
    path = entry_dir / MARKER
    if not path.exists():
        return None
    try:
        mark = json.loads(path.read_text(encoding="utf-8"))["revocation"]
        return mark if isinstance(mark, dict) else {"reason": "revocation mark present (unreadable)"}
    except (OSError, ValueError, KeyError, TypeError):
        return {"reason": f"{MARKER} present (unreadable)"}


class RevocationWatch:
    """Whether a served entry has been revoked: its mark, or a ``model.revoked`` event for its manifest.

    Each call reads only the trail entries appended since the previous one.
    """

    def __init__(self, workspace: Any):
        self.workspace = workspace
        self.seen = 0
        self.revoked: dict[str, dict[str, Any]] = {}

    def reason(self, entry_dir: Path) -> str | None:
        mark = read_mark(entry_dir)
        if mark is not None:
            return describe(mark)
        self._read_new()
        found = self.revoked.get(_manifest_sha256(entry_dir))
        return describe(found) if found is not None else None

    def _read_new(self) -> None:
        from governance.trail.opening import open_trail

        try:
            trail = open_trail(self.workspace, create=False)
        except TrailMissing:
            return  # no trail: nothing was revoked in this workspace
        with trail:
            size, _ = trail.head()
            for event in trail.iter_events(kind=REVOKED, after_seq=self.seen):
                self.revoked[str(event.payload.get("manifest_sha256"))] = {
                    **event.payload, "seq": event.seq, "time": event.time, "actor": event.actor}
            self.seen = max(self.seen, size)


def _manifest_sha256(entry_dir: Path) -> str:
    # Imported here: governance.io brings pandas, which `rai trail verify` never needs.
    from governance.fsutil import file_sha256

    return file_sha256(entry_dir / "manifest.json")
