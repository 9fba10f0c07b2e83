"""``rai trail``: verify, checkpoint, prove, check proofs, show, export, rotate the key.

Exit codes: 0 fine, 1 the trail (or a proof) does not verify, 2 anything else (a usage
mistake, an unreachable database).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from governance.errors import UserError
from governance.workspace import Workspace
from rai.options import json_option, workspace_option

checkpoint_file = click.Path(exists=True, dir_okay=False, path_type=Path)


def _open(workspace: Path, create: bool = False):
    from governance.trail import open_trail

    return open_trail(Workspace.at(workspace), create=create)


def _emit(data) -> None:
    click.echo(json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False))


def _filters(f):
    f = click.option("--since", help="Only events at or after this time (ISO 8601, UTC if no zone).")(f)
    f = click.option("--kind", "kinds", multiple=True, help="Only events of this kind (repeatable).")(f)
    return click.option("--run", "run_id", help="Only events of this run id.")(f)


@click.group("trail")
def trail() -> None:
    """Verify, checkpoint, prove, show and export the audit trail."""


@trail.command("verify")
@click.option("--checkpoint", "checkpoints", multiple=True, type=checkpoint_file,
              help="Also verify against this checkpoint file (e.g. one exported earlier); repeatable.")
@click.option("--no-blobs", is_flag=True, help="Skip re-hashing evidence blobs.")
@workspace_option
@json_option
def verify(checkpoints: tuple[Path, ...], no_blobs: bool, workspace: Path, as_json: bool) -> None:
    """Recompute the hash chain and Merkle root and check every checkpoint signature.

    Exits 0 when the trail is intact, 1 when it was tampered with (the first bad entry and what
    is wrong are reported), 2 on a usage error.
    """
    from governance.trail import verify_trail
    from rai.commands.trail_output import print_report

    report = verify_trail(Workspace.at(workspace), checkpoint=list(checkpoints), blobs=not no_blobs)
    if as_json:
        _emit(report.to_dict())
    else:
        print_report(report)
    sys.exit(0 if report.ok else 1)


@trail.command("checkpoint")
@click.option("--export", "export", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the checkpoint (with its public key) to this file, for third parties.")
@workspace_option
@json_option
def checkpoint(export: Path | None, workspace: Path, as_json: bool) -> None:
    """Sign the trail's current size, Merkle root and head hash."""
    with _open(workspace) as t:
        cp = t.checkpoint()
    if export is not None:
        export.write_text(cp.to_json(), encoding="utf-8")
    if as_json:
        _emit({**cp.to_dict(), "path": cp.source, "export": str(export) if export else None})
        return
    click.echo(f"checkpoint: {cp.tree_size} entries, root {cp.root_hash}")
    click.echo(f"  signed by key {cp.key_id} at {cp.time}")
    click.echo(f"  saved to {cp.source}" + (f", exported to {export}" if export else ""))


@trail.command("prove")
@click.argument("seq", type=click.IntRange(min=1))
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the proof here instead of standard output.")
@click.option("--checkpoint", "against", type=checkpoint_file,
              help="Prove against this checkpoint instead of the latest one.")
@workspace_option
def prove(seq: int, output: Path | None, against: Path | None, workspace: Path) -> None:
    """Print an inclusion proof (JSON) of entry SEQ against the latest checkpoint."""
    with _open(workspace) as t:
        proof = t.prove(seq, against)
    text = json.dumps(proof, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    if output is None:
        click.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        click.echo(f"inclusion proof of entry {seq} (tree size {proof['tree_size']}) written to {output}")


@trail.command("check-proof")
@click.argument("proof_file", metavar="PROOF", type=checkpoint_file)
@click.option("--checkpoint", "checkpoint_path", required=True, type=checkpoint_file,
              help="The checkpoint file the proof is checked against.")
@click.option("--key-id", help="Require the checkpoint to be signed by this key id (as published).")
@json_option
def check_proof(proof_file: Path, checkpoint_path: Path, key_id: str | None, as_json: bool) -> None:
    """Check an inclusion proof using only the proof and a checkpoint file (no workspace needed)."""
    from governance.trail.checkpoints import Checkpoint
    from governance.trail.proofs import check_proof as check

    try:
        proof = json.loads(proof_file.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise UserError(f"{proof_file}: not a JSON inclusion proof ({err})") from None
    cp = Checkpoint.load(checkpoint_path)
    failures, event = check(proof, cp, key_id)
    if as_json:
        _emit({"ok": not failures, "failures": failures, "event": event, "key_id": cp.key_id,
               "tree_size": cp.tree_size})
    elif failures:
        click.echo(f"proof INVALID ({proof_file}):")
        for failure in failures:
            click.echo(f"  - {failure}")
    else:
        click.echo(f"proof valid: entry {event['seq']} ({event.get('kind')}, run {event.get('run_id')}, "
                   f"{event.get('time')}) is in the trail of {cp.tree_size} entries")
        click.echo(f"  signed by key {cp.key_id} at {cp.time}")
    sys.exit(1 if failures else 0)


@trail.command("show")
@_filters
@click.option("--limit", type=click.IntRange(min=1), help="Show at most this many events.")
@workspace_option
@json_option
def show(run_id: str | None, kinds: tuple[str, ...], since: str | None, limit: int | None,
         workspace: Path, as_json: bool) -> None:
    """List events, one line each (seq, time, kind, run, actor, payload summary)."""
    from rai.commands.trail_output import event_line

    with _open(workspace) as t:
        events = t.iter_events(run_id, list(kinds) or None, since, limit=limit)
        if as_json:
            _emit([e.to_dict() for e in events])
            return
        shown = 0
        for event in events:
            click.echo(event_line(event))
            shown += 1
    if not shown:
        click.echo("no events match", err=True)


@trail.command("export")
@click.option("--format", "fmt", type=click.Choice(["jsonl", "csv"]), default="jsonl", show_default=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write here instead of standard output.")
@_filters
@workspace_option
def export(fmt: str, output: Path | None, run_id: str | None, kinds: tuple[str, ...], since: str | None,
           workspace: Path) -> None:
    """Export events as JSON lines or CSV (payload and subjects as canonical JSON in CSV)."""
    from rai.commands.trail_output import write_events

    with _open(workspace) as t:
        events = t.iter_events(run_id, list(kinds) or None, since)
        if output is None:
            write_events(events, fmt, sys.stdout)
        else:
            with output.open("w", encoding="utf-8", newline="") as f:
                n = write_events(events, fmt, f)
            click.echo(f"{n} events written to {output}", err=True)


@trail.command("rotate-key")
@workspace_option
@json_option
def rotate_key(workspace: Path, as_json: bool) -> None:
    """Replace the signing key; the old key endorses the new one in a key.rotated event."""
    with _open(workspace) as t:
        old, new, cp = t.rotate_key()
    if as_json:
        _emit({"old_key_id": old, "new_key_id": new, "checkpoint": cp.to_dict(), "path": cp.source})
        return
    click.echo(f"signing key rotated: {old} -> {new}")
    click.echo(f"  checkpoint of {cp.tree_size} entries signed with the new key: {cp.source}")
