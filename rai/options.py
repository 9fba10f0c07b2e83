"""Options shared by commands."""

from __future__ import annotations

from pathlib import Path

import click

workspace_option = click.option(
    "--workspace",
    "workspace",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path(".rai"),
    show_default=True,
    envvar="RAI_WORKSPACE",
    help="Workspace directory holding the trail, evidence, keys and registry.",
)

json_option = click.option("--json", "as_json", is_flag=True, help="Print one JSON object for machines.")
