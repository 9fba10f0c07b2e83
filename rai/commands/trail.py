"""``rai trail``: verify, checkpoint, prove, check proofs, show, export, rotate the key.

Exit codes: 0 fine, 1 the trail (or a proof) does not verify, 2 a usage mistake (a wrong
workspace, a bad option, an output path that cannot be written), 3 the trail cannot be read or
written here (permissions, a read-only or full disk, an unreachable database): not tampering.
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
    from rai.commands.trail_output import json_text

    click.echo(json_text(data))


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
    """Recompute the hash chain and Merkle root, check every checkpoint signature and the database.

    Exits 0 when the trail is intact, 1 when it was tampered with (the first bad entry and what
    is wrong are reported), 2 on a usage error, 3 when the trail cannot be read here
    (permissions, a read-only workspace, I/O): that is not tampering.
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
    from governance.textsafe import printable
    from rai.commands.trail_output import write_output

    with _open(workspace) as t:
        cp = t.checkpoint()
    if export is not None:
        try:
            write_output(export, lambda f: f.write(cp.to_json()))
        except UserError as err:
            raise UserError(f"{err} (the checkpoint of {cp.tree_size} entries is signed and saved to "
                            f"{printable(cp.source)}; export it again with `rai trail checkpoint --export`)") from None
    if as_json:
        _emit({**cp.to_dict(), "path": cp.source, "export": str(export) if export else None})
        return
    click.echo(f"checkpoint: {cp.tree_size} entries, root {cp.root_hash}")
    click.echo(f"  signed by key {cp.key_id} at {printable(cp.time)}")
    click.echo(f"  saved to {printable(cp.source)}" + (f", exported to {printable(export)}" if export else ""))


@trail.command("prove")
@click.argument("seq", type=click.IntRange(min=1))
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the proof here instead of standard output.")
@click.option("--checkpoint", "against", type=checkpoint_file,
              help="Prove against this checkpoint instead of the latest one.")
@workspace_option
def prove(seq: int, output: Path | None, against: Path | None, workspace: Path) -> None:
    """Print an inclusion proof (JSON) of entry SEQ against the latest checkpoint."""
    from governance.textsafe import printable
    from rai.commands.trail_output import json_text, write_output

    with _open(workspace) as t:
        proof = t.prove(seq, against)
    text = json_text(proof) + "\n"
    if output is None:
        click.echo(text, nl=False)
    else:
        write_output(output, lambda f: f.write(text))
        click.echo(f"inclusion proof of entry {seq} (tree size {proof['tree_size']}) written to "
                   f"{printable(output)}")


@trail.command("check-proof")
@click.argument("proof_file", metavar="PROOF", type=checkpoint_file)
@click.option("--checkpoint", "checkpoint_path", required=True, type=checkpoint_file,
              help="The checkpoint file the proof is checked against.")
@click.option("--key-id", help="Require the checkpoint to be signed by this key id (as published).")
@json_option
def check_proof(proof_file: Path, checkpoint_path: Path, key_id: str | None, as_json: bool) -> None:
    """Check an inclusion proof using only the proof and a checkpoint file (no workspace needed)."""
    from governance.textsafe import printable
    from governance.trail.checkpoints import Checkpoint
    from governance.trail.proofs import check_proof as check

    proof = _read_json(proof_file, "not a JSON inclusion proof")
    cp = Checkpoint.load(checkpoint_path)
    failures, event = check(proof, cp, key_id)
    if as_json:
        _emit({"ok": not failures, "failures": failures, "event": event, "key_id": cp.key_id,
               "tree_size": cp.tree_size})
    elif failures:
        click.echo(f"proof INVALID ({printable(proof_file)}):")
        for failure in failures:
            click.echo(f"  - {printable(failure)}")
    else:  # what is printed comes from the hashed entry, never from the proof's readable copy
        click.echo(f"proof valid: entry {event['seq']} ({printable(event['kind'])}, run {printable(event['run_id'])}, "
                   f"{printable(event['time'])}) is in the trail of {cp.tree_size} entries")
        click.echo(f"  signed by key {cp.key_id} at {printable(cp.time)}")
    sys.exit(1 if failures else 0)


def _read_json(path: Path, what: str):
    """A small JSON file (a proof), read with a size cap; a bad one is one line, exit 2."""
    try:
        with path.open("rb") as f:
            data = f.read(_MAX_PROOF_BYTES + 1)
        if len(data) > _MAX_PROOF_BYTES:
            raise UserError(f"{path}: {what} (larger than {_MAX_PROOF_BYTES // 1_000_000} MB)")
        return json.loads(data.decode("utf-8"))
    except OSError as err:
        raise UserError(f"{path}: cannot read: {err.strerror or err}") from None
    except (UnicodeDecodeError, ValueError, RecursionError) as err:
        raise UserError(f"{path}: {what} ({type(err).__name__}: {str(err)[:120]})") from None


_MAX_PROOF_BYTES = 10_000_000  # a proof of a trail of 2**64 entries is under 10 kB


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
    from governance.textsafe import printable
    from rai.commands.trail_output import write_events, write_output

    with _open(workspace) as t:
        events = t.iter_events(run_id, list(kinds) or None, since)
        if output is None:
            try:
                write_events(events, fmt, sys.stdout)
                sys.stdout.flush()
            except BrokenPipeError:  # `rai trail export | head`: the reader left, which is no error
                _reader_left()
        else:  # the file appears only once complete: a failed export leaves nothing half-written
            n = write_output(output, lambda f: write_events(events, fmt, f))
            click.echo(f"{n} events written to {printable(output)}", err=True)


@trail.command("rotate-key")
@workspace_option
@json_option
def rotate_key(workspace: Path, as_json: bool) -> None:
    """Replace the signing key; the old key endorses the new one in a key.rotated event."""
    from governance.textsafe import printable

    with _open(workspace) as t:
        old, new, cp = t.rotate_key()
    if as_json:
        _emit({"old_key_id": old, "new_key_id": new, "checkpoint": cp.to_dict(), "path": cp.source})
        return
    click.echo(f"signing key rotated: {old} -> {new}")
    click.echo(f"  checkpoint of {cp.tree_size} entries signed with the new key: {printable(cp.source)}")


def _reader_left() -> None:
    """Exit as a shell reports a writer whose reader closed the pipe (128 + SIGPIPE), quietly.

    click turns a broken pipe into exit 1, which in rai means tampering; stdout is pointed at
    /dev/null first so that the interpreter's final flush does not fail again.
    """
    import os

    try:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    except (OSError, ValueError):
        pass
    sys.exit(141)
