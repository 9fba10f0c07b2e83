"""Helpers shared by the ``rai audit`` subcommands: policy rules, findings, the trail record.

Each subcommand reads its files with :mod:`governance.io`, builds an
:class:`~governance.evidence.Evidence`, and uses these helpers to run the policy rules of its
check families, print the findings and record the audit.
"""

from __future__ import annotations

import errno
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from governance.display import format_value
from governance.errors import UserError
from governance.findings import Finding
from governance.textsafe import markup
from governance.vocabulary import Status
from governance.workspace import Workspace

if TYPE_CHECKING:  # rich is imported when a table is printed: --json output does not pay for it
    from rich.console import Console

_STATUS_STYLE = {
    Status.PASSED: "green", Status.FAILED: "bold red", Status.ERROR: "bold red",
    Status.WARNING: "yellow", Status.WAIVED: "cyan", Status.SKIPPED: "dim",
    Status.INCONCLUSIVE: "magenta",
}


def load_rules(path: str, prefixes: tuple[str, ...]):
    """Load the policy at ``path``; return it and its rules whose check starts with ``prefixes``
    (or whose check says it belongs to one of those audits, as plugin checks do).

    Raises
    ------
    UserError
        The policy is invalid (``FILE:LINE:COL: ...``) or has no rule of these check families.
    """
    from governance.checks.base import load_all
    from governance.policy.loader import load_policy

    policy = load_policy(path)
    registry = load_all()
    families = {prefix.rstrip(".") for prefix in prefixes}
    # Plugin checks join the audit whose evidence they need (``audits = ("fairness",)``).
    rules = [rule for rule in policy.rules if rule.check.startswith(prefixes)
             or families & set(getattr(registry.get(rule.check), "audits", ()))]
    if not rules:
        families = " or ".join(f"{p}*" for p in prefixes)
        raise UserError(f"{path}: no {families} rules to audit (rules: {len(policy.rules)})")
    return policy, rules


def rule_param(rule, name: str, default: Any = None) -> Any:
    """A rule parameter, from its validated ``Params`` when the loader filled them in."""
    if rule.validated is not None:
        return getattr(rule.validated, name, default)
    return rule.params.get(name, default)


def print_findings(console: Console, findings: list[Finding]) -> None:
    """A findings table, each finding's message, and the gate decision."""
    from rai.commands.termtable import TermTable, print_table

    table = TermTable(title="Policy findings", keys=1)
    for column in ("rule", "check", "stage", "severity", "status", "observed", "threshold"):
        table.add_column(column)
    for f in findings:
        style = _STATUS_STYLE.get(f.status, "")
        table.add_row(
            markup(f.rule_id), markup(f.check), markup(f.stage), markup(f.severity.value),
            f"[{style}]{markup(f.status.value)}[/]", markup(_observed(f)), markup(format_value(f.threshold)),
        )
    print_table(console, table)
    for f in findings:  # messages are long; below the table they stay readable at any width
        console.print(f"[bold]{markup(f.rule_id)}[/]: {markup(f.message)}", highlight=False)
    blocked = [f.rule_id for f in findings if f.blocks]
    if blocked:
        console.print(f"[bold red]decision: blocked[/] ({markup(', '.join(blocked))})")
    else:
        console.print("[green]decision: passed[/]")


def _observed(f: Finding) -> str:
    """The observed value, with its confidence interval when the rule decided on one (as reports show it)."""
    if isinstance(f.evidence, dict) and isinstance(f.evidence.get("confidence"), dict):
        from governance.report.layout_intervals import observed_text

        return observed_text({"observed": f.observed, "evidence": f.evidence})
    return format_value(f.observed)


def record_audit(workspace: Path, kind: str, inputs: dict[str, str], result: dict[str, Any],
                 policy: Any = None) -> str:
    """Record the audit as a run of kind ``audit`` (:func:`governance.api.record_audit`); its run id."""
    from governance.api import record_audit as record

    ws = writable_workspace(workspace)
    try:
        return record(ws.root, kind, inputs, result, policy)
    except OSError as err:  # the trail's own errors are UserErrors already; this is the file system
        raise UserError(f"--record: cannot write the trail in {workspace}: {err.strerror or err}; "
                        "nothing was recorded") from None


def writable_workspace(path: Path) -> Workspace:
    """The workspace at ``path``, created if missing; UserError when rai cannot write there.

    Checked before the trail is opened, so that a read-only directory reads as what it is (a
    usage error, exit 2) rather than as a trail that cannot be opened.
    """
    ws = Workspace.at(path)
    try:
        ws.ensure()
        # SQLite writes the trail file and, beside it, its write-ahead log.
        targets = [ws.root, *([ws.trail_db] if ws.trail_db.exists() else [])]
        if ws.trail_url is None and not all(os.access(target, os.W_OK) for target in targets):
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES))
    except OSError as err:
        raise UserError(f"--record: cannot write to the workspace {path}: {err.strerror or err}; "
                        "nothing was recorded") from None
    return ws


def exit_blocked(findings: list[Finding]) -> None:
    """Exit 1 when a finding blocks (the gate's exit code); return otherwise."""
    if any(f.blocks for f in findings):
        sys.exit(1)  # not click's Exit: the CLI runs click with standalone_mode=False
