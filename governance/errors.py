"""User-facing errors: one clean line each, never a traceback.

A :class:`UserError` is a mistake the user can fix (a malformed policy, a missing column, an
unreadable file). The CLI prints its message on one line and exits with code 2.
"""

from __future__ import annotations

from pathlib import Path


class UserError(Exception):
    """A mistake in the user's input; the CLI prints ``str(err)`` and exits 2."""

    exit_code = 2


class LocatedError(UserError):
    """An error at a place in a file: ``FILE:LINE:COL: path: message``.

    Parameters
    ----------
    file : path of the offending file (shown as given, relative paths stay relative)
    line, col : 1-based position, or ``None`` when unknown
    path : dotted/indexed location inside the document, e.g. ``rules[2].params.max``
    message : what is wrong and, where possible, what is allowed
    """

    def __init__(self, file: str | Path, line: int | None, col: int | None, path: str, message: str):
        self.file = str(file)
        self.line = line
        self.col = col
        self.path = path
        self.message = message
        super().__init__(self.format())

    def format(self) -> str:
        where = self.file
        if self.line is not None:
            where += f":{self.line}"
            if self.col is not None:
                where += f":{self.col}"
        return f"{where}: {self.path}: {self.message}" if self.path else f"{where}: {self.message}"


class MissingEvidence(Exception):
    """A check asked for evidence the stage did not provide (becomes an ``error`` finding)."""

    def __init__(self, name: str, detail: str = ""):
        self.name = name
        super().__init__(f"missing evidence '{name}'" + (f": {detail}" if detail else ""))


class PolicyError(UserError):
    """A policy file that does not load: the same one located line as ``rai policy lint``."""


class GateBlocked(Exception):
    """A gate blocked (exit code 1 in the CLI); ``result`` is the :class:`GateResult` with the findings."""

    exit_code = 1

    def __init__(self, result):
        self.result = result
        rules = ", ".join(f.rule_id for f in result.blocking) or "no rule"
        super().__init__(f"gate '{result.stage}' blocked by {rules}")
