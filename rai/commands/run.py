"""``rai run``: the policy-checked pipeline, with progress bars and a final summary table.

Exit codes: 0 passed, 1 blocked by a gate (or awaiting approval), 2 a user mistake (one line on
stderr; the trail still records the failed run). TensorFlow is imported only once the train
stage starts, so ``rai run --help`` and spec errors are fast.
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from rai.options import json_option, workspace_option

# Repeated from lifecycle.pipeline.STAGES so that `rai run --help` imports nothing heavy.
STAGES = ("ingest", "train", "evaluate", "optimize", "deploy")


@click.command("run")
@click.argument("pipeline", required=False, type=click.Path(dir_okay=True, path_type=Path))
@click.option("--policy", "policy", type=click.Path(path_type=Path), help="Policy file overriding the spec's `policy`.")
@workspace_option
@click.option("--until", type=click.Choice(STAGES), help="Stop after this stage's gate.")
@click.option("--resume", "resume", metavar="RUN_ID", help="Continue a run awaiting approval (after `rai approve`).")
@json_option
@click.option("--verbose", is_flag=True, help="Show TensorFlow's own log output.")
def run(pipeline: Path | None, policy: Path | None, workspace: Path, until: str | None, resume: str | None,
        as_json: bool, verbose: bool) -> None:
    """Run PIPELINE (a pipeline YAML): ingest → train → evaluate → optimize → deploy.

    A governance gate evaluates the policy after every stage; a blocking finding stops the run
    with exit code 1 and nothing is registered. Everything is recorded in the workspace's trail.
    """
    if (pipeline is None) == (resume is None):
        raise click.UsageError("give a PIPELINE file or --resume RUN_ID (not both)")
    if resume and (policy or until):
        raise click.UsageError("--resume continues a run with its own policy and stages; drop --policy/--until")
    from lifecycle import tfcompat
    from lifecycle.pipeline import resume_run, run_pipeline
    from rai.commands.run_view import RichReporter, print_summary

    tfcompat.set_verbose(verbose)
    console = _console(as_json)
    with RichReporter(console, 1 if resume else STAGES.index(until or "deploy") + 1) as reporter:
        if resume:
            result = resume_run(resume, workspace=workspace, reporter=reporter)
        else:
            result = run_pipeline(pipeline, workspace=workspace, policy_path=policy, until=until, reporter=reporter)
    if as_json:
        click.echo(json.dumps(result.summary, indent=2, sort_keys=False))
    elif result.error is None:
        print_summary(console, result.summary)
    if result.error is not None:
        raise result.error  # one line on stderr, exit 2 (the trail already records the failed run)
    if result.exit_code:
        raise click.exceptions.Exit(result.exit_code)


def _console(as_json: bool):
    from rich.console import Console

    # With --json, stdout carries exactly one JSON object; progress goes to stderr.
    return Console(stderr=as_json)
