"""Revoking a registered model version (``rai revoke``): found in the registry, decided like a decision.

The entry is looked up by name and version (:func:`lifecycle.deploy.find_entry`); the person
revoking must be a member of a role of the registering run's policy when it defines roles, and
signs with their key when they have one (:mod:`governance.trail.approvals`); the record and the
entry's mark are :func:`governance.trail.revocations.revoke`'s.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from governance.errors import UserError
from governance.provenance import current_actor
from governance.trail.actor_keys import KeyBook
from governance.trail.approvals import decision_signer, read_decisions, revocation_problem
from governance.trail.revocations import Target, revoke
from lifecycle.deploy import find_entry


def revoke_version(trail: Any, registry: Path, name: str, version: int, reason: str, *, actor: str | None = None,
                   key: str | Path | None = None) -> Any:
    """Revoke ``name`` ``version`` of ``registry``; return the ``model.revoked`` event.

    Raises
    ------
    UserError
        an unknown model or version, no reason, an entry revoked already, a person who may not
        revoke it, a missing or foreign key; nothing is recorded
    """
    actor = (actor or current_actor()).strip()
    entry = find_entry(Path(registry), name, version)
    run_id = entry.body.get("run_id") if isinstance(entry.body.get("run_id"), str) else None
    run = read_decisions(trail, run_id) if run_id else None
    problem = revocation_problem(run, actor)
    if problem:
        raise UserError(f"revoke {name} v{version}: {problem}; nothing recorded")
    book = KeyBook.from_trail(trail)
    signer = decision_signer(run.policy if run else {}, book, actor, key)
    target = Target(entry.dir, name, entry.version, entry.body.get("model_sha256"), run_id)
    return revoke(trail, target, reason, actor, signer, run_known=run is not None)
