"""The trail section of a report: the signed checkpoint it cites and the result of verifying it.

A report cites the *smallest* trusted checkpoint that covers every event of the run, so that
generating the report of a finished run twice cites the same checkpoint. Building a report only
reads: when no checkpoint covers the run yet (a run interrupted before its final checkpoint), the
report says so, and the commands that sign (``rai report``, ``rai model-card``, ``rai trail
checkpoint``) sign one first with :func:`ensure_covered`.
"""

from __future__ import annotations

from typing import Any

from governance.report.source import RecordedRun
from governance.trail import Checkpoint, TrailIntegrityError

NOT_COVERED = "no signed checkpoint covers this run yet: run `rai trail checkpoint` (or `rai report`, which signs one)"


def covering_checkpoint(trail: Any, last_seq: int, upto: int | None = None) -> Checkpoint | None:
    """The smallest trusted checkpoint covering entry ``last_seq`` (and at most ``upto`` entries); pure."""
    from governance.trail.signing import KeyRing
    from governance.trail.verify import check_signature

    trusted = KeyRing(trail.workspace.keys).trusted()
    for cp in trail.checkpoints():  # smallest first
        if cp.tree_size >= last_seq and (upto is None or cp.tree_size <= upto) \
                and check_signature(cp, trusted) is None:
            return cp
    return None


def last_seq_of(trail: Any, run_id: str) -> int:
    """The entry number of the run's last event (0 when it has none)."""
    return max((e.seq for e in trail.iter_events(run_id=run_id)), default=0)


def ensure_covered(trail: Any, run_id: str) -> tuple[Checkpoint | None, bool]:
    """Sign a checkpoint when none covers ``run_id`` yet: ``(the covering checkpoint or None, signed now)``.

    Only commands that say they sign call this; a trail that does not verify is not signed.
    """
    cp = covering_checkpoint(trail, last_seq_of(trail, run_id))
    if cp is not None:
        return cp, False
    try:
        return trail.checkpoint(), True
    except TrailIntegrityError:
        return None, False


def citation(trail: Any, run_id: str) -> tuple[dict[str, Any] | None, int | None, str]:
    """What a reader that never signs cites: ``(checkpoint, upto_seq, note)``.

    The smallest trusted checkpoint covering the run; else the latest one, with the report
    stopping at its size (``upto_seq``) and a note saying so; ``(None, None, why)`` when the
    workspace has no signed checkpoint at all.
    """
    latest = trail.latest_checkpoint()
    if latest is None:
        return None, None, ("This workspace has no signed checkpoint to cite yet. Run `rai trail checkpoint` "
                            "(or `rai report`), then generate the report here.")
    cp = covering_checkpoint(trail, last_seq_of(trail, run_id), upto=latest.tree_size)
    if cp is not None:
        return cp.to_dict(), None, ""
    return latest.to_dict(), latest.tree_size, (
        f"No signed checkpoint covers this run's events after entry {latest.tree_size:,}: the report describes "
        "the run up to there. Run `rai trail checkpoint` to include the rest.")


def trail_section(trail: Any, rec: RecordedRun, checkpoint: dict[str, Any] | None = None) -> dict[str, Any]:
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
        cp = covering_checkpoint(trail, last_seq)
    result = trail.verify(checkpoint=cp)
    return {
        "checkpoint": cp.to_dict() if cp is not None else None,
        # Problems only: sizes and counts grow with the trail and would differ on every check.
        "verification": {"ok": bool(result.ok) and cp is not None,
                         "problems": [str(p) for p in result.problems]
                         or ([] if cp is not None else [NOT_COVERED])},
    }
