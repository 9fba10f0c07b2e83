"""The trail section of a report: the signed checkpoint it cites and the result of verifying it.

A report cites the *smallest* trusted checkpoint that covers every event of the run, so that
generating the report of a finished run twice cites the same checkpoint. When no checkpoint
covers the run yet (a run interrupted before its final checkpoint), one is signed now. A trail
that cannot be checkpointed because it does not verify still gets a report, saying so.
"""

from __future__ import annotations

from typing import Any

from governance.report.source import RunRecord
from governance.trail import Checkpoint, TrailIntegrityError


def _covering_checkpoint(trail: Any, last_seq: int) -> Checkpoint | None:
    from governance.trail.signing import KeyRing
    from governance.trail.verify import check_signature

    trusted = KeyRing(trail.workspace.keys).trusted()
    for cp in trail.checkpoints():  # smallest first
        if cp.tree_size >= last_seq and check_signature(cp, trusted) is None:
            return cp
    try:
        return trail.checkpoint()
    except TrailIntegrityError:
        return None


def trail_section(trail: Any, rec: RunRecord, checkpoint: dict[str, Any] | None = None) -> dict[str, Any]:
    """``{"checkpoint": dict | None, "verification": {"ok", "problems"}}`` for the report.

    ``checkpoint`` (a checkpoint dict, as a report stores it) is verified instead of choosing one;
    ``rai report verify`` passes the one the report cites. A malformed one is a failed
    verification, not a crash.
    """
    if checkpoint is not None:
        try:
            cp = Checkpoint.from_dict(checkpoint, "cited by the report")
        except Exception as err:  # an edited checkpoint is a finding of verification
            return {"checkpoint": checkpoint, "verification": {"ok": False, "problems": [str(err)]}}
    else:
        last_seq = max((e["seq"] for e in rec.events), default=0)
        cp = _covering_checkpoint(trail, last_seq)
    result = trail.verify(checkpoint=cp)
    return {
        "checkpoint": cp.to_dict() if cp is not None else None,
        # Problems only: sizes and counts grow with the trail and would differ on every check.
        "verification": {"ok": bool(result.ok) and cp is not None,
                         "problems": [str(p) for p in result.problems]
                         or ([] if cp is not None else ["no checkpoint covers this run"])},
    }
