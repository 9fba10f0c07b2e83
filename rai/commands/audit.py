"""``rai audit``: audit a predictions or data file without training anything.

``rai audit fairness`` prints the per-group table and disparity metrics of a CSV or Parquet file
of labels and predictions and, with ``--policy``, runs the policy's ``fairness.*`` and
``performance.*`` rules as a gate (exit 0 pass, 1 blocked). Other audits live in their own
modules (``audit_<name>.py``) and are added to this group when present.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
from typing import TYPE_CHECKING

import click
import numpy as np

from governance.api import policy_summary, run_rules
from governance.errors import UserError
from governance.evidence import Evidence, Predictions
from governance.io import (
    encode_binary,
    file_sha256,
    read_columns,
    read_table,
    require_columns,
    require_no_missing,
)
from governance.metrics.fairness import RATES, FairnessReport, fairness_report
from governance.textsafe import markup
from governance.vocabulary import DEFAULT_MIN_GROUP_SIZE
from rai.cioutput import ci_output
from rai.commands.audit_common import (
    exit_blocked,
    load_rules,
    print_findings,
    record_audit,
    rule_param,
)
from rai.commands.audit_scale import engine_options, run_scaled_fairness
from rai.options import csv_dialect_options, json_option, workspace_option

if TYPE_CHECKING:  # rich is imported when a table is printed: --json output does not pay for it
    from rich.console import Console

AUDIT_FAMILIES = ("fairness.", "performance.")


# Audits written in their own modules (``rai/commands/audit_<name>.py``, defining a click command
# ``<name>``). They are imported when invoked, so that ``rai audit fairness`` does not pay for
# the statistics libraries of ``rai audit drift``.
OPTIONAL_AUDITS = ("drift",)


class AuditGroup(click.Group):
    """The ``audit`` group: built-in subcommands plus the optional audits that are installed."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        present = [n for n in OPTIONAL_AUDITS if importlib.util.find_spec(f"rai.commands.audit_{n}")]
        return sorted(set(super().list_commands(ctx)) | set(present))

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        command = super().get_command(ctx, name)
        if command is None and name in OPTIONAL_AUDITS:
            command = _optional_command(name)
        return command


@click.group("audit", cls=AuditGroup)
def audit() -> None:
    """Audit a predictions or data file: fairness, drift (no training)."""


@audit.command("fairness")
@engine_options(run_scaled_fairness)
@click.option("--data", required=True, help="CSV (optionally .gz) or Parquet file of labels and predictions.")
@click.option("--y-true", "y_true", required=True, help="Column of true labels.")
@click.option("--y-pred", "y_pred", required=True, help="Column of predicted labels.")
@click.option("--sensitive", required=True, help="Sensitive column(s), comma-separated; several form intersectional groups.")
@click.option("--y-score", "y_score", help="Column of positive-class scores (for roc_auc rules).")
@click.option("--pos-label", "pos_label", help="Label value that means positive (needed for text labels such as '>50K').")
@click.option("--min-group-size", "min_group_size", type=click.IntRange(min=1), default=DEFAULT_MIN_GROUP_SIZE, show_default=True,
              help="Groups with fewer rows are listed but left out of the metrics.")
@click.option("--policy", "policy_path", help="Policy file whose fairness.* and performance.* rules gate the audit.")
@json_option
@click.option("--record", is_flag=True, help="Append an audit.completed event to the trail.")
@workspace_option
@csv_dialect_options
@ci_output
def fairness(data, y_true, y_pred, sensitive, y_score, pos_label, min_group_size, policy_path, as_json,
             record, workspace) -> None:
    """Per-group selection rate, accuracy, TPR and FPR, and the fairness disparities of a file.

    Exits 0 when no policy is given or the policy passes, 1 when it blocks, 2 on a usage error.
    """
    features = _split_columns(sensitive)
    policy, rules = load_rules(policy_path, AUDIT_FAMILIES) if policy_path else (None, [])
    rule_features = _rule_features(rules, data, policy_path, y_score)
    predictions = read_predictions(data, y_true, y_pred, y_score, pos_label,
                                   list(dict.fromkeys(features + rule_features)))
    try:
        report = fairness_report(predictions.y_true, predictions.y_pred, predictions.sensitive[features],
                                 min_group_size)
    except UserError as err:
        raise UserError(f"{data}: {err}") from None
    result = report.to_dict()
    findings = []
    if policy is not None:
        findings = run_rules(policy, rules, Evidence(predictions=predictions, sensitive_features=features))
        result.update(policy_summary(policy, findings))

    if as_json:
        click.echo(json.dumps(result, indent=2))
    else:
        from rich.console import Console

        console = Console()
        print_report(console, report)
        if policy is not None:
            print_findings(console, findings)
    if record:
        run_id = record_audit(workspace, "fairness", {data: file_sha256(data)}, result, policy)
        click.echo(f"recorded audit run {run_id} (rai report {run_id})", err=True)
    exit_blocked(findings)


def read_predictions(data: str, y_true: str, y_pred: str, y_score: str | None, pos_label: str | None,
                     features: list[str]) -> Predictions:
    """The labels (coded 0/1), scores and sensitive columns of a file; one-line errors."""
    label_columns = [y_true, y_pred] + ([y_score] if y_score else [])
    frame = read_table(data, label_columns + features, categorical=features)
    if frame.empty:
        raise UserError(f"{data}: no rows")
    require_no_missing(frame, label_columns + features, data)
    return Predictions(
        y_true=encode_binary(frame[y_true], y_true, pos_label, data),
        y_pred=encode_binary(frame[y_pred], y_pred, pos_label, data),
        sensitive=frame[features],
        y_score=_scores(frame, y_score, data) if y_score else None,
    )


def print_report(console: Console, report: FairnessReport) -> None:
    """The per-group table, then the disparity metrics and the excluded groups."""
    from rich.table import Table

    # Column names and group values come from the file: shown literally, never as markup or escapes.
    table = Table(title=f"Groups by {markup(', '.join(report.sensitive_features))}", title_justify="left")
    for name in report.sensitive_features:
        table.add_column(markup(name), overflow="fold")
    for name in ("count", *RATES, "excluded"):
        table.add_column(name, justify="right", no_wrap=True, min_width=len(name))
    for row in report.group_dicts():
        rates = [_number(row[name]) for name in RATES]
        table.add_row(*map(markup, row["group"].values()), str(row["count"]), *rates,
                      "[yellow]yes[/]" if row["excluded"] else "")
    overall = report.overall
    table.add_section()
    table.add_row(*(["[bold]overall[/]"] + [""] * (len(report.sensitive_features) - 1)),
                  str(overall["count"]), *(_number(overall[name]) for name in RATES), "")
    console.print(table)

    metrics = Table(title="Fairness metrics (excluded groups left out)", title_justify="left")
    metrics.add_column("metric")
    metrics.add_column("value", justify="right")
    for name, value in report.metrics.items():
        metrics.add_row(name, _number(value))
    console.print(metrics)
    if report.excluded:
        console.print(f"[yellow]{len(report.excluded)} group(s) under {report.min_group_size} rows "
                      "excluded from the metrics[/]")
    if len(report.included) < 2:
        console.print("[bold yellow]fewer than 2 groups remain: the metrics compare nothing[/]")


def _number(value) -> str:
    return "n/a" if value is None or value != value else f"{value:.4f}"


def _split_columns(text: str) -> list[str]:
    names = [name.strip() for name in text.split(",")]
    if not all(names):
        raise UserError(f"--sensitive: empty column name in {text!r} (give COL[,COL...])")
    if len(set(names)) != len(names):
        raise UserError(f"--sensitive: column repeated in {text!r}")
    return names


def _rule_features(rules, data: str, policy_path: str | None, y_score: str | None) -> list[str]:
    """Sensitive columns the policy's rules ask for; each must be in the data file."""
    if not rules:
        return []
    available = read_columns(data)
    features: list[str] = []
    for rule in rules:
        if rule_param(rule, "metric") == "roc_auc" and rule.check.startswith("performance.") and not y_score:
            raise UserError(f"rule '{rule.id}' of {policy_path} needs prediction scores: pass --y-score COL")
        wanted = list(rule_param(rule, "sensitive_features", None) or [])
        try:
            require_columns(available, wanted, data)
        except UserError as err:
            raise UserError(f"{err} (needed by rule '{rule.id}' of {policy_path})") from None
        features.extend(wanted)
    return list(dict.fromkeys(features))


def _scores(frame, column: str, data: str) -> np.ndarray:
    values = frame[column]
    if values.dtype.kind not in "iufb":
        raise UserError(f"{data}: column '{column}' must hold numeric scores, got {values.dtype}")
    return values.to_numpy(dtype=float)


def _optional_command(name: str) -> click.Command | None:
    """The ``name`` subcommand from ``rai.commands.audit_<name>``, or ``None`` if not installed."""
    module = f"rai.commands.audit_{name}"
    try:
        return getattr(importlib.import_module(module), name)
    except ModuleNotFoundError as err:
        if err.name != module:
            raise
        return None
