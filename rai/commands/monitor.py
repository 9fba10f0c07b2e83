"""``rai monitor``: audit a batch of live data against a registered model's policy."""

from __future__ import annotations

import json
from pathlib import Path

import click

from rai.options import json_option, workspace_option


@click.command("monitor")
@click.argument("batch", type=click.Path(path_type=Path))
@click.option("--model", "name", required=True, help="Registered model name.")
@click.option("--version", "version", type=click.IntRange(min=1), help="Registry version (default: the latest).")
@click.option("--registry", type=click.Path(file_okay=False, path_type=Path),
              help="Registry directory (default: the workspace's registry/).")
@click.option("--policy", type=click.Path(path_type=Path),
              help="Policy whose `monitor` rules apply (default: the one the model was registered under).")
@workspace_option
@json_option
@click.option("--verbose", is_flag=True, help="Show TensorFlow's own log output.")
def monitor(batch: Path, name: str, version: int | None, registry: Path | None, policy: Path | None,
            workspace: Path, as_json: bool, verbose: bool) -> None:
    """Check BATCH (CSV or Parquet of live rows) for data drift, prediction drift and, when it
    has labels, performance and fairness, with the policy's `monitor` rules.

    Exit 0 when the monitor gate passes, 1 when it blocks, 2 on bad input.
    """
    from lifecycle import tfcompat
    from lifecycle.monitor import monitor_batch

    tfcompat.set_verbose(verbose)
    result = monitor_batch(batch, name=name, version=version, registry=registry, workspace=workspace,
                           policy_path=policy)
    if as_json:
        click.echo(json.dumps(result.summary, indent=2))
    else:
        _print(result.summary)
    if result.exit_code:
        raise click.exceptions.Exit(result.exit_code)


def _print(summary: dict) -> None:
    model, numbers = summary["model"], summary["numbers"]
    click.echo(f"monitor {summary['run_id']}: {model['name']} v{model['version']} on {summary['batch']['rows']} rows: "
               f"{summary['decision']}")
    mean = numbers["mean_score"]
    click.echo(f"  mean score {mean['reference']:.4f} (reference) -> {mean['current']:.4f} (batch)")
    data = (numbers.get("drift") or {}).get("data")
    if data:
        drifted = [c["column"] for c in data["columns"] if c["drifted"]]
        click.echo(f"  data drift: {data['n_drifted']} of {len(data['columns'])} columns"
                   + (f" ({', '.join(drifted)})" if drifted else ""))
    for f in summary["findings"]:
        click.echo(f"  {f['status']:<8} {f['rule_id']}: {f['message']}")
    if not summary["findings"]:
        click.echo("  the policy has no monitor rules")
    for reason in summary["reasons"]:
        click.echo(f"  blocked by {reason}")
