"""``rai policy``: lint, test and start policy files; print the JSON Schema of the policy format."""

from __future__ import annotations

import json
import sys

import click

from governance.errors import LocatedError
from governance.policy.jsonschema import policy_json_schema
from governance.policy.loader import read_policy
from governance.textsafe import printable
from rai.cioutput import ci_format_option, emit
from rai.options import json_option


@click.group("policy")
def policy() -> None:
    """Lint, test and start policy files; print the policy JSON Schema."""


@policy.command("lint")
@click.argument("files", nargs=-1, required=True)
@json_option
@ci_format_option
def lint(files: tuple[str, ...], as_json: bool, ci_format: str | None) -> None:
    """Check policy FILES (or shipped packs, rai:NAME) strictly; print one line per problem.

    Exits 0 when every file is valid and 2 otherwise.
    """
    results = [_lint_one(file) for file in files]
    if ci_format:
        from governance.report.ci import from_lint

        emit(ci_format, from_lint(results), 0 if all(r["valid"] for r in results) else 2)
    elif as_json:
        valid = all(r["valid"] for r in results)
        click.echo(json.dumps({"valid": valid, "files": results}, indent=2))
    else:
        for result in results:
            for error in result["errors"]:  # may quote the policy's keys and values: shown, never obeyed
                click.echo(printable(error["text"]))
            if result["valid"]:
                click.echo(printable(f"{result['file']}: ok ({result['rules']} rules, fail_on {result['fail_on']})"))
    if not all(r["valid"] for r in results):
        sys.exit(2)


def _lint_one(file: str) -> dict:
    policy_, errors = read_policy(file)
    return {
        "file": file,
        "valid": not errors,
        "rules": len(policy_.rules) if policy_ else None,
        "fail_on": policy_.fail_on.value if policy_ else None,
        "sha256": policy_.sha256 if policy_ else None,
        "errors": [_error_dict(e) for e in errors],
    }


def _error_dict(error: LocatedError) -> dict:
    return {
        "file": error.file,
        "line": error.line,
        "col": error.col,
        "path": error.path,
        "message": error.message,
        "text": error.format(),
    }


@policy.command("schema")
def schema() -> None:
    """Print the JSON Schema of policy files (every check's params included) for editors."""
    click.echo(json.dumps(policy_json_schema(), indent=2))


def _add_subcommands() -> None:
    from rai.commands.policy_init import init
    from rai.commands.policy_test import test

    policy.add_command(test)
    policy.add_command(init)


_add_subcommands()
