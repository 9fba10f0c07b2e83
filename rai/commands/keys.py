"""``rai keys``: approvers' Ed25519 keys (create, list)."""

from __future__ import annotations

from pathlib import Path

import click

from governance.workspace import Workspace
from rai.options import json_option, workspace_option


@click.group("keys")
def keys() -> None:
    """Approvers' keys: each person's decisions are signed with their own key and checked by
    `rai trail verify` against the key registered for them (or listed in the policy's roles)."""


@keys.command("create")
@click.option("--actor", required=True, help="Whose key: the name they decide as (`rai approve --actor`).")
@click.option("--private-key", "private_key", type=click.Path(dir_okay=False, path_type=Path),
              help="Where to write the private key (default: $RAI_APPROVER_KEYS/ACTOR.pem, else "
                   "~/.config/rai/approver-keys/ACTOR.pem). Keep it to yourself.")
@click.option("--replace", is_flag=True, help="Register a new key for someone who has one (their decisions "
                                               "signed with the old key still verify).")
@workspace_option
@json_option
def create(actor: str, private_key: Path | None, replace: bool, workspace: Path, as_json: bool) -> None:
    """Create ACTOR's key: the private key (mode 0600) and its public key registered in the trail
    (`actor.key_registered`) and listed in the workspace (keys/actors/ACTOR.pub)."""
    from governance.textsafe import printable
    from governance.trail import open_trail
    from governance.trail.actor_keys import create_key
    from rai.commands.trail_output import json_text

    with open_trail(Workspace.at(workspace).ensure()) as trail:
        event, path = create_key(trail, actor, private_key, replace=replace)
    if as_json:
        click.echo(json_text({"actor": actor, "key_id": event.payload["key_id"], "public_key": event.payload["public_key"],
                              "private_key": str(path), "seq": event.seq}))
        return
    click.echo(printable(f"created key {event.payload['key_id'][:16]}… for {actor}: private key {path} (mode 0600), "
                         f"registered as trail entry #{event.seq}"))
    click.echo(f"public key (for the policy's roles: {{name: {printable(actor)}, key: ...}}): {event.payload['public_key']}")


@keys.command("list")
@workspace_option
@json_option
def list_keys(workspace: Path, as_json: bool) -> None:
    """List every registered approver key, and whether the workspace lists the current one."""
    from governance.textsafe import printable
    from governance.trail import open_trail
    from governance.trail.actor_keys import listed_keys
    from rai.commands.trail_output import json_text

    with open_trail(Workspace.at(workspace), create=False) as trail:
        rows = listed_keys(trail)
    if as_json:
        click.echo(json_text(rows))
        return
    if not rows:
        click.echo("no approver keys registered: decisions are recorded unsigned (`rai keys create --actor NAME`)")
    for r in rows:
        state = "current" if r["current"] else "replaced"
        copy = "" if r["workspace_copy"] is None else ("" if r["workspace_copy"] else "; keys/actors copy missing or different")
        click.echo(printable(f"{r['actor']}  {r['key_id']}  {state} ({r['registered']}{copy})"))
