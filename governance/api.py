"""The public functions behind ``import rai``: policies, audits, reports and the trail.

The top of the governance layer: ``rai`` re-exports these and the CLI commands are thin layers
over them. Nothing here imports TensorFlow or Streamlit.
Every user mistake is a :class:`~governance.errors.UserError` with one line naming the field.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from governance.errors import PolicyError, UserError
from governance.evidence import Evidence, Predictions
from governance.findings import Finding, GateResult
from governance.vocabulary import DEFAULT_MIN_GROUP_SIZE, closest, finding_blocks, stage_error

#: Evidence pieces a gate accepts, by name, with the type each must have (see governance.evidence).
EVIDENCE_TYPES: dict[str, str] = {
    "predictions": "Predictions", "parent_predictions": "Predictions",
    "reference": "table", "current": "table", "dataset": "table",
    "prediction_reference": "array", "prediction_current": "array",
    "target": "str", "privacy": "mapping", "metadata": "mapping", "lineage": "mapping",
    "approvals": "list", "model_stats": "mapping", "parent_stats": "mapping",
    "sensitive_features": "names",
}


def load_policy(path: str | Path) -> Any:
    """Load and validate a policy file (``extends`` resolved, every rule's parameters checked).

    Raises
    ------
    PolicyError
        The policy does not load; the message is the one located line ``rai policy lint`` prints.
    """
    from governance.policy.loader import load_policy as _load

    if not isinstance(path, (str, Path)):
        raise UserError(f"policy: expected a file path, got {type(path).__name__}")
    try:
        return _load(path)
    except PolicyError:
        raise
    except UserError as err:
        raise PolicyError(str(err)) from None


def as_policy(policy: Any) -> Any:
    """A loaded :class:`~governance.policy.schema.Policy`, loading it when given a path."""
    from governance.policy.schema import Policy

    if isinstance(policy, Policy):
        return policy
    return load_policy(policy)


def check_stage(stage: Any) -> str:
    """``stage`` if it is one of the lifecycle's stages; UserError with the allowed ones otherwise."""
    problem = stage_error(stage)
    if problem:
        raise UserError(problem)
    return stage


def build_evidence(pieces: Mapping[str, Any]) -> Evidence:
    """An :class:`Evidence` from keyword pieces, each checked against its documented type."""
    import pandas as pd

    from governance.evidence_input import as_array, as_frame

    out: dict[str, Any] = {}
    for name, value in pieces.items():
        kind = EVIDENCE_TYPES.get(name)
        if kind is None:
            raise UserError(f"unknown evidence {name!r}{closest(name, tuple(EVIDENCE_TYPES))} "
                            f"(evidence: {', '.join(EVIDENCE_TYPES)})")
        if value is None:
            continue
        if kind == "Predictions" and not isinstance(value, Predictions):
            raise UserError(f"{name}: expected rai.Predictions(y_true, y_pred, sensitive), got {type(value).__name__}")
        if kind == "table":
            value = as_frame(value, name, default_name=name)
        elif kind == "array":
            value = pd.Series(as_array(value, name))
        elif kind == "str" and not isinstance(value, str):
            raise UserError(f"{name}: expected a column name (str), got {type(value).__name__}")
        elif kind == "mapping" and not isinstance(value, Mapping):
            raise UserError(f"{name}: expected a mapping, got {type(value).__name__}")
        elif kind == "list" and not isinstance(value, (list, tuple)):
            raise UserError(f"{name}: expected a list, got {type(value).__name__}")
        elif kind == "names" and (not isinstance(value, (list, tuple)) or not all(isinstance(v, str) and v for v in value)):
            raise UserError(f"{name}: expected a list of column names, got {value!r:.80}")
        if kind == "names":
            value = list(value)
        out[name] = dict(value) if kind == "mapping" else value
    return Evidence(**out)


def audit(policy: Any, stage: str, **evidence: Any) -> GateResult:
    """Run ``policy``'s rules for ``stage`` on the evidence given, without recording anything.

    Parameters
    ----------
    policy : a loaded policy or the path of a policy file
    stage : one of ``ingest``, ``train``, ``evaluate``, ``optimize``, ``deploy``, ``monitor``
    **evidence : pieces by name (``predictions=rai.Predictions(...)``, ``reference=df``, ...)

    Returns
    -------
    GateResult
        ``.blocked``, ``.decision``, ``.findings``, ``.to_dict()``, ``.raise_if_blocked()``.
        A rule whose evidence is missing is an ``error`` finding, which blocks.
    """
    from governance.engine import evaluate

    policy = as_policy(policy)
    stage = check_stage(stage)
    return evaluate(policy, stage, build_evidence(evidence))


def run_rules(policy: Any, rules: list, evidence: Evidence) -> list[Finding]:
    """Evaluate ``rules`` against ``evidence``, each at its own stage, in policy order."""
    from governance.engine import evaluate

    findings: list[Finding] = []
    for rule in rules:  # one rule at a time keeps each finding's stage the rule's own stage
        findings.extend(evaluate(policy, rule.stage, evidence, rules=[rule]).findings)
    return findings


def policy_summary(policy: Any, findings: list[Finding]) -> dict[str, Any]:
    """The ``policy``, ``decision`` and ``findings`` keys an audit's JSON object gains from a policy."""
    return {
        "policy": {"name": policy.policy, "version": policy.version, "sha256": policy.sha256,
                   "source": policy.source},
        "decision": GateResult(stage="audit", findings=findings).decision,
        "findings": [f.to_dict() for f in findings],
    }


def fairness_report(y_true: Any, y_pred: Any, sensitive: Any, *, pos_label: Any = None,
                    min_group_size: int = DEFAULT_MIN_GROUP_SIZE, task: str = "binary",
                    favorable_label: Any = None, classes: Any = None, value_labels: Any = None,
                    bins: Any = None, data: Any = None) -> Any:
    """Per-group rates (or errors) and the disparity metrics of one model's predictions.

    The same numbers and JSON (``.to_dict()``) as ``rai audit fairness --json``; equal to
    fairlearn's ``MetricFrame`` on the same rows. Inputs are as for :class:`rai.Predictions`:
    ``task`` is ``binary`` (selection rate, accuracy, TPR, FPR), ``multiclass`` (accuracy and
    one-vs-rest rates per class; disparities of the worst class) or ``regression`` (MAE, RMSE,
    mean prediction and mean target; MAE and mean-prediction gaps); ``favorable_label`` decides
    what "selection" means; ``value_labels`` and ``bins`` make the groups readable.

    With ``data`` (a pandas or Spark DataFrame), ``y_true``, ``y_pred`` and ``sensitive`` name
    its columns: ``fairness_report("label", "prediction", ["sex"], data=df)``. A Spark DataFrame
    is audited by Spark aggregations (binary task); no row is collected to the driver.

    Returns
    -------
    FairnessReport, MulticlassFairnessReport or RegressionFairnessReport
        ``.groups`` (a DataFrame), ``.metrics``, ``.overall``, ``.excluded``, ``.to_dict()``.
    """
    from governance.engines.spark import is_spark_frame
    from governance.metrics.fairness_tasks import report_for

    if data is not None:
        if is_spark_frame(data):
            return _spark_fairness(data, y_true, y_pred, sensitive, pos_label, min_group_size, task)
        y_true, y_pred, sensitive = _columns_of(data, y_true, y_pred, sensitive)

    _check_group_size(min_group_size)
    predictions = Predictions(y_true, y_pred, sensitive, pos_label=pos_label, task=task,
                              favorable_label=favorable_label, classes=classes, value_labels=value_labels, bins=bins)
    try:
        return report_for(predictions, list(predictions.sensitive.columns), min_group_size)
    except ValueError as err:
        raise UserError(f"sensitive: {err}") from None


def drift_report(reference: Any, current: Any, *, columns: list[str] | None = None, stattest: str | None = None,
                 threshold: float | None = None, drift_share: float = 0.5) -> Any:
    """Per-column data drift of ``current`` against ``reference``, by evidently's methods.

    The same numbers and JSON (``.to_dict()``) as ``rai audit drift --json``. Two Spark
    DataFrames are compared by Spark aggregations (no row collected to the driver).

    Returns
    -------
    DriftReport
        ``.columns`` (one row per column), ``.drifted_share``, ``.dataset_drift``, ``.skipped``,
        ``.to_dict()``.
    """
    from governance.engines.spark import is_spark_frame
    from governance.evidence_input import as_frame
    from governance.metrics.drift import drift_report as _report

    if columns is not None and (isinstance(columns, str) or not all(isinstance(c, str) for c in columns)):
        raise UserError("columns: expected a list of column names")
    if is_spark_frame(reference) or is_spark_frame(current):
        return _spark_drift(reference, current, columns, stattest, threshold, drift_share)
    return _report(as_frame(reference, "reference", "value"), as_frame(current, "current", "value"),
                   columns=columns, stattest=stattest, stattest_threshold=threshold, drift_share=drift_share)


def read_table(path: str | Path, columns: list[str] | None = None, *, sep: str | None = None,
               encoding: str | None = None, decimal: str | None = None, quotechar: str | None = None,
               na_values: list[str] | str | None = None) -> Any:
    """Read a CSV or Parquet file as rai's audits do (same missing values, same refusals).

    Parameters
    ----------
    path : a ``.csv`` (optionally compressed), ``.tsv`` or Parquet file
    columns : the columns to read, in this order (default: all)
    sep, encoding, decimal, quotechar : how a CSV file is written (default: ``,``, UTF-8, ``.``,
        ``"``), e.g. ``sep=";", decimal=","`` for many European exports
    na_values : text that means a missing value besides empty fields and pandas' usual markers,
        e.g. ``["?"]`` (one text alone is one marker), as a pipeline's ``data.na_values``

    Returns
    -------
    pandas.DataFrame

    Raises
    ------
    UserError
        A malformed option (``sep: must be one character ...``), a missing file or column, a row
        with more fields than the header: one line naming the file, line or column.
    """
    from governance.csvoptions import csv_options
    from governance.io import read_table as _read

    dialect = csv_options(sep=sep, encoding=encoding, decimal=decimal, quotechar=quotechar)
    if columns is not None and (isinstance(columns, str) or not all(isinstance(c, str) for c in columns)):
        raise UserError("columns: expected a list of column names")
    markers = [na_values] if isinstance(na_values, str) else na_values or []
    if not isinstance(markers, list | tuple) or not all(isinstance(m, str) for m in markers):
        raise UserError("na_values: expected a list of texts, e.g. ['?']")
    return _read(path, columns, csv_options=dialect, na_values=markers)


def open_trail(workspace: str | Path = ".rai", *, create: bool = False) -> Any:
    """Open a workspace's audit trail for reading (``create=True`` starts a new one).

    Returns
    -------
    Trail
        ``.events(run_id=..., kind=...)``, ``.runs()``, ``.verify()``, ``.close()``; a context manager.
    """
    from governance.trail import open_trail as _open

    return _open(workspace_at(workspace), create=create)


def verify_trail(workspace: str | Path = ".rai") -> Any:
    """Recompute the trail's hash chain, Merkle roots and signatures.

    Returns
    -------
    VerifyReport
        ``.ok`` and ``.problems`` (each located at its entry).
    """
    from governance.trail import verify_trail as _verify

    return _verify(workspace_at(workspace))


def workspace_at(workspace: Any) -> Any:
    """The :class:`Workspace` at a directory path (UserError for anything else)."""
    from governance.workspace import Workspace

    if not isinstance(workspace, (str, Path)):
        raise UserError(f"workspace: expected a directory path, got {type(workspace).__name__}")
    return Workspace.at(workspace)


def _check_group_size(value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise UserError(f"min_group_size: must be an integer >= 1, got {value!r}")


def record_audit(workspace: str | Path, kind: str, inputs: dict[str, str], result: dict[str, Any],
                 policy: Any = None) -> str:
    """Record an audit (``rai audit ... --record``) as a run of kind ``audit``; return its run id.

    The run has the events a report needs: ``run.started`` (kind ``audit``, the policy),
    ``stage.completed`` (stage ``audit``: the inputs' hashes and headline numbers, the audit's
    JSON as evidence), ``audit.completed``, one ``gate.decided`` per stage the policy's rules ran
    at, and ``run.finished`` with a signed checkpoint. Without a policy nothing was gated and the
    run finishes ``passed`` with no gate, which reports call "recorded, not checked".

    Parameters
    ----------
    workspace : the workspace directory (created if missing)
    kind : ``"fairness"`` or ``"drift"``
    inputs : ``{file: sha256}`` of every file the audit read
    result : the audit's JSON object (with ``findings`` and ``decision`` when a policy ran)
    policy : the policy that gated the audit, if any
    """

    from governance.provenance import code_revision, new_run_id, policy_payload, versions
    from governance.recorder import RunRecorder
    from governance.trail import open_trail

    run_id = new_run_id()
    findings = list(result.get("findings") or [])
    by_stage: dict[str, list[dict[str, Any]]] = {}
    for finding in findings:
        by_stage.setdefault(finding.get("stage") or "audit", []).append(finding)
    blocked = [f for f in findings if finding_blocks(f)]
    decision = "blocked" if blocked else "passed"
    with open_trail(workspace_at(workspace).ensure()) as trail:
        recorder = RunRecorder(trail, run_id)
        recorder.event("run.started", {
            "kind": "audit", "name": f"audit {kind}", "spec": None, "spec_hash": None,
            "policy": policy_payload(policy) if policy is not None else None, "inputs": inputs,
            "versions": versions(), "code_revision": code_revision(Path.cwd()), "workspace": str(Path(workspace))})
        artifacts = {Path(name).name: {"kind": "dataset", "name": Path(name).name, "sha256": digest, "path": name}
                     for name, digest in inputs.items()}
        recorder.stage("audit", "completed", _headline(kind, result), artifacts, {"audit": result})
        recorder.event("audit.completed", {"kind": kind, "inputs": inputs, "result": result, "findings": findings,
                                           "decision": result.get("decision")},
                       {"inputs": sorted(set(inputs.values()))})
        for stage, stage_findings in by_stage.items():  # findings arrive as JSON: one gate per stage
            stage_blocked = [f["rule_id"] for f in stage_findings if finding_blocks(f)]
            recorder.event("gate.decided", {
                "stage": stage, "subject": None, "decision": "blocked" if stage_blocked else "passed",
                "findings": stage_findings, "binding": True, "blocking": stage_blocked,
                "policy_sha256": getattr(policy, "sha256", None)})
        why = [f"{f['rule_id']} ({f['check']}): {f.get('message')}" for f in blocked]
        blocked_at = blocked[0].get("stage") if blocked else None
        recorder.finished(decision, blocked_at, why, {
            "schema_version": 1, "run_id": run_id, "kind": "audit", "name": f"audit {kind}", "decision": decision,
            "blocked_at": blocked_at, "reasons": why, "inputs": inputs})
    return run_id


def _headline(kind: str, result: dict[str, Any]) -> dict[str, Any]:
    """The numbers a report's stage table shows for an audit."""
    if kind == "fairness":
        return {**(result.get("metrics") or {}), "rows": (result.get("overall") or {}).get("count")}
    return {k: result.get(k) for k in ("drifted_share", "n_drifted", "dataset_drift")}


def _column_names(y_true: Any, y_pred: Any, sensitive: Any) -> list[str]:
    features = [sensitive] if isinstance(sensitive, str) else list(sensitive or [])
    for field, value in (("y_true", y_true), ("y_pred", y_pred), *(("sensitive", f) for f in features)):
        if not isinstance(value, str):
            raise UserError(f"{field}: with data=, give column names, got {type(value).__name__}")
    if not features:
        raise UserError("sensitive: give at least one column name")
    return features


def _columns_of(data: Any, y_true: Any, y_pred: Any, sensitive: Any) -> tuple[Any, Any, Any]:
    """The label, prediction and sensitive columns of a pandas-like ``data``."""
    from governance.evidence_input import as_frame
    from governance.io import require_columns

    features = _column_names(y_true, y_pred, sensitive)
    frame = as_frame(data, "data", "value")
    require_columns(list(frame.columns), [y_true, y_pred, *features], "data")
    return frame[y_true], frame[y_pred], frame[features]


def _spark_fairness(frame: Any, y_true: Any, y_pred: Any, sensitive: Any, pos_label: Any, min_group_size: int,
                    task: str) -> Any:
    """:func:`fairness_report` of a Spark DataFrame whose columns the other arguments name."""
    from governance.engines import spark_audit

    features = _column_names(y_true, y_pred, sensitive)
    if task != "binary":
        raise UserError(f"task: Spark audits binary predictions; {task!r} runs on pandas or numpy data")
    _check_group_size(min_group_size)
    return spark_audit.fairness(frame, y_true, y_pred, features, pos_label=pos_label,
                                min_group_size=min_group_size, where="data")


def _spark_drift(reference: Any, current: Any, columns: Any, stattest: Any, threshold: Any, drift_share: float) -> Any:
    """:func:`drift_report` of two Spark DataFrames."""
    from governance.engines import spark_audit
    from governance.engines.spark import is_spark_frame
    from governance.metrics.drift import DriftOptions

    if not (is_spark_frame(reference) and is_spark_frame(current)):
        raise UserError("reference, current: give two Spark DataFrames, or two pandas-like tables")
    options = DriftOptions(columns, stattest, threshold, None, drift_share)
    return spark_audit.drift(reference, current, options)[0]
