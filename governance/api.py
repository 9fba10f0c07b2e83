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
from governance.vocabulary import DEFAULT_MIN_GROUP_SIZE, closest, stage_error

#: Evidence pieces a gate accepts, by name, with the type each must have (see governance.evidence).
EVIDENCE_TYPES: dict[str, str] = {
    "predictions": "Predictions", "parent_predictions": "Predictions",
    "reference": "table", "current": "table", "dataset": "table",
    "prediction_reference": "array", "prediction_current": "array",
    "target": "str", "privacy": "mapping", "metadata": "mapping", "lineage": "mapping",
    "approvals": "list", "model_stats": "mapping", "parent_stats": "mapping",
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
                    min_group_size: int = DEFAULT_MIN_GROUP_SIZE) -> Any:
    """Per-group selection rate, accuracy, TPR and FPR and the disparity metrics.

    The same numbers and JSON (``.to_dict()``) as ``rai audit fairness --json``; equal to
    fairlearn's ``MetricFrame`` on the same rows. Inputs are as for :class:`rai.Predictions`.

    Returns
    -------
    FairnessReport
        ``.groups`` (a DataFrame), ``.metrics``, ``.overall``, ``.excluded``, ``.to_dict()``.
    """
    from governance.metrics.fairness import fairness_report as _report

    _check_group_size(min_group_size)
    predictions = Predictions(y_true, y_pred, sensitive, pos_label=pos_label)
    try:
        return _report(predictions.y_true, predictions.y_pred, predictions.sensitive, min_group_size)
    except ValueError as err:
        raise UserError(f"sensitive: {err}") from None


def drift_report(reference: Any, current: Any, *, columns: list[str] | None = None, stattest: str | None = None,
                 threshold: float | None = None, drift_share: float = 0.5) -> Any:
    """Per-column data drift of ``current`` against ``reference``, by evidently's methods.

    The same numbers and JSON (``.to_dict()``) as ``rai audit drift --json``.

    Returns
    -------
    DriftReport
        ``.columns`` (one row per column), ``.drifted_share``, ``.dataset_drift``, ``.skipped``,
        ``.to_dict()``.
    """
    from governance.evidence_input import as_frame
    from governance.metrics.drift import drift_report as _report

    if columns is not None and (isinstance(columns, str) or not all(isinstance(c, str) for c in columns)):
        raise UserError("columns: expected a list of column names")
    return _report(as_frame(reference, "reference", "value"), as_frame(current, "current", "value"),
                   columns=columns, stattest=stattest, stattest_threshold=threshold, drift_share=drift_share)


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
