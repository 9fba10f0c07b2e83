"""``rai revoke``: revoke a registered model version; servers stop serving it."""

from __future__ import annotations

from pathlib import Path

import click

from governance.workspace import Workspace
from rai.options import json_option, workspace_option


@click.command("revoke")
@click.argument("name")
@click.argument("version", type=click.IntRange(min=1))
@click.option("--reason", required=True, help="Why; recorded, and shown wherever the entry is.")
@click.option("--actor", help="Who revokes (default: the OS user); a member of a role of the run's policy.")
@click.option("--key", "key", type=click.Path(dir_okay=False, path_type=Path),
              help="Your private key, when you have one (as for `rai approve`).")
@click.option("--registry", type=click.Path(file_okay=False, path_type=Path),
              help="Registry directory (default: the workspace's registry/).")
@workspace_option
@json_option
def revoke(name: str, version: int, reason: str, actor: str | None, key: Path | None, registry: Path | None,
           workspace: Path, as_json: bool) -> None:
    """Revoke NAME VERSION: a signed `model.revoked` event and a revoked.json mark in the entry.

    `rai serve` refuses a revoked version, and a running server stops serving it at its next
    re-check (--recheck-seconds). Revocation is final; a new run registers a new version.
    """
    from governance.textsafe import printable
    from governance.trail import open_trail
    from lifecycle.revoke import revoke_version
    from rai.commands.trail_output import json_text

    ws = Workspace.at(workspace)
    with open_trail(ws, create=False) as trail:
        event = revoke_version(trail, registry or ws.registry, name, version, reason, actor=actor, key=key)
    if as_json:
        click.echo(json_text(event.to_dict()))
        return
    click.echo(printable(f"revoked {name} v{version} (trail entry #{event.seq}, by {event.actor}): {reason.strip()}"))
    click.echo("servers of this version refuse it at their next re-check; reports, model cards and the dashboard show it")
