"""``rai dashboard``: start the Streamlit audit dashboard on a workspace.

The command *becomes* the Streamlit server (``os.execve``) rather than starting it as a child:
the process a supervisor, a terminal or a test holds is the server itself, so SIGTERM, SIGINT
or SIGHUP to it stops the server, and nothing is left answering HTTP once the command is gone.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

import dashboards
from governance.errors import UserError
from rai.options import workspace_option

# __path__ rather than __file__: an older editable install may still see ``dashboards`` as a
# namespace package, which has no __file__.
APP = Path(list(dashboards.__path__)[0]).resolve() / "app.py"
LOCAL_ADDRESSES = ("127.0.0.1", "localhost", "::1")


def streamlit_command(port: int, address: str) -> list[str]:
    """The ``streamlit run`` command line: local-only by default, no telemetry, XSRF protection on.

    Tracebacks stay in the server's console (the browser sees only an error's type), the
    developer menu is hidden, no file watcher reruns the app when files change, and the agent
    API (programs driving the app over HTTP) stays off.
    """
    argv = [
        sys.executable, "-m", "streamlit", "run", str(APP),
        "--server.address", address,
        "--server.port", str(port),
        "--server.headless", "true",
        "--server.enableXsrfProtection", "true",
        "--server.fileWatcherType", "none",
        "--server.runOnSave", "false",
        "--browser.gatherUsageStats", "false",
        "--global.developmentMode", "false",
        "--client.showErrorDetails", "type",
        "--client.toolbarMode", "viewer",
    ]
    if _has_option("server.enableAgentApi"):  # Streamlit's HTTP/MCP API for programs: keep it off
        argv += ["--server.enableAgentApi", "false"]
    return argv


def _has_option(name: str) -> bool:
    """Whether the installed Streamlit knows a config option (newer ones are refused by older)."""
    from streamlit import config

    try:
        config.get_option(name)
    except RuntimeError:
        return False
    return True


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
    if address not in LOCAL_ADDRESSES:
        click.echo(f"warning: binding {address} exposes the trail to the network; configure sign-in "
                   "([auth] in .streamlit/secrets.toml, see docs/dashboard.md)", err=True)
    click.echo(f"rai dashboard on http://{address}:{port} (workspace {workspace}); Ctrl+C to stop")
    argv = streamlit_command(port, address)
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        os.execve(argv[0], argv, env)  # replaces this process: no child can outlive the command
    except OSError as err:
        raise UserError(f"cannot start the dashboard server ({argv[0]}): {err.strerror or err}") from None
