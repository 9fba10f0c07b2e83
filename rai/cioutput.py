"""``--format sarif|junit|github``: the results of a command for CI systems, on stdout.

``sarif`` and ``junit`` make stdout one document (redirect it to a file); ``github`` prints
workflow commands that GitHub Actions turns into annotations on the policy file's lines. The
exit code stays the command's own: 0 passed, 1 blocked (or a test failed), 2 a user mistake,
which prints its one line on stderr and no document.
"""

from __future__ import annotations

import contextlib
import functools
import io
import json
import sys
from collections.abc import Callable
from typing import Any

import click

from governance.report.ci import FORMATS, CIResult, from_findings, github, junit

ci_format_option = click.option(
    "--format", "ci_format", type=click.Choice(FORMATS),
    help="Print results for CI instead: SARIF 2.1.0, JUnit XML or GitHub workflow commands.")


def emit(ci_format: str, results: list[CIResult], exit_code: int, name: str = "rai") -> None:
    """Print ``results`` in ``ci_format`` on stdout."""
    if ci_format == "sarif":
        from governance.report.sarif import sarif

        click.echo(json.dumps(sarif(results, exit_code=exit_code), indent=2))
    elif ci_format == "junit":
        click.echo(junit(results, name), nl=False)
    else:
        click.echo(github(results), nl=False)


def policy_of(source: str | None) -> Any:
    """The policy at ``source`` (to locate rules), or None when there is none to read."""
    if not source:
        return None
    from governance.policy.loader import load_policy

    return load_policy(source)


def ci_output(command: Callable[..., Any]) -> Callable[..., Any]:
    """Give an audit command (one that has ``--json``) a ``--format`` for CI.

    The command runs as with ``--json``; its JSON object's ``findings`` become the CI results,
    located in the policy file it names.
    """

    @ci_format_option
    @functools.wraps(command)
    def wrapper(*args: Any, ci_format: str | None = None, **kwargs: Any) -> Any:
        if ci_format is None:
            return command(*args, **kwargs)
        if kwargs.get("as_json"):
            raise click.UsageError("--format and --json both choose the output: give one")
        buffer, code = io.StringIO(), 0
        with contextlib.redirect_stdout(buffer):
            try:
                command(*args, **{**kwargs, "as_json": True})
            except SystemExit as exit_:
                code = exit_.code if isinstance(exit_.code, int) else 1
        result = json.loads(buffer.getvalue())
        policy = policy_of((result.get("policy") or {}).get("source"))
        emit(ci_format, from_findings(result.get("findings") or [], policy), code)
        sys.exit(code)

    return wrapper
