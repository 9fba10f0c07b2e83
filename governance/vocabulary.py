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

#: Kinds of trail events (their payloads are documented in :mod:`governance.trail`). Readers such
#: as the dashboard's log filter offer these; a trail may hold kinds a newer rai wrote.
EVENT_KINDS = (
    "run.started", "stage.completed", "gate.decided", "waiver.applied", "approval.recorded", "run.resumed",
    "model.registered", "model.deployed", "audit.completed", "drift.checked", "run.finished", "key.rotated",
    "mlflow.mirrored", "mlflow.mirror_failed", "mlflow.model_registered", "model.promoted",
)

#: Compliance frameworks a rule may map to (``maps_to: [eu-ai-act:art-10]``).
FRAMEWORKS = ("eu-ai-act", "nist-ai-rmf", "iso-42001")

#: Groups with fewer rows are listed but left out of disparity metrics, everywhere.
DEFAULT_MIN_GROUP_SIZE = 30

#: What a model predicts: two classes, one of several classes, or a number.
TASKS = ("binary", "multiclass", "regression")


class Status(str, Enum):
    """Outcome of one rule at one stage."""

    PASSED = "passed"
    FAILED = "failed"  # failed at or above the policy's ``fail_on``: blocks
    WARNING = "warning"  # failed below ``fail_on``: reported, does not block
    ERROR = "error"  # the check could not run (raised, missing evidence): blocks
    SKIPPED = "skipped"
    WAIVED = "waived"
    # the confidence interval straddles the threshold: blocks when ``on_inconclusive`` is block
    INCONCLUSIVE = "inconclusive"


#: Worst first: how reports and the dashboard order statuses.
STATUS_ORDER = ("error", "failed", "inconclusive", "warning", "waived", "passed", "skipped")


def status_blocks(status: str | None, on_inconclusive: str | None = None) -> bool:
    """Whether a finding with this status blocks its gate (also for findings read back as dicts)."""
    if status == Status.INCONCLUSIVE.value:
        return on_inconclusive == "block"
    return status in (Status.FAILED.value, Status.ERROR.value)


def finding_blocks(finding: dict) -> bool:
    """:func:`status_blocks` of a recorded finding (``Finding.to_dict()``)."""
    return status_blocks(finding.get("status"), finding.get("on_inconclusive"))


class Severity(str, Enum):
    """Rule severity, ordered ``low < medium < high < critical``."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        return ("low", "medium", "high", "critical").index(self.value)


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
