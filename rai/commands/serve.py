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
@click.option("--verbose", is_flag=True, help="Show TensorFlow's own log output.")
def serve(name: str, version: int | None, registry: Path | None, workspace: Path, host: str, port: int,
          verbose: bool) -> None:
    """Serve registered model NAME: POST /predict, GET /health, GET /model.

    The manifest's Ed25519 signature (against the workspace's trusted keys) and every file's
    SHA-256 are checked first; a tampered entry is refused with exit code 2.
    """
    from governance.trail.signing import KeyRing
    from governance.workspace import Workspace
    from lifecycle import tfcompat
    from lifecycle.serve import load_served, make_server

    tfcompat.set_verbose(verbose)
    ws = Workspace.at(workspace)
    served = load_served(registry or ws.registry, name, version, KeyRing(ws.keys).trusted())
    server = make_server(served, host, port)
    entry = served.entry
    click.echo(f"serving {entry.name} v{entry.version} ({entry.body['variant']}, sha256 {entry.body['model_sha256'][:12]}...) "
               f"on http://{server.server_address[0]}:{server.server_address[1]}  manifest verified; Ctrl-C stops")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        click.echo("stopped")
    finally:
        server.server_close()
