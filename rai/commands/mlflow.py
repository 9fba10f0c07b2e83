"""``rai mlflow``: mirror runs into MLflow again, and pull verified model versions out of it.

``rai mlflow sync RUN_ID`` (or ``--pending``) retries the mirror of finished runs (exit 0 all
mirrored, 1 some could not be, each recorded as ``mlflow.mirror_failed``, 2 bad input).
``rai mlflow pull models:/NAME@ALIAS --into DIR`` downloads a model version, verifies its signed
manifest and files, and lays it out as a rai registry for ``rai monitor`` and ``rai serve``.
MLflow is imported only when one of these commands talks to the server.
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from governance.errors import UserError
from governance.textsafe import printable
from governance.workspace import Workspace
from rai.options import json_option, workspace_option

mlflow_option = click.option("--mlflow", "uri", metavar="URI", envvar="MLFLOW_TRACKING_URI",
                             help="MLflow tracking URI (default: $MLFLOW_TRACKING_URI).")


def server(uri: str | None, *, required: bool = True):
    """The :class:`~lifecycle.mlflow_config.Tracking` of a command's ``--mlflow`` (None if optional and absent)."""
    from lifecycle.mlflow_config import Tracking, require_mlflow, tracking_spec

    if not uri:
        if required:
            raise UserError("--mlflow: give the MLflow tracking URI (or set MLFLOW_TRACKING_URI)")
        return None
    spec = tracking_spec(uri, "--mlflow")
    require_mlflow()
    return Tracking(spec, "")


@click.group("mlflow")
def mlflow() -> None:
    """Mirror runs into MLflow again; pull verified model versions from MLflow's registry."""


@mlflow.command("sync")
@click.argument("run_ids", nargs=-1, metavar="[RUN_ID]...")
@click.option("--pending", is_flag=True, help="Every run whose last mirror attempt failed.")
@mlflow_option
@workspace_option
@json_option
def sync(run_ids: tuple[str, ...], pending: bool, uri: str | None, workspace: Path, as_json: bool) -> None:
    """Mirror finished runs into MLflow (to --mlflow, or where each run was meant to go)."""
    from governance.trail import open_trail
    from lifecycle.mlflow_config import require_mlflow
    from lifecycle.mlflow_sync import pending_runs, sync_run

    if bool(run_ids) == pending:
        raise click.UsageError("give RUN_ID(s) or --pending (not both)")
    server(uri, required=False)
    require_mlflow()
    ws = Workspace.at(workspace)
    with open_trail(ws, create=False) as trail:
        wanted = pending_runs(trail) if pending else list(run_ids)
        outcomes = [sync_run(trail, ws, run_id, uri or None) for run_id in wanted]
    if as_json:
        click.echo(json.dumps({"schema_version": 1, "runs": [o.to_dict() for o in outcomes]}, indent=2))
    elif not outcomes:
        click.echo("no run waits for its MLflow mirror")
    for outcome in outcomes if not as_json else []:
        if outcome.ok:
            click.echo(printable(f"mirrored {outcome.run_id} to MLflow run {outcome.mlflow_run_id} "
                                 f"(experiment {outcome.experiment!r} at {outcome.tracking_uri})"))
        else:
            click.echo(printable(f"not mirrored {outcome.run_id}: {outcome.error}"), err=True)
    if not all(o.ok for o in outcomes):
        raise click.exceptions.Exit(1)


@mlflow.command("pull")
@click.argument("model_uri", metavar="models:/NAME@ALIAS|models:/NAME/VERSION")
@click.option("--into", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="Registry directory to place the verified entry in (DIR/NAME/VERSION).")
@mlflow_option
@workspace_option
@json_option
def pull(model_uri: str, into: Path, uri: str | None, workspace: Path, as_json: bool) -> None:
    """Download a model version from MLflow, verify its signed manifest and files, keep it in --into."""
    from lifecycle.mlflow_registry import pull as pull_version

    pulled = pull_version(server(uri), model_uri, into, Workspace.at(workspace))
    entry = pulled.entry
    if as_json:
        click.echo(json.dumps({"schema_version": 1, "name": entry.name, "version": entry.version,
                               "path": str(entry.dir), "run_id": pulled.rai_run_id, "mlflow_name": pulled.mlflow_name,
                               "mlflow_version": pulled.mlflow_version}, indent=2))
        return
    click.echo(printable(f"verified {entry.name} v{entry.version} (MLflow {pulled.mlflow_name} v{pulled.mlflow_version}, "
                         f"rai run {pulled.rai_run_id}) into {entry.dir}"))
    click.echo(printable(f"re-audit it on new data: rai monitor BATCH --model {entry.name} --version {entry.version} "
                         f"--registry {into}"))
