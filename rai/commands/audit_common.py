"""Helpers shared by the ``rai audit`` subcommands: policy rules, findings, the trail record.

Each subcommand reads its files with :mod:`governance.io`, builds an
:class:`~governance.evidence.Evidence`, and uses these helpers to run the policy rules of its
check families, print the findings and record the audit.
"""

from __future__ import annotations

import errno
import os
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from governance.errors import UserError
from governance.evidence import Evidence
from governance.findings import Finding, GateResult, Status
from governance.textsafe import markup
from governance.workspace import Workspace

if TYPE_CHECKING:  # rich is imported when a table is printed: --json output does not pay for it
    from rich.console import Console

_STATUS_STYLE = {
    Status.PASSED: "green", Status.FAILED: "bold red", Status.ERROR: "bold red",
    Status.WARNING: "yellow", Status.WAIVED: "cyan", Status.SKIPPED: "dim",
    Status.INCONCLUSIVE: "magenta",
}


def load_rules(path: str, prefixes: tuple[str, ...]):
    """Load the policy at ``path``; return it and its rules whose check starts with ``prefixes``.

    Raises
    ------
    UserError
        The policy is invalid (``FILE:LINE:COL: ...``) or has no rule of these check families.
    """
    from governance.policy.loader import load_policy

    policy = load_policy(path)
    rules = [rule for rule in policy.rules if rule.check.startswith(prefixes)]
    if not rules:
        families = " or ".join(f"{p}*" for p in prefixes)
        raise UserError(f"{path}: no {families} rules to audit (rules: {len(policy.rules)})")
    return policy, rules


def rule_param(rule, name: str, default: Any = None) -> Any:
    """A rule parameter, from its validated ``Params`` when the loader filled them in."""
    if rule.validated is not None:
        return getattr(rule.validated, name, default)
    return rule.params.get(name, default)


def run_rules(policy, rules: Iterable, evidence: Evidence) -> list[Finding]:
    """Evaluate ``rules`` against ``evidence``, each at its own stage, in policy order."""
    from governance.engine import evaluate

    findings = []
    for rule in rules:
        # One rule at a time keeps each finding's stage the rule's own stage.
        findings.extend(evaluate(policy, rule.stage, evidence, rules=[rule]).findings)
    return findings


def policy_summary(policy, findings: list[Finding]) -> dict[str, Any]:
    """The ``policy``, ``decision`` and ``findings`` keys added to an audit's JSON object."""
    return {
        "policy": {"name": policy.policy, "version": policy.version, "sha256": policy.sha256,
                   "source": policy.source},
        "decision": GateResult(stage="audit", findings=findings).decision,
        "findings": [f.to_dict() for f in findings],
    }


def print_findings(console: Console, findings: list[Finding]) -> None:
    """A findings table, each finding's message, and the gate decision."""
    from rich.table import Table

    table = Table(title="Policy findings", title_justify="left")
    for column in ("rule", "check", "stage", "severity", "status", "observed", "threshold"):
        table.add_column(column, overflow="fold")
    for f in findings:
        style = _STATUS_STYLE.get(f.status, "")
        table.add_row(
            markup(f.rule_id), markup(f.check), markup(f.stage), markup(f.severity.value),
            f"[{style}]{markup(f.status.value)}[/]", markup(format_value(f.observed)), markup(format_value(f.threshold)),
        )
    console.print(table)
    for f in findings:  # messages are long; below the table they stay readable at any width
        console.print(f"[bold]{markup(f.rule_id)}[/]: {markup(f.message)}", highlight=False)
    blocked = [f.rule_id for f in findings if f.blocks]
    if blocked:
        console.print(f"[bold red]decision: blocked[/] ({markup(', '.join(blocked))})")
    else:
        console.print("[green]decision: passed[/]")


def format_value(value: Any) -> str:
    """Numbers to four significant digits, dicts as ``k=v``, ``None`` as empty."""
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, dict):
        return ", ".join(f"{k}={format_value(v)}" for k, v in value.items())
    return str(value)


def record_audit(workspace: Path, kind: str, inputs: dict[str, str], result: dict[str, Any]) -> Any:
    """Append an ``audit.completed`` event to the workspace's trail and return it.

    ``inputs`` maps each file read to its SHA-256 (also the event's ``inputs`` subjects);
    ``result`` is the audit's JSON object, with ``findings`` and ``decision`` when a policy ran
    (``decision`` is ``None`` without one).
    """
    try:
        from governance.trail import open_trail
    except ImportError:
        raise UserError("--record: the audit trail is not available in this installation") from None
    payload = {
        "kind": kind,
        "inputs": inputs,
        "result": result,
        "findings": result.get("findings", []),
        "decision": result.get("decision"),
    }
    try:
        with open_trail(writable_workspace(workspace)) as trail:
            return trail.append(kind="audit.completed", payload=payload,
                                subjects={"inputs": sorted(set(inputs.values()))})
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
