"""``rai approve``: record a human decision on a run (approve, reject, withdraw a rejection)."""

from __future__ import annotations

from pathlib import Path

import click

from governance.workspace import Workspace
from rai.options import json_option, workspace_option


@click.command("approve")
@click.argument("run_id")
@click.option("--role", required=True, help="The role decided for: one of the policy's roles, e.g. model-risk.")
@click.option("--decision", required=True, type=click.Choice(["approve", "reject", "withdraw"]),
              help="withdraw: take back your own rejection (give the reason with --comment).")
@click.option("--comment", help="Why; recorded with the decision (required to withdraw).")
@click.option("--actor", help="Who decides (default: the OS user); must be a member of the role.")
@click.option("--key", "key", type=click.Path(dir_okay=False, path_type=Path),
              help="Your private key, when you have one (default: $RAI_APPROVER_KEY, else your file made by "
                   "`rai keys create`).")
@workspace_option
@json_option
def approve(run_id: str, role: str, decision: str, comment: str | None, actor: str | None, key: Path | None,
            workspace: Path, as_json: bool) -> None:
    """Record a decision on RUN_ID in the trail, read by deploy-stage checks.

    The decision is refused (exit code 2, nothing recorded) when the role is not the policy's, the
    actor is not one of its members, the actor already decided for another role of this run or
    started it (separation of duties), the run has finished, was rejected or revoked, or the key
    is missing or not the actor's. Rejecting a run whose model is registered revokes that entry.
    """
    from governance.trail import open_trail
    from governance.trail.approvals import decide
    from rai.commands.trail_output import json_text

    with open_trail(Workspace.at(workspace), create=False) as trail:
        done = decide(trail, run_id, role, decision, actor=actor, comment=comment, key=key)
    if as_json:
        click.echo(json_text({**done.event.to_dict(), "run_state": done.run.assessment().to_dict(),
                              "revoked": [e.to_dict() for e in done.revoked]}))
        return
    for line in outcome_lines(done):
        click.echo(line)


def outcome_lines(done) -> list[str]:
    """What ``rai approve`` says: the event, the run's state, and what comes next (never "approve"
    for a rejected run)."""
    from governance.textsafe import printable

    ev, run = done.event, done.run
    state = run.assessment()
    verb = {"approve": "approves", "reject": "rejects", "withdraw": "withdraws its rejection of"}[ev.payload["decision"]]
    signed = (f"signed with key {ev.payload['signature']['key_id'][:16]}…" if ev.payload.get("signature")
              else f"unsigned: {ev.actor} has no registered key (`rai keys create --actor {ev.actor}`)")
    lines = [f"recorded {ev.kind} #{ev.seq}: {ev.payload['role']} {verb} run {run.run_id} (actor {ev.actor}, {signed})"]
    for e in done.revoked:
        lines.append(f"revoked {e.payload['name']} v{e.payload['version']} (trail entry #{e.seq}): the registry "
                     "entry is marked revoked and `rai serve` stops serving it at its next re-check")
    lines.append(f"run {run.run_id}: {state_line(run, state)}")
    return [printable(line) for line in lines]


def state_line(run, state) -> str:
    """The run's accountability state in one line, with the next step."""
    if state.state == "rejected":
        r = state.rejections[0]
        return (f"rejected by {r['actor']} ({r['role']}); final unless {r['actor']} withdraws the rejection "
                "with a reason")
    if state.state == "approved":
        if not state.roles:
            return "no approval is required by its policy"
        if run.finished == "awaiting_approval":
            again = (f"rai.start_run(..., resume={run.run_id!r})" if run.kind == "api"
                     else f"rai run --resume {run.run_id}")
            return f"approved by every required role; continue it with {again}"
        return "approved by every required role"
    return "waiting: " + "; ".join(state.missing())
