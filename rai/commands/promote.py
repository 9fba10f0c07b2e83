"""``rai promote NAME VERSION``: move MLflow's ``champion`` alias only to a governed, approved version.

Exit codes: 0 promoted (and recorded as ``model.promoted``), 1 refused (the version's rai run did
not pass, its files or manifest do not verify, or its approvals do not hold; one line says
why), 2 a usage mistake (an unknown model or version, MLflow unreachable).
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from governance.textsafe import printable
from governance.workspace import Workspace
from rai.commands.mlflow import mlflow_option, server
from rai.options import json_option, workspace_option


@click.command("promote")
@click.argument("name")
@click.argument("version", type=click.IntRange(min=1))
@click.option("--alias", default="champion", show_default=True, help="The MLflow alias to move.")
@click.option("--require-approval", "roles", multiple=True, metavar="ROLE",
              help="Also require an approval by this role (rai approve RUN_ID --role ROLE); repeatable.")
@click.option("--actor", help="Who promotes (default: the OS user).")
@mlflow_option
@workspace_option
@json_option
def promote(name: str, version: int, alias: str, roles: tuple[str, ...], actor: str | None, uri: str | None,
            workspace: Path, as_json: bool) -> None:
    """Point ALIAS of MLflow model NAME at VERSION after checking its rai run's gates and approvals."""
    from lifecycle.mlflow_promote import PromotionRefused
    from lifecycle.mlflow_promote import promote as promote_version

    try:
        done = promote_version(server(uri), name, version, Workspace.at(workspace), alias=alias,
                               require_roles=list(roles), actor=actor)
    except PromotionRefused as refused:
        click.echo(printable(f"error: {refused}"), err=True)
        raise click.exceptions.Exit(refused.exit_code) from None
    if as_json:
        click.echo(json.dumps({"schema_version": 1, **done}, indent=2, default=str))
        return
    before = f" (was v{done['previous_version']})" if done["previous_version"] else ""
    click.echo(printable(f"promoted {name} v{version} to '{alias}'{before}: rai run {done['run_id']}, "
                         f"recorded as model.promoted #{done['seq']}"))
