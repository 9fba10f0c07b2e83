"""``rai dashboard``: start the Streamlit audit dashboard on a workspace."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import click

import dashboards
from governance.errors import UserError
from rai.options import workspace_option

APP = Path(dashboards.__file__).resolve().parent / "app.py"


def streamlit_command(port: int, address: str) -> list[str]:
    """The ``streamlit run`` command line: local-only by default, no telemetry, XSRF protection on."""
    return [
        sys.executable, "-m", "streamlit", "run", str(APP),
        "--server.address", address,
        "--server.port", str(port),
        "--server.headless", "true",
        "--server.enableXsrfProtection", "true",
        "--browser.gatherUsageStats", "false",
        "--global.developmentMode", "false",
    ]


@click.command("dashboard")
@workspace_option
@click.option("--port", default=8501, show_default=True, type=click.IntRange(1, 65535))
@click.option("--address", default="127.0.0.1", show_default=True,
              help="Interface to bind; the default keeps the dashboard local to this machine.")
def dashboard(workspace: Path, port: int, address: str) -> None:
    """Open the Streamlit audit dashboard (reads the trail; records approvals only)."""
    if not APP.is_file():
        raise UserError(f"dashboard app not found at {APP}; is rai installed from a checkout?")
    if not workspace.is_dir():
        raise UserError(f"{workspace}: no workspace here (run `rai run ...` first or pass --workspace)")
    env = {**os.environ, "RAI_WORKSPACE": str(workspace.resolve())}
    click.echo(f"rai dashboard on http://{address}:{port} (workspace {workspace}); Ctrl+C to stop")
    try:
        raise SystemExit(subprocess.call(streamlit_command(port, address), env=env))
    except KeyboardInterrupt:
        raise SystemExit(0) from None
