"""``rai policy init``: a starter policy for a dataset, extending a shipped pack."""

from __future__ import annotations

import json
import re
from pathlib import Path

import click

from governance.errors import UserError
from governance.textsafe import printable
from rai.options import csv_dialect_options

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
TEMPLATE = """\
# Starter policy for {data} ({count} columns), written by `rai policy init`.
# Columns: {columns}
# It extends the shipped pack {pack} (`rai policy lint {pack}` checks it; policies/ in rai's
# repository shows its rules). Review every threshold before this policy guards a model, and
# give it tests: `rai policy test`.
policy: {name}
version: 1
owner: {owner}
extends: {pack}
{features}
rules:
  - id: required-columns
    check: data.required_columns
    stage: ingest
    severity: critical
    params: {{columns: [{required}]}}
    description: The label and the sensitive features are in the data.
"""


@click.command("init")
@click.argument("data")
@click.option("--target", required=True, help="The label column.")
@click.option("--sensitive", help="Sensitive columns, comma-separated (default: the run's, named in the spec).")
@click.option("--pack", default="rai:default", show_default=True, help="The shipped pack to extend.")
@click.option("--name", help="The policy's name (default: the data file's name).")
@click.option("--owner", default="unassigned", show_default=True, help="Who answers for the policy.")
@click.option("-o", "--output", default="policy.yaml", show_default=True, help="File to write.")
@click.option("--force", is_flag=True, help="Overwrite OUTPUT if it exists.")
@csv_dialect_options
def init(data: str, target: str, sensitive: str | None, pack: str, name: str | None, owner: str, output: str,
         force: bool) -> None:
    """Write a starter policy for the columns of DATA (a CSV or Parquet file).

    The policy extends a shipped pack, names the sensitive features when given, and requires the
    label and sensitive columns at ingest. It lints clean as written.
    """
    from governance.io import read_columns, require_columns
    from governance.packs import pack_path
    from governance.policy.loader import load_policy

    try:
        pack_path(pack)
    except ValueError as err:
        raise UserError(f"--pack: {err}") from None
    columns = [str(c) for c in read_columns(data)]
    features = [c.strip() for c in sensitive.split(",")] if sensitive else []
    require_columns(columns, [target, *features], data)
    for text in [target, *features, name or "", owner]:
        if _CONTROL.search(text):
            raise UserError(f"{data}: {text!r} holds control characters, which a policy file cannot hold")
    out = Path(output)
    if out.exists() and not force:
        raise UserError(f"{output}: exists; choose another --output or pass --force")
    text = TEMPLATE.format(
        data=Path(data).name, count=len(columns), columns=_shown(columns), pack=pack,
        name=_quoted(name or Path(data).name.split(".")[0] or "policy"), owner=_quoted(owner),
        features=(f"sensitive_features: [{', '.join(map(_quoted, features))}]" if features
                  else "# sensitive_features: the run's (the spec's data.sensitive_features, rai audit --sensitive)"),
        required=", ".join(_quoted(c) for c in dict.fromkeys([target, *features])))
    out.write_text(text, encoding="utf-8")
    policy = load_policy(out)  # what was written must load; a mistake here is rai's, and loud
    click.echo(printable(f"wrote {output}: {len(policy.rules)} rules ({pack} and one of its own); "
                         f"review the thresholds, then: rai policy lint {output}"))


def _quoted(text: str) -> str:
    """A YAML scalar saying exactly ``text``: JSON strings are YAML double-quoted strings."""
    return json.dumps(text, ensure_ascii=False)


def _shown(columns: list[str]) -> str:
    shown = ", ".join(_CONTROL.sub("?", c) for c in columns[:40])
    return shown + (f", ... ({len(columns) - 40} more)" if len(columns) > 40 else "")
