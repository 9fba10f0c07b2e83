"""``rai audit``: audit a predictions or data file without training anything.

``rai audit fairness`` prints the per-group table and disparity metrics of a CSV or Parquet file
of labels and predictions (binary, multiclass or regression: ``--task``) and, with ``--policy``,
runs the policy's ``fairness.*`` and ``performance.*`` rules as a gate (exit 0 pass, 1 blocked).
``rai audit drift`` lives in :mod:`rai.commands.audit_drift`, imported when invoked.
"""

from __future__ import annotations

import json

import click
import numpy as np

from governance.api import policy_summary, run_rules
from governance.errors import UserError
from governance.evidence import Evidence, Predictions
from governance.evidence_input import canonical, show
from governance.fsutil import file_sha256
from governance.groups import apply_groups, parse_bins, parse_labels
from governance.io import (
    encode_binary,
    read_columns,
    read_table,
    require_columns,
    require_no_missing,
)
from governance.metrics.fairness_tasks import report_for
from governance.metrics.performance import SCORE_METRICS
from governance.vocabulary import DEFAULT_MIN_GROUP_SIZE, TASKS
from rai.cioutput import ci_output
from rai.commands.audit_common import (
    exit_blocked,
    load_rules,
    print_findings,
    record_audit,
    rule_param,
)
from rai.commands.audit_scale import engine_options, run_scaled_fairness
from rai.options import csv_dialect_options, json_option, na_values_option, split_columns, workspace_option

AUDIT_FAMILIES = ("fairness.", "performance.")


class AuditGroup(click.Group):
    """The ``audit`` group: ``fairness`` below, and ``drift``, imported only when it is used so
    that ``rai audit fairness`` does not pay for the drift modules."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), "drift"})

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name == "drift":
            from rai.commands.audit_drift import drift

            return drift
        return super().get_command(ctx, name)


@click.group("audit", cls=AuditGroup)
def audit() -> None:
    """Audit a predictions or data file: fairness, drift (no training)."""


@audit.command("fairness")
@engine_options(run_scaled_fairness)
@click.option("--data", required=True, help="CSV (optionally .gz) or Parquet file of labels and predictions.")
@click.option("--y-true", "y_true", required=True, help="Column of true labels (regression: targets).")
@click.option("--y-pred", "y_pred", required=True, help="Column of predicted labels (regression: predictions).")
@click.option("--sensitive", required=True, help="Sensitive column(s), comma-separated; several form intersectional groups.")
@click.option("--task", type=click.Choice(TASKS), default="binary", show_default=True,
              help="What the model predicts: two classes, one of several classes, or a number.")
@click.option("--y-score", "y_score", help="Column of positive-class scores (binary; for roc_auc and log_loss rules).")
@click.option("--pos-label", "pos_label", help="Label value that means positive (binary; needed for text labels such as '>50K').")
@click.option("--favorable-label", "favorable_label",
              help="The outcome people want (binary: the positive label by default; multiclass: one class); "
                   "selection rates count it.")
@click.option("--labels", "labels", multiple=True, metavar="COL=VALUE:LABEL[,VALUE:LABEL...]",
              help="Readable names of a sensitive column's values, e.g. sex=1:male,2:female (repeatable).")
@click.option("--bins", "bins", multiple=True, metavar="COL=EDGE,EDGE[,EDGE...]",
              help="Cut a numeric sensitive column into bands, e.g. age=0,25,40,60,120 (repeatable).")
@click.option("--min-group-size", "min_group_size", type=click.IntRange(min=1), default=DEFAULT_MIN_GROUP_SIZE, show_default=True,
              help="Groups with fewer rows are listed but left out of the metrics.")
@click.option("--policy", "policy_path", help="Policy file whose fairness.* and performance.* rules gate the audit.")
@json_option
@click.option("--record", is_flag=True, help="Append an audit.completed event to the trail.")
@workspace_option
@csv_dialect_options
@na_values_option
@ci_output
def fairness(data, y_true, y_pred, sensitive, task, y_score, pos_label, favorable_label, labels, bins,
             min_group_size, policy_path, as_json, record, workspace, na_values=()) -> None:
    """Per-group rates (or errors) and the fairness disparities of a predictions file.

    Binary: selection rate, accuracy, TPR and FPR per group. Multiclass: accuracy per group and
    one-vs-rest rates per class; disparities of the worst class. Regression: MAE, RMSE, mean
    prediction and mean target per group; MAE and mean-prediction gaps.

    Exits 0 when no policy is given or the policy passes, 1 when it blocks, 2 on a usage error.
    """
    features = split_columns(sensitive, "--sensitive")
    _refuse_task_options(task, pos_label, favorable_label, y_score)
    groups = {"value_labels": parse_labels(labels), "bins": parse_bins(bins)}
    policy, rules = load_rules(policy_path, AUDIT_FAMILIES) if policy_path else (None, [])
    rule_features = _rule_features(rules, data, policy_path, y_score, task)
    predictions = read_predictions(data, y_true, y_pred, y_score, pos_label,
                                   list(dict.fromkeys(features + rule_features)), task=task,
                                   favorable_label=favorable_label, na_values=na_values, **groups)
    try:
        report = report_for(predictions, features, min_group_size)
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

        from rai.commands.fairness_output import print_report

        console = Console()
        print_report(console, report)
        if policy is not None:
            print_findings(console, findings)
    if record:
        run_id = record_audit(workspace, "fairness", {data: file_sha256(data)}, result, policy)
        click.echo(f"recorded audit run {run_id} (rai report {run_id})", err=True)
    exit_blocked(findings)


def read_predictions(data: str, y_true: str, y_pred: str, y_score: str | None, pos_label: str | None,
                     features: list[str], *, task: str = "binary", favorable_label: str | None = None,
                     value_labels: dict | None = None, bins: dict | None = None,
                     na_values: tuple[str, ...] = ()) -> Predictions:
    """The labels (binary: coded 0/1), scores and sensitive columns of a file; one-line errors."""
    label_columns = [y_true, y_pred] + ([y_score] if y_score else [])
    frame = read_table(data, label_columns + features, categorical=features, na_values=na_values)
    if frame.empty:
        raise UserError(f"{data}: no rows")
    require_no_missing(frame, label_columns + features, data)
    try:
        sensitive = apply_groups(frame[features], value_labels, bins, names=("--labels", "--bins"))
    except UserError as err:
        raise UserError(f"{data}: {err}") from None
    if task != "binary":
        try:
            return Predictions(frame[y_true], frame[y_pred], sensitive, task=task, favorable_label=favorable_label)
        except UserError as err:
            raise UserError(f"{data}: {_name_columns(str(err), y_true, y_pred)}") from None
    return Predictions(
        y_true=_binary(frame[y_true], y_true, pos_label, data),
        y_pred=_binary(frame[y_pred], y_pred, pos_label, data),
        sensitive=sensitive,
        y_score=_scores(frame, y_score, data) if y_score else None,
        favorable_label=_favorable(frame, (y_true, y_pred), pos_label, favorable_label, data),
    )


def _refuse_task_options(task: str, pos_label, favorable_label, y_score) -> None:
    for option, value, tasks in (("--pos-label", pos_label, ("binary",)), ("--y-score", y_score, ("binary",)),
                                 ("--favorable-label", favorable_label, ("binary", "multiclass"))):
        if value is not None and task not in tasks:
            raise UserError(f"{option} does not apply to --task {task} (only to {' and '.join(tasks)})")


def _binary(values, column: str, pos_label: str | None, data: str) -> np.ndarray:
    try:
        return encode_binary(values, column, pos_label, data)
    except UserError as err:
        if str(err).endswith("a binary audit needs two"):
            raise UserError(f"{err}; other targets need --task multiclass or --task regression") from None
        raise


def _favorable(frame, columns: tuple[str, str], pos_label: str | None, favorable: str | None, data: str) -> int:
    """1 when ``--favorable-label`` is the positive label (or absent), 0 when it is the other one."""
    if favorable is None:
        return 1
    if canonical(favorable) == canonical(1 if pos_label is None else pos_label):
        return 1
    if pos_label is None:
        if canonical(favorable) == "0":
            return 0
        raise UserError(f"{data}: --favorable-label {favorable!r} is not a label of column '{columns[0]}' (labels: 0, 1)")
    present = list(dict.fromkeys(v for c in columns for v in frame[c].unique().tolist()))
    if any(canonical(v) == canonical(favorable) for v in present if canonical(v) != canonical(pos_label)):
        return 0
    raise UserError(f"{data}: --favorable-label {favorable!r} is neither --pos-label {pos_label!r} nor the other "
                    f"label of columns '{columns[0]}' and '{columns[1]}' (labels: {show(present)})")


def _name_columns(message: str, y_true: str, y_pred: str) -> str:
    """``y_true: ...`` from :class:`Predictions` becomes ``column 'Y': ...``."""
    for field, column in (("y_true", y_true), ("y_pred", y_pred)):
        if message.startswith(f"{field}:"):
            return f"column '{column}'" + message[len(field):]
    return message


def _rule_features(rules, data: str, policy_path: str | None, y_score: str | None, task: str = "binary") -> list[str]:
    """Sensitive columns the policy's rules ask for; each must be in the data file."""
    if not rules:
        return []
    available = read_columns(data)
    features: list[str] = []
    for rule in rules:
        scored = rule_param(rule, "metric") in SCORE_METRICS and rule.check.startswith("performance.")
        if scored and task == "multiclass":
            raise UserError(f"rule '{rule.id}' of {policy_path} needs class probabilities, which rai audit does not "
                            "read from files; gate it with rai.audit and rai.Predictions(y_score=...)")
        if scored and not y_score:
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
