"""``rai serve``: serve a registered model over HTTP after verifying its signed manifest."""

from __future__ import annotations

from pathlib import Path

import click

from rai.options import workspace_option


@click.command("serve")
@click.argument("name")
@click.option("--version", "version", type=click.IntRange(min=1), help="Registry version (default: the latest).")
@click.option("--registry", type=click.Path(file_okay=False, path_type=Path),
              help="Registry directory (default: the workspace's registry/).")
@workspace_option
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", default=8080, show_default=True, type=click.IntRange(0, 65535), help="Port (0: any free port).")
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64), help="Worker processes.")
@click.option("--threads", default=4, show_default=True, type=click.IntRange(1, 256),
              help="Threads per worker for large batches.")
@click.option("--unseen-category", "unseen", type=click.Choice(["flag", "missing", "reject"]), default="flag",
              show_default=True, help="A category not seen in training: score it as the model's unknown "
                                      "category and flag it, score it as missing and flag it, or refuse (400).")
@click.option("--log-inputs/--no-log-inputs", default=True, show_default=True,
              help="Keep each decision's inputs in the prediction log (their SHA-256 is always kept).")
@click.option("--no-prediction-log", "no_log", is_flag=True, hidden=True,
              help="Serve without logging decisions (benchmarks only).")
@click.option("--recheck-seconds", default=30.0, show_default=True, type=click.FloatRange(min=0.01, max=86400),
              help="Re-verify the registry entry this often; refuse to serve once it fails.")
@click.option("--max-body-mb", default=8.0, show_default=True, type=click.FloatRange(min=0.001, max=1024),
              help="Largest request body (MiB).")
@click.option("--max-rows", default=10_000, show_default=True, type=click.IntRange(1, 1_000_000),
              help="Most rows per request.")
@click.option("--timeout", "timeout", default=10.0, show_default=True, type=click.FloatRange(min=0.01, max=3600),
              help="Seconds a client has to send the request headers, and again the body.")
@click.option("--segment-records", default=100_000, show_default=True, type=click.IntRange(min=1),
              help="Commit a prediction-log segment to the trail after this many decisions ...")
@click.option("--segment-seconds", default=600.0, show_default=True, type=click.FloatRange(min=0.01),
              help="... or after this many seconds, whichever comes first.")
@click.option("--verbose", is_flag=True, help="Show TensorFlow's own log output.")
def serve(name: str, version: int | None, registry: Path | None, workspace: Path, host: str, port: int,
          workers: int, threads: int, unseen: str, log_inputs: bool, no_log: bool, recheck_seconds: float,
          max_body_mb: float, max_rows: int, timeout: float, segment_records: int, segment_seconds: float,
          verbose: bool) -> None:
    """Serve registered model NAME: POST /predict, GET /health, /model, /metrics, /openapi.json.

    The manifest's Ed25519 signature (against the workspace's trusted keys) and every file's
    SHA-256 are checked first, and again every --recheck-seconds; a tampered entry is refused
    (exit code 2 at start, HTTP 503 once running). Every decision is written to the
    workspace's prediction log, whose segments are committed to the audit trail.
    """
    from governance.workspace import Workspace
    from lifecycle import tfcompat
    from lifecycle.serving.server import bind, describe, load_service, run
    from lifecycle.serving.settings import ServeSettings

    tfcompat.set_verbose(verbose)
    ws = Workspace.at(workspace)
    settings = ServeSettings(
        name=name, version=version, registry=(registry or ws.registry).absolute(), workspace=ws.root.absolute(),
        host=host, port=port, workers=workers, threads=threads, unseen=unseen, log_inputs=log_inputs,
        prediction_log=not no_log, recheck_seconds=recheck_seconds, max_body_bytes=int(max_body_mb * (1 << 20)),
        max_rows=max_rows, timeout=timeout, segment_records=segment_records,
        segment_seconds=segment_seconds)
    service = load_service(settings)
    sock = bind(host, port)
    click.echo(describe(service, sock))
    try:
        run(settings, service, sock)
    except KeyboardInterrupt:  # uvicorn re-raises the Ctrl-C it handled, after its graceful shutdown
        pass
    finally:
        sock.close()
    click.echo("stopped")
