"""``rai predictions``: verify the prediction log, show a decision with its proof, export, recover.

Exit codes: 0 fine, 1 the log does not verify (or a decision is not found / a proof fails),
2 a usage mistake.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from governance.errors import UserError
from rai.options import json_option, workspace_option


def _ws(workspace: Path):
    from governance.workspace import Workspace

    return Workspace.at(workspace)


def _emit(data) -> None:
    click.echo(json.dumps(data, indent=2, sort_keys=True))


@click.group("predictions")
def predictions() -> None:
    """Verify, show, export and recover the prediction log of `rai serve`."""


@predictions.command("verify")
@workspace_option
@json_option
def verify(workspace: Path, as_json: bool) -> None:
    """Check that every logged decision is present and unedited.

    The trail must verify; every segment it announces must be committed with content matching
    its Merkle root, or still open. Exit 0 intact, 1 with the located problems.
    """
    from lifecycle.predlog.verify import verify_log

    report = verify_log(_ws(workspace))
    if as_json:
        _emit(report.to_dict())
    else:
        state = "intact" if report.ok else "NOT INTACT"
        click.echo(f"prediction log {state}: {report.segments} committed segment(s), {report.records} decision(s)")
        for pending in report.pending:
            click.echo(f"  pending: segment {pending['segment']} ({pending['records']} decision(s)): {pending['state']}")
        for problem in report.problems:
            click.echo(f"  {problem.kind}: {problem.message}")
    sys.exit(0 if report.ok else 1)


@predictions.command("show")
@click.argument("request_id")
@click.option("--proof", "proof_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the decision's proof (record -> segment root -> trail checkpoint) here.")
@workspace_option
@json_option
def show(request_id: str, proof_path: Path | None, workspace: Path, as_json: bool) -> None:
    """Show the decision(s) of REQUEST_ID (or of a client's X-Request-ID) and their proof."""
    from lifecycle.predlog.query import decision_summary, find_decisions

    found = find_decisions(_ws(workspace), request_id)
    if not found:
        raise UserError(f"request {request_id[:64]!r}: no decision with this request id in the prediction log")
    if proof_path is not None:
        proof_path.write_text(json.dumps([f["proof"] for f in found], indent=2, sort_keys=True) + "\n", encoding="utf-8")
    if as_json:
        _emit(found)
        return
    for item in found:
        record = item["record"]
        click.echo(f"request {record.get('request_id')} row {record.get('row')} at {record.get('time')}: "
                   f"{record.get('model')} v{record.get('version')} (sha256 {str(record.get('model_sha256'))[:12]}...)")
        click.echo(f"  {decision_summary(record)}  flags {record.get('flags') or '-'}")
        click.echo(f"  inputs sha256 {record.get('input_sha256')}" + ("" if "inputs" in record else " (inputs not kept)"))
        if "inputs" in record:
            click.echo(f"  inputs {json.dumps(record['inputs'], sort_keys=True)}")
        proof = item.get("proof")
        if proof is None:
            click.echo(f"  segment {item['segment']} line {item['line']}: {item.get('note')}")
        else:
            covered = "checkpointed" if proof["trail_proof"] else f"not yet checkpointed ({item.get('note')})"
            click.echo(f"  segment {item['segment']} line {item['line']}, Merkle root {proof['merkle_root'][:16]}..., "
                       f"committed at trail entry {proof['trail_seq']}, {covered}")
    if proof_path is not None:
        click.echo(f"proof written to {proof_path}")


@predictions.command("check-proof")
@click.argument("proof_file", metavar="PROOF", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--checkpoint", "checkpoint_path", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="The trail checkpoint file the proof is checked against.")
def check_proof(proof_file: Path, checkpoint_path: Path) -> None:
    """Check a decision proof written by `show --proof` with only the proof and a checkpoint file."""
    from governance.trail.checkpoints import Checkpoint
    from lifecycle.predlog.query import check_decision_proof, decision_summary

    try:
        proofs = json.loads(proof_file.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, ValueError) as err:
        raise UserError(f"{proof_file}: not a JSON decision proof ({str(err)[:80]})") from None
    checkpoint = Checkpoint.load(checkpoint_path)
    failed = False
    for proof in proofs if isinstance(proofs, list) else [proofs]:
        failures, record = check_decision_proof(proof, checkpoint)
        if failures:
            failed = True
            click.echo(f"proof INVALID ({proof_file}):")
            for failure in failures:
                click.echo(f"  - {failure}")
        else:
            click.echo(f"proof valid: request {record.get('request_id')} row {record.get('row')} "
                       f"({decision_summary(record)}) is in the prediction log "
                       f"committed to the trail of {checkpoint.tree_size} entries")
    sys.exit(1 if failed else 0)


@predictions.command("export")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="JSON-lines file to write (one decision per line, as logged).")
@click.option("--since", help="Only decisions at or after this time (ISO 8601, UTC if no zone).")
@click.option("--until", help="Only decisions before this time.")
@click.option("--model", help="Only decisions of this model name.")
@click.option("--committed-only", is_flag=True, help="Leave out segments not yet committed to the trail.")
@workspace_option
def export(output: Path, since: str | None, until: str | None, model: str | None, committed_only: bool,
           workspace: Path) -> None:
    """Export logged decisions; every committed segment is verified first (exit 1 if one fails)."""
    from governance.trail.chain import normalize_time
    from lifecycle.predlog.query import export_records

    since_text = normalize_time(since) if since else None
    until_text = normalize_time(until) if until else None
    try:
        count = export_records(_ws(workspace), output, since_text, until_text, model, committed_only)
    except OSError as err:
        raise UserError(f"{output}: cannot write ({err.strerror})") from None
    click.echo(f"{count} decision(s) written to {output}")


@predictions.command("recover")
@workspace_option
def recover(workspace: Path) -> None:
    """Commit the open segments of servers that are no longer running (e.g. killed)."""
    from lifecycle.predlog import recover_orphans

    done = recover_orphans(_ws(workspace))
    for payload in done:
        click.echo(f"committed segment {payload['segment']}: {payload['records']} decision(s), "
                   f"Merkle root {payload['merkle_root'][:16]}...")
    click.echo(f"{len(done)} segment(s) recovered")
