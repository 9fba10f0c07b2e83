"""Human approvals of a run, recorded in the trail (``approval.recorded``).

The CLI (``rai approve``), the pipeline and the dashboard all go through these two functions,
so an approval means the same thing wherever it is made or read.
"""

from __future__ import annotations

import difflib
from typing import Any

from governance.errors import UserError

DECISIONS = ("approve", "reject")


def record_approval(trail, run_id: str, role: str, decision: str, actor: str | None = None,
                    comment: str | None = None):
    """Append an ``approval.recorded`` event for a run that exists; return the Event.

    Raises
    ------
    UserError
        for an unknown run (no ``run.started`` event), an empty role, or a decision other
        than ``approve`` / ``reject``
    """
    if decision not in DECISIONS:
        raise UserError(f"decision {decision!r}: must be one of {', '.join(DECISIONS)}")
    if not isinstance(role, str) or not role.strip():
        raise UserError("role: must be a non-empty name, e.g. 'risk-officer'")
    if not isinstance(run_id, str) or not run_id or trail.count(run_id=run_id, kind="run.started") == 0:
        raise UserError(_unknown_run(trail, run_id))
    payload: dict[str, Any] = {"role": role.strip(), "decision": decision, "comment": comment or ""}
    return trail.append("approval.recorded", run_id=run_id, actor=actor, payload=payload)


def approvals_for(trail, run_id: str) -> list[dict[str, Any]]:
    """Approvals of a run in the order recorded: ``{"role", "decision", "actor", "time", "comment"}``.

    Deploy gates decide on this, so it reads the chain the way verification does (``checked``
    reads: the table, never an index; seq numbers without gaps; every entry of the run hashing to
    its entry hash): a hidden or edited rejection raises :class:`TrailIntegrityError` instead of
    reading as "no rejection".
    """
    return [
        {"role": e.payload.get("role"), "decision": e.payload.get("decision"), "actor": e.actor,
         "time": e.time, "comment": e.payload.get("comment", "")}
        for e in trail.events(run_id=run_id, kind="approval.recorded", checked=True)
    ]


def _unknown_run(trail, run_id: str) -> str:
    started = [e.run_id for e in trail.events(kind="run.started") if e.run_id]
    message = f"unknown run id {run_id!r}: the trail has no run.started event for it"
    close = difflib.get_close_matches(str(run_id), started, n=3)
    if close:
        return f"{message} (did you mean {', '.join(close)}?)"
    if started:
        return f"{message} (latest runs: {', '.join(started[-3:])})"
    return f"{message} (no runs recorded yet)"
