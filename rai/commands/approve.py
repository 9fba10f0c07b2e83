"""``rai approve``: record a human approval (or rejection) of a run in the audit trail."""

from __future__ import annotations

from pathlib import Path

import click

from governance.workspace import Workspace
from rai.options import json_option, workspace_option


@click.command("approve")
@click.argument("run_id")
@click.option("--role", required=True, help="The approver's role, e.g. risk-officer or model-owner.")
@click.option("--decision", required=True, type=click.Choice(["approve", "reject"]))
@click.option("--comment", help="Why; recorded with the approval.")
@click.option("--actor", help="Who approves (default: the OS user).")
@workspace_option
@json_option
def approve(run_id: str, role: str, decision: str, comment: str | None, actor: str | None,
            workspace: Path, as_json: bool) -> None:
    """Record an approval (or rejection) of RUN_ID in the trail, read by deploy-stage checks."""
    from governance.textsafe import printable
    from governance.trail import open_trail, record_approval
    from rai.commands.trail_output import json_text

    with open_trail(Workspace.at(workspace), create=False) as trail:
        event = record_approval(trail, run_id, role, decision, actor=actor, comment=comment)
    if as_json:
        click.echo(json_text(event.to_dict()))
        return
    # Names are shown as typed, escapes included: the terminal never obeys them.
    click.echo(f"recorded {event.kind} #{event.seq}: {printable(role)} {decision}s run {printable(run_id)} "
               f"(actor {printable(event.actor)})")
