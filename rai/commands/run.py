"""``rai run``: the policy-checked pipeline, with progress bars and a final summary table.

Exit codes: 0 passed, 1 blocked by a gate (or awaiting approval), 2 a user mistake (one line on
stderr; the trail still records the failed run), 128 + the signal's number when SIGINT (130),
SIGHUP (129) or SIGTERM (143) stops the run: the signal is raised into the pipeline as
:class:`lifecycle.pipeline.Interrupted`, which records ``run.finished`` ``failed`` with the
reason ``interrupted by SIGTERM`` before the command exits. TensorFlow is imported only once
the train stage starts, so ``rai run --help`` and spec errors are fast.
"""

from __future__ import annotations

import json
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click

from governance.vocabulary import PIPELINE_STAGES
from rai.cioutput import ci_format_option
from rai.options import json_option, workspace_option

STAGES = PIPELINE_STAGES  # from the vocabulary: `rai run --help` imports nothing heavy
# Signals that stop a run: each is raised into the pipeline, which records why the run ended.
STOPPING_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


@click.command("run")
@click.argument("pipeline", required=False, type=click.Path(dir_okay=True, path_type=Path))
@click.option("--policy", "policy", type=click.Path(path_type=Path), help="Policy file overriding the spec's `policy`.")
@workspace_option
@click.option("--until", type=click.Choice(STAGES), help="Stop after this stage's gate.")
@click.option("--resume", "resume", metavar="RUN_ID", help="Continue a run awaiting approval (after `rai approve`).")
@click.option("--mlflow", "mlflow", metavar="URI", help="Mirror the run into this MLflow tracking server (see docs/mlflow.md).")
@json_option
@ci_format_option
@click.option("--verbose", is_flag=True, help="Show TensorFlow's own log output.")
def run(pipeline: Path | None, policy: Path | None, workspace: Path, until: str | None, resume: str | None,
        mlflow: str | None, as_json: bool, ci_format: str | None, verbose: bool) -> None:
    """Run PIPELINE (a pipeline YAML): ingest → train → evaluate → optimize → deploy.

    A governance gate evaluates the policy after every stage; a blocking finding stops the run
    with exit code 1 and nothing is registered. Everything is recorded in the workspace's trail.
    """
    if (pipeline is None) == (resume is None):
        raise click.UsageError("give a PIPELINE file or --resume RUN_ID (not both)")
    if resume is not None and (policy or until):
        raise click.UsageError("--resume continues a run with its own policy and stages; drop --policy/--until")
    if ci_format and as_json:
        raise click.UsageError("--format and --json both choose the output: give one")
    if mlflow is not None:
        _check_mlflow(mlflow)
    as_json = as_json or bool(ci_format)  # progress on stderr, stdout for the one document
    from lifecycle import tfcompat
    from lifecycle.pipeline import resume_run, run_pipeline
    from rai.commands.run_view import RichReporter, print_summary

    tfcompat.set_verbose(verbose)
    console = _console(as_json)
    try:
        with _stopped_by_signals(), RichReporter(console, 1 if resume is not None else
                                                 STAGES.index(until or "deploy") + 1) as reporter:
            if resume is not None:
                result = resume_run(resume, workspace=workspace, reporter=reporter, mlflow=mlflow)
            else:
                result = run_pipeline(pipeline, workspace=workspace, policy_path=policy, until=until, mlflow=mlflow,
                                      reporter=reporter)
    except KeyboardInterrupt as err:
        _report_stop(err)
    if ci_format and result.error is None:
        _emit_ci(ci_format, result, policy or _spec_policy(pipeline))
    elif as_json:
        click.echo(json.dumps(result.summary, indent=2, sort_keys=False))
    elif result.error is None:
        print_summary(console, result.summary)
    _print_mirror(result.summary.get("mlflow"), as_json)
    if result.error is not None:
        raise result.error  # one line on stderr, exit 2 (the trail already records the failed run)
    if result.exit_code:
        raise click.exceptions.Exit(result.exit_code)


def _spec_policy(pipeline: Path | None) -> Path | None:
    """The policy file the spec names (to locate rules), or None (a resumed run, a spec that failed)."""
    if pipeline is None:
        return None
    from governance.errors import UserError
    from lifecycle.specload import load_spec

    try:
        return Path(load_spec(pipeline).spec.policy)
    except UserError:
        return None


def _emit_ci(ci_format: str, result, policy_path: Path | None) -> None:
    """Every finding of every gate of the run, for CI, located in the policy file."""
    from governance.report.ci import from_findings
    from rai.cioutput import emit, policy_of

    findings = [f for stage in result.summary.get("stages") or [] for f in stage.get("findings") or []]
    emit(ci_format, from_findings(findings, policy_of(str(policy_path) if policy_path else None)),
         result.exit_code or 0)


@contextmanager
def _stopped_by_signals() -> Iterator[None]:
    """While the run lasts, SIGINT, SIGTERM and SIGHUP raise :class:`Interrupted` into it.

    The first signal wins: further ones are ignored while the run records its end (a second
    Ctrl+C must not cut the record short; SIGKILL still stops the process).
    """
    from lifecycle.pipeline import Interrupted

    if threading.current_thread() is not threading.main_thread():  # only the main thread may set handlers
        yield
        return

    def stop(signum: int, frame: object) -> None:
        for number in STOPPING_SIGNALS:
            signal.signal(number, signal.SIG_IGN)
        raise Interrupted(signal.Signals(signum).name)

    previous = {number: signal.signal(number, stop) for number in STOPPING_SIGNALS}
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def _report_stop(err: KeyboardInterrupt) -> None:
    """One line on stderr, and exit 128 + the signal's number (130 for Ctrl+C)."""
    name = getattr(err, "signal_name", "SIGINT")
    run_id = getattr(err, "run_id", None)
    if run_id:
        click.echo(f"error: run {run_id} interrupted by {name}; the trail records it as failed", err=True)
    else:
        click.echo(f"error: interrupted by {name}", err=True)  # before a run was started, or after it was recorded
    raise click.exceptions.Exit(128 + int(signal.Signals[name]))


def _check_mlflow(uri: str) -> None:
    from lifecycle.mlflow_config import require_mlflow, tracking_spec

    tracking_spec(uri, "--mlflow")
    require_mlflow()


def _print_mirror(mirror: dict | None, as_json: bool) -> None:
    """Where the run was mirrored; a failed mirror is a warning (the trail keeps the record)."""
    from governance.textsafe import printable

    if not mirror:
        return
    if mirror["status"] != "mirrored":
        click.echo(printable(f"warning: run {mirror['run_id']} was not mirrored to MLflow: {mirror['error']}; the "
                             f"trail keeps the record, retry with: rai mlflow sync {mirror['run_id']}"), err=True)
    elif not as_json:
        registered = mirror.get("registered")
        click.echo(printable(f"mirrored to MLflow run {mirror['mlflow_run_id']} (experiment {mirror['experiment']!r} "
                             f"at {mirror['tracking_uri']})" + (f"; registered {registered['name']} v"
                                                                f"{registered['version']}" if registered else "")))


def _console(as_json: bool):
    from rich.console import Console

    # With --json, stdout carries exactly one JSON object; progress goes to stderr.
    return Console(stderr=as_json)
