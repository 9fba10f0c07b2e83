"""``rai report`` and ``rai model-card``: documents generated from the audit trail.

``rai report RUN_ID|latest --format html|pdf|md|json [-o FILE]`` generates a compliance report;
``rai report verify FILE.json`` checks a JSON report against the trail (exit 0 match, 1 mismatch,
2 usage error). ``report`` is a group whose default command is ``generate``, so that both forms
work without a subcommand name for the common case.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from governance.errors import UserError
from governance.textsafe import json_printable, printable
from governance.workspace import Workspace
from rai.options import workspace_option

_EXTENSIONS = {"html": "html", "pdf": "pdf", "md": "md", "json": "json"}


class _DefaultGroup(click.Group):
    """A group that runs ``generate`` when the first argument is not one of its commands."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("-h", "--help"):
            args = ["generate", *args]
        return super().parse_args(ctx, args)


def _open_trail(workspace: Path):
    from governance.trail import open_trail

    return open_trail(Workspace.at(workspace), create=False)


def _write(content: str | bytes, output: Path | None, what: str, fmt: str = "md") -> None:
    """Write to ``output`` (one-line UserError when that fails) or, for text, to stdout.

    On stdout, characters that would steer a terminal (from policies, data, narratives) are
    written as escapes: ``\\uXXXX`` in JSON (the same value), visible text otherwise.
    """
    if output is None:
        text = content.decode("utf-8") if isinstance(content, bytes) else content
        click.echo(json_printable(text) if fmt == "json" else printable(text, keep="\n\r\t"), nl=False)
        return
    data = content.encode("utf-8") if isinstance(content, str) else content
    try:
        output.write_bytes(data)
    except OSError as err:
        raise UserError(f"cannot write {what} to {output}: {err.strerror or err}") from None
    click.echo(printable(f"wrote {what} to {output} ({len(data):,} bytes)"), err=True)


@click.group("report", cls=_DefaultGroup, subcommand_metavar="RUN_ID|latest [OPTIONS] | verify FILE.json",
             context_settings={"help_option_names": ["-h", "--help"]})
def report() -> None:
    """Generate (`rai report RUN_ID|latest`) or verify (`rai report verify FILE.json`) a compliance report."""


@report.command("generate")
@click.argument("run_id")
@click.option("--format", "fmt", type=click.Choice(list(_EXTENSIONS)), default="html", show_default=True,
              help="html: one self-contained file; pdf; md: Markdown; json: machine-readable, see its schema.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="File to write (default: stdout; for pdf, report-RUN_ID.pdf).")
@workspace_option
def generate(run_id: str, fmt: str, output: Path | None, workspace: Path) -> None:
    """Generate the compliance report of RUN_ID (or `latest`): the default command of `rai report`."""
    from governance.report import build_report, render_report
    from governance.report.source import resolve_run_id

    with _open_trail(workspace) as trail:
        run_id = resolve_run_id(trail, run_id, str(workspace))
        _sign_if_uncovered(trail, run_id)
        doc = build_report(trail, run_id)
    if fmt == "pdf" and output is None:
        output = Path(f"report-{run_id}.pdf")
    _write(render_report(doc, fmt), output, f"the {fmt} report of run {run_id}", fmt)


@report.command("verify")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@workspace_option
def verify(file: Path, workspace: Path) -> None:
    """Check that a JSON report still matches the trail; exit 1 naming the first mismatch."""
    from governance.report import verify_report
    from governance.report.render_json import load_report

    doc = load_report(file)
    with _open_trail(workspace) as trail:
        result = verify_report(trail, doc, where=str(file))
    # Everything below may quote the report's own (possibly forged) text: shown, never obeyed.
    if result.ok:
        cp = result.checkpoint
        click.echo(printable(f"{file}: matches the trail: run {result.run_id}, {result.events} events, "
                             f"{result.findings} findings, checkpoint of {cp.get('tree_size')} entries "
                             f"(root {str(cp.get('root_hash'))[:16]}, key {str(cp.get('key_id'))[:16]}) verified"))
        return
    click.echo(printable(f"{file}: does NOT match the trail (run {result.run_id})"), err=True)
    click.echo(printable(f"first mismatch: {result.problems[0]}"), err=True)
    for problem in result.problems[1:]:
        click.echo(printable(f"  also: {problem}"), err=True)
    sys.exit(1)


@click.command("model-card")
@click.argument("run_id")
@click.option("--format", "fmt", type=click.Choice(["md", "json", "html"]), default="md", show_default=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="File to write (default: stdout).")
@click.option("--narrative", type=click.Path(dir_okay=False, path_type=Path),
              help="Editable YAML with the card's narrative (default: WORKSPACE/runs/RUN_ID/model-card.yaml; "
                   "created from the run's metadata if missing, never overwritten).")
@workspace_option
def model_card(run_id: str, fmt: str, output: Path | None, narrative: Path | None, workspace: Path) -> None:
    """Generate the model card (Mitchell et al. 2019) of RUN_ID (or `latest`) from the trail."""
    from governance.report import build_card, render_card
    from governance.report.modelcard import SIDECAR_NAME
    from governance.report.source import resolve_run_id

    ws = Workspace.at(workspace)
    with _open_trail(workspace) as trail:
        run_id = resolve_run_id(trail, run_id, str(workspace))
        path = narrative or ws.run_dir(run_id) / SIDECAR_NAME
        _sign_if_uncovered(trail, run_id)
        card = build_card(trail, run_id, path)
    _write(render_card(card, fmt), output, f"the model card of run {run_id}", fmt)


def _sign_if_uncovered(trail, run_id: str) -> None:
    """A report cites a signed checkpoint: sign one (and say so) when none covers the run yet."""
    from governance.report.trailinfo import ensure_covered

    cp, signed = ensure_covered(trail, run_id)
    if signed:
        click.echo(f"signed a checkpoint of {cp.tree_size} entries covering run {run_id}", err=True)
