"""``rai monitor``: audit a batch of live data against a registered model's policy."""

from __future__ import annotations

import json
from pathlib import Path

import click

from rai.options import csv_dialect_options, json_option, workspace_option


@click.command("monitor")
@click.argument("batch", type=click.Path(path_type=Path), required=False)
@click.option("--log", "from_log", is_flag=True,
              help="Audit the prediction log of `rai serve` instead of a batch file, window by window.")
@click.option("--window", default="1h", show_default=True,
              help="With --log: a duration (30m, 1h, 1d) or a number of decisions (1000) per window.")
@click.option("--labels", "labels", type=click.Path(path_type=Path),
              help="With --log: outcomes (CSV or Parquet) joined to the logged decisions.")
@click.option("--join", "join", type=click.Choice(["request_id", "client_request_id"]), default="request_id",
              show_default=True, help="With --labels: the id column that matches a decision (plus 'row' for batches).")
@click.option("--since", help="With --log: only decisions at or after this time (ISO 8601, UTC if no zone).")
@click.option("--model", "name", required=True, help="Registered model name.")
@click.option("--version", "version", type=click.IntRange(min=1), help="Registry version (default: the latest).")
@click.option("--registry", type=click.Path(file_okay=False, path_type=Path),
              help="Registry directory (default: the workspace's registry/).")
@click.option("--policy", type=click.Path(path_type=Path),
              help="Policy whose `monitor` rules apply (default: the one the model was registered under).")
@workspace_option
@json_option
@click.option("--verbose", is_flag=True, help="Show TensorFlow's own log output.")
@csv_dialect_options
def monitor(batch: Path | None, from_log: bool, window: str, labels: Path | None, join: str, since: str | None,
            name: str, version: int | None, registry: Path | None, policy: Path | None,
            workspace: Path, as_json: bool, verbose: bool) -> None:
    """Check BATCH (CSV or Parquet of live rows) for data drift, prediction drift and, when it
    has labels, performance and fairness, with the policy's `monitor` rules. With --log, check
    the served model's logged decisions instead, one recorded run per window.

    A CSV batch is read in the dialect of the model's training data (its spec's `data.csv`);
    --sep, --encoding, --decimal and --quotechar given replace its fields for a batch written otherwise.

    Exit 0 when the monitor gate passes (every window), 1 when it blocks, 2 on bad input.
    """
    from governance import csvoptions
    from governance.errors import UserError
    from lifecycle import tfcompat

    # Only options the user gave replace the model's recorded dialect (none given: the model's own).
    dialect = csvoptions.current() if csvoptions.current().model_fields_set else None

    if (batch is None) == (not from_log):
        raise UserError("rai monitor: give a BATCH file, or --log to audit the prediction log (not both)")
    if not from_log and (labels is not None or since is not None):
        raise UserError("rai monitor: --labels and --since go with --log (a batch file carries its own labels)")
    if from_log and dialect is not None:
        raise UserError("rai monitor: --sep, --encoding, --decimal and --quotechar go with a BATCH file, not --log")
    if from_log:
        from lifecycle.monitor_windows import monitor_log

        summary = monitor_log(name=name, window=window, version=version, registry=registry, workspace=workspace,
                              policy_path=policy, labels_path=labels, join=join, since=since)
        if as_json:
            click.echo(json.dumps(summary, indent=2))
        else:
            _print_windows(summary)
        if summary["decision"] != "passed":
            raise click.exceptions.Exit(1)
        return
    from lifecycle.monitor import monitor_batch

    tfcompat.set_verbose(verbose)
    result = monitor_batch(batch, name=name, version=version, registry=registry, workspace=workspace,
                           policy_path=policy, csv_options=dialect)
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
    click.echo(f"  {_levels(numbers)}")
    data = (numbers.get("drift") or {}).get("data")
    if data:
        drifted = [c["column"] for c in data["columns"] if c["drifted"]]
        click.echo(f"  data drift: {data['n_drifted']} of {len(data['columns'])} columns"
                   + (f" ({', '.join(drifted)})" if drifted else ""))
    for key, what in (("selection_rate_gaps", "selection-rate"), ("mean_prediction_gaps", "mean-prediction")):
        gaps = [f"{name.split('.')[0]} {value:.4g}" for name, value in (numbers.get(key) or {}).items() if value is not None]
        if gaps:
            click.echo(f"  {what} gap between groups: {', '.join(gaps)}")
    if not summary["batch"]["labelled"]:
        click.echo(f"  no labels in the batch: rules that need them are not run "
                   f"(on_missing_labels: {summary['policy']['on_missing_labels']})")
    for f in summary["findings"]:
        click.echo(f"  {f['status']:<8} {f['rule_id']}: {f['message']}")
    if not summary["findings"]:
        click.echo("  the policy has no monitor rules")
    for reason in summary["reasons"]:
        click.echo(f"  blocked by {reason}")


def _levels(numbers: dict) -> str:
    """The model's output level on the batch against the reference: by task."""
    if "class_shares" in numbers:
        shares = numbers["class_shares"]
        return "predicted classes (reference -> batch): " + ", ".join(
            f"{c} {shares['reference'][c]:.3f} -> {shares['current'][c]:.3f}" for c in shares["current"])
    what, key = ("mean prediction", "mean_prediction") if "mean_prediction" in numbers else ("mean score", "mean_score")
    mean = numbers[key]
    return f"{what} {mean['reference']:.4g} (reference) -> {mean['current']:.4g} (batch)"


def _print_windows(summary: dict) -> None:
    model = summary["model"]
    click.echo(f"monitor {model['name']} v{model['version']}: {summary['decisions']} logged decision(s) in "
               f"{len(summary['windows'])} window(s): {summary['decision']}")
    for w in summary["windows"]:
        drift = ((w["numbers"].get("drift") or {}).get("data") or {}).get("drifted_share")
        shown = f"drift share {drift:.2f}" if isinstance(drift, float) else "drift not measured"
        click.echo(f"  {w['start']} .. {w['end']}  {w['rows']:>6} rows  {w['labelled']:>6} labelled  {shown}  "
                   f"{w['decision']}  ({w['run_id']})")
        for reason in w["reasons"]:
            click.echo(f"      blocked by {reason}")
    found = summary.get("labels")
    if found:
        click.echo(f"  labels {found['file']}: {found['matched']} of {found['rows']} matched a logged decision"
                   + (f"; {found['unmatched']} did not (e.g. {', '.join(found['unmatched_examples'][:3])})"
                      if found["unmatched"] else ""))
