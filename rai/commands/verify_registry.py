"""``rai verify-registry``: which MLflow model versions and aliases does the trail not vouch for?

Every version of the models rai registered (or of ``--name``) is checked: a ``rai.run_id`` tag
naming a passed run in this workspace's trail, a registration the trail records, files that
verify against the signed manifest rai registered; every alias must be where ``rai promote``
last put it. Exit 0 when all hold, 1 when something does not (each problem on its own line),
2 on a usage mistake or an unreachable server.
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from governance.textsafe import printable
from governance.workspace import Workspace
from rai.commands.mlflow import mlflow_option, server
from rai.options import json_option, workspace_option


@click.command("verify-registry")
@click.option("--name", "names", multiple=True, help="Only this registered model (repeatable; default: rai's).")
@mlflow_option
@workspace_option
@json_option
def verify_registry(names: tuple[str, ...], uri: str | None, workspace: Path, as_json: bool) -> None:
    """Report MLflow model versions whose alias or files do not match a passed, signed rai run."""
    from lifecycle.mlflow_promote import verify_registry as check_registry

    checks = check_registry(server(uri), Workspace.at(workspace), list(names))
    bad = [c for c in checks if not c.ok]
    if as_json:
        click.echo(json.dumps({"schema_version": 1, "ok": not bad, "versions": [c.to_dict() for c in checks]},
                              indent=2))
    else:
        for check in checks:
            aliases = f" [{', '.join(check.aliases)}]" if check.aliases else ""
            head = f"{'ok  ' if check.ok else 'FAIL'} {check.name} v{check.version}{aliases}"
            click.echo(printable(f"{head}: rai run {check.run_id}" if check.ok else f"{head}: {check.problems[0]}"))
            for problem in check.problems[1:]:
                click.echo(printable(f"     also: {problem}"))
        click.echo(f"{len(checks)} version{'s' if len(checks) != 1 else ''} checked, {len(bad)} not governed")
    if bad:
        raise click.exceptions.Exit(1)
