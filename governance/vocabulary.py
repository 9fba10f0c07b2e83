"""The words every layer shares: stages, run decisions, framework ids and a few defaults.

One owner per fact: checks, the policy schema, the pipeline, the public API, reports and the
dashboard import these names instead of spelling them again. This module imports nothing
beyond the standard library, so anything may depend on it.
"""

from __future__ import annotations

import difflib
from enum import Enum

#: Stages of the lifecycle in order; ``monitor`` runs on live batches after deployment.
STAGES = ("ingest", "train", "evaluate", "optimize", "deploy", "monitor")
#: The stages ``rai run`` sequences (``monitor`` runs separately, on live data).
PIPELINE_STAGES = STAGES[:-1]

#: Compliance frameworks a rule may map to (``maps_to: [eu-ai-act:art-10]``).
FRAMEWORKS = ("eu-ai-act", "nist-ai-rmf", "iso-42001")

#: Groups with fewer rows are listed but left out of disparity metrics, everywhere.
DEFAULT_MIN_GROUP_SIZE = 30


class Decision(str, Enum):
    """How a gate or a run ended. Gates are ``passed`` or ``blocked``; runs may also be
    ``awaiting_approval`` (blocked only by missing approvals) or ``failed`` (could not run)."""

    PASSED = "passed"
    BLOCKED = "blocked"
    AWAITING_APPROVAL = "awaiting_approval"
    FAILED = "failed"

    def __str__(self) -> str:
        return self.value


#: Gate decisions as trails written before the unified vocabulary recorded them.
LEGACY_GATE_DECISIONS = {"pass": Decision.PASSED, "block": Decision.BLOCKED}


def gate_decision(recorded: str | None) -> Decision | None:
    """A recorded gate decision in today's words (``pass``/``block`` from older trails map over)."""
    if recorded is None:
        return None
    if recorded in LEGACY_GATE_DECISIONS:
        return LEGACY_GATE_DECISIONS[recorded]
    try:
        return Decision(recorded)
    except ValueError:
        return None


def closest(name: str, choices: tuple[str, ...] | list[str]) -> str:
    """``; did you mean 'x'?`` for the choices close to ``name``, or an empty string."""
    close = difflib.get_close_matches(name, list(choices), n=3, cutoff=0.5)
    return f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""


def stage_error(stage: object) -> str | None:
    """Why ``stage`` is not a stage (with the allowed values), or ``None`` if it is one."""
    if isinstance(stage, str) and stage in STAGES:
        return None
    hint = closest(stage, STAGES) if isinstance(stage, str) else ""
    return f"unknown stage {stage!r}{hint} (stages: {', '.join(STAGES)})"
