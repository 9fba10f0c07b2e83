"""How a pipeline run reports progress and ends: progress hooks, the result, why a run stopped."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from governance.errors import UserError

EXIT_CODES = {"passed": 0, "blocked": 1, "awaiting_approval": 1, "failed": 2}


class Interrupted(KeyboardInterrupt):
    """A run stopped by a signal; the pipeline records why (``interrupted by SIGTERM``), then re-raises.

    A KeyboardInterrupt, so code that already stops cleanly on Ctrl+C stops the same way.
    ``run_id`` is set once the run's end is recorded.
    """

    def __init__(self, signal_name: str):
        super().__init__(signal_name)
        self.signal_name = signal_name
        self.run_id: str | None = None


class Reporter:
    """Progress hooks for a user interface; the default reports nothing."""

    def stage_started(self, stage: str) -> None:
        """A stage begins."""

    def stage_finished(self, stage: str, status: str, metrics: dict[str, Any]) -> None:
        """A stage and its gate are done (``status`` as in the summary)."""

    def epoch(self, epoch: int, epochs: int, logs: dict[str, float]) -> None:
        """A training epoch ended (counted from 1)."""


@dataclass
class RunResult:
    """How a run ended: its id, decision, the ``--json`` summary and the user error if it failed."""

    run_id: str
    decision: str
    summary: dict[str, Any]
    error: UserError | None = None

    @property
    def exit_code(self) -> int:
        return EXIT_CODES[self.decision]


def stop_reason(err: BaseException) -> str:
    """Why a run stopped, for ``run.finished``: ``interrupted by SIGTERM``, ``internal error: ...``."""
    if isinstance(err, Interrupted):
        return f"interrupted by {err.signal_name}"
    if isinstance(err, KeyboardInterrupt):
        return "interrupted by SIGINT"
    if isinstance(err, SystemExit):
        return f"stopped: exit requested with code {err.code}"
    return f"internal error: {type(err).__name__}: {err}"
