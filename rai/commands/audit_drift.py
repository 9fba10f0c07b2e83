"""``rai audit drift``: compare a current data file with a reference file, column by column.

Prints each column's method, statistic, threshold and drift flag and the share of drifted
columns, the numbers evidently's ``DataDriftPreset`` gives on the same files (see
:mod:`governance.metrics.drift`). With ``--policy`` the policy's ``drift.*`` rules run as a gate
(exit 0 pass, 1 blocked); ``--prediction COL`` names a column of model outputs, which is then
tested on its own (``drift.prediction`` rules) rather than as a feature.
"""

from __future__ import annotations

import json

import click

from governance.api import policy_summary, run_rules
from governance.errors import UserError
from governance.evidence import Evidence
from governance.findings import jsonable
from governance.fsutil import file_sha256
from governance.io import missing_column_message, read_table
from governance.metrics.drift import drift_report, prediction_drift
from rai.cioutput import ci_output
from rai.commands.audit_common import (
    exit_blocked,
    load_rules,
    print_findings,
    record_audit,
)
from rai.commands.audit_scale import engine_options, run_scaled_drift
from rai.commands.drift_output import print_report
from rai.options import csv_dialect_options, json_option, na_values_option, split_columns, workspace_option

AUDIT_FAMILIES = ("drift.",)


@click.command("drift")
@engine_options(run_scaled_drift)
@click.option("--reference", required=True, help="Reference CSV (optionally .gz) or Parquet file, e.g. the training data.")
@click.option("--current", required=True, help="Current CSV or Parquet file compared with the reference.")
@click.option("--columns", help="Columns to compare, comma-separated (default: every numerical and categorical column).")
@click.option("--stattest", help="Method for every column, by evidently's name: ks, chisquare, z, wasserstein, "
              "jensenshannon, psi, kl_div, hellinger, t_test, mannw, ed (default: evidently's choice per column).")
@click.option("--threshold", type=float, help="Drift threshold for every column (default: the method's own).")
@click.option("--drift-share", "drift_share", type=click.FloatRange(0, 1, min_open=True), default=0.5,
              show_default=True, help="The dataset drifts when at least this share of columns drifts.")
@click.option("--prediction", help="Column of model outputs, tested on its own instead of as a feature.")
@click.option("--policy", "policy_path", help="Policy file whose drift.* rules gate the audit.")
@json_option
@click.option("--record", is_flag=True, help="Append an audit.completed event to the trail.")
@workspace_option
@csv_dialect_options
@na_values_option
@ci_output
def drift(reference, current, columns, stattest, threshold, drift_share, prediction, policy_path, as_json,
          record, workspace, na_values=()) -> None:
    """Per-column data drift of CURRENT against REFERENCE and the dataset drift share.

    Exits 0 when no policy is given or the policy passes, 1 when it blocks, 2 on a usage error.
    """
    wanted = split_columns(columns) if columns else None
    policy, rules = load_rules(policy_path, AUDIT_FAMILIES) if policy_path else (None, [])
    needs_predictions = [rule.id for rule in rules if rule.check == "drift.prediction"]
    if prediction is None and needs_predictions:
        raise UserError(f"rule '{needs_predictions[0]}' of {policy_path} tests prediction drift: pass --prediction COL")
    names = (str(reference), str(current))
    ref_frame, cur_frame, predictions = _read(names, wanted, prediction, na_values)
    report = drift_report(ref_frame, cur_frame, columns=wanted, stattest=stattest, stattest_threshold=threshold,
                          drift_share=drift_share, names=names)
    result = report.to_dict()
    if predictions is not None:
        result["prediction"] = prediction_drift(*predictions, stattest=stattest, threshold=threshold, names=names)
    findings = []
    if policy is not None:
        ref_scores, cur_scores = predictions or (None, None)
        evidence = Evidence(reference=ref_frame, current=cur_frame, prediction_reference=ref_scores,
                            prediction_current=cur_scores)
        findings = run_rules(policy, rules, evidence)
        result.update(policy_summary(policy, findings))
    result = jsonable(result)  # NaN statistics (a chi-square test on one category) become null

    if as_json:
        click.echo(json.dumps(result, indent=2))
    else:
        from rich.console import Console

        console = Console()
        print_report(console, report, result.get("prediction"), names)
        if policy is not None:
            print_findings(console, findings)
    if record:
        inputs = {str(reference): file_sha256(reference), str(current): file_sha256(current)}
        run_id = record_audit(workspace, "drift", inputs, result, policy)
        click.echo(f"recorded audit run {run_id} (rai report {run_id})", err=True)
    exit_blocked(findings)


def _read(names: tuple[str, str], wanted: list[str] | None, prediction: str | None, na_values: tuple[str, ...] = ()):
    """Both frames (only ``wanted`` columns, if given) and the prediction columns, set apart."""
    to_read = None if wanted is None else list(dict.fromkeys(wanted + ([prediction] if prediction else [])))
    frames = [read_table(path, to_read, na_values=na_values) for path in names]
    for frame, path in zip(frames, names, strict=True):
        if frame.empty:
            raise UserError(f"{path}: no rows")
        if prediction is not None and prediction not in frame.columns:
            raise UserError(f"{path}: --prediction: {missing_column_message(prediction, [str(c) for c in frame.columns])}")
    if prediction is None:
        return frames[0], frames[1], None
    predictions = (frames[0][prediction], frames[1][prediction])
    if prediction not in (wanted or []):  # model outputs are not features
        frames = [frame.drop(columns=[prediction]) for frame in frames]
    return frames[0], frames[1], predictions
