"""A governed run inside the user's own code: ``rai.start_run(...)``.

The run records the same events as ``rai run`` (``run.started``, ``stage.completed`` with an
evidence blob, ``gate.decided``, ``waiver.applied``, ``run.finished`` and a signed checkpoint),
so ``rai report``, ``rai model-card``, the dashboard and ``rai trail verify`` work on it::

    with rai.start_run("credit-scoring", policy="policy.yaml") as run:
        model.fit(...)
        run.gate("evaluate", predictions=rai.Predictions(y_val, model_pred, s_val))  # GateBlocked

Leaving the block finishes the run: ``passed``, ``blocked`` (a gate blocked), ``awaiting_approval``
(the deploy gate waits only for approvals) or ``failed`` (an exception left the block).
TensorFlow is imported only by :meth:`Run.optimize` and :meth:`Run.register`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from governance.errors import GateBlocked, UserError
from governance.evidence import Evidence
from governance.findings import GateResult, jsonable
from governance.provenance import code_revision, new_run_id, policy_payload, versions
from governance.trail.approvals import approvals_for
from governance.vocabulary import Decision
from governance.workspace import Workspace
from lifecycle.measure import fairness_reports, finding_brief, group_gaps, performance, reasons
from lifecycle.runrecord import RunRecorder
from lifecycle.session_model import ModelSteps

APPROVAL_CHECK = "accountability.approvals"
SUMMARY_SCHEMA_VERSION = 1
_FINISHED = "run {run_id} has finished ({decision}); start a new run with rai.start_run(...)"


class Run(ModelSteps):
    """One governed run in progress; create it with :func:`start_run`.

    Attributes
    ----------
    run_id : the run's id in the trail
    name : the name given to :func:`start_run`
    policy : the loaded policy every gate evaluates
    decision : ``None`` while running, then the run's final decision
    """

    def __init__(self, name: str, policy: Any, trail: Any, workspace: Workspace, metadata: dict[str, Any],
                 run_id: str | None = None, tracking: Any = None):
        self.name, self.policy, self.metadata = name, policy, metadata
        self.tracking, self.mirror = tracking, None  # MLflow target; how the mirror went once finished
        self.run_id = run_id or new_run_id()
        self._trail, self._workspace = trail, workspace
        self._recorder = RunRecorder(trail, self.run_id)
        self._stages: list[dict[str, Any]] = []
        self._metrics: dict[str, dict[str, Any]] = {}
        self._blocked: GateResult | None = None
        self._awaiting: GateResult | None = None
        self._privacy: dict[str, Any] = {"dp": False}
        self._lineage: dict[str, Any] = {"datasets": {}, "model": None}
        self.deployed: dict[str, Any] | None = None
        self.decision: str | None = None

    # -- context manager ------------------------------------------------------------------
    def __enter__(self) -> Run:
        return self

    def __exit__(self, exc_type, exc, tb) -> bool:
        if self.decision is not None:
            return False
        if exc is None:
            self.finish()
        elif isinstance(exc, GateBlocked):
            self._finish(Decision.AWAITING_APPROVAL if self._awaiting is exc.result and self._blocked is None
                         else Decision.BLOCKED, exc.result.stage, reasons(exc.result.findings))
        elif isinstance(exc, KeyboardInterrupt):
            self._finish(Decision.FAILED, None, ["interrupted"])
        else:
            why = str(exc) if isinstance(exc, UserError) else f"{type(exc).__name__}: {exc}"
            self._finish(Decision.FAILED, None, [why])
        self._trail.close()
        return False  # never swallow the exception

    # -- gates ------------------------------------------------------------------------------
    def gate(self, stage: str, *, raise_on_block: bool = True, **evidence: Any) -> GateResult:
        """Evaluate the policy's rules for ``stage`` on ``evidence`` and record the decision.

        The stage's numbers (performance and per-group fairness when ``predictions`` are given,
        privacy parameters when ``privacy`` is) are recorded as a ``stage.completed`` event with
        an evidence blob, then the gate as ``gate.decided``. ``metadata`` (the run's) and, at
        ``deploy``, the approvals recorded for this run are added unless given.

        Raises
        ------
        GateBlocked
            The gate blocked (``raise_on_block=False`` returns the result instead); ``.result``
            holds the findings.
        UserError
            Unknown stage or evidence, wrong types, or the run has finished; nothing is recorded.
        """
        from governance.api import build_evidence, check_stage

        self._require_open()
        stage = check_stage(stage)
        pieces = build_evidence(evidence)
        pieces = self._with_context(stage, pieces)
        self._record_stage(stage, pieces)
        result = self._evaluate(stage, pieces)
        if result.blocked and raise_on_block:
            raise GateBlocked(result)
        return result

    def _evaluate(self, stage: str, evidence: Evidence, *, rules: list | None = None, subject: str | None = None,
                  binding: bool = True) -> GateResult:
        """Evaluate and record one gate; only binding gates decide the run."""
        from governance.engine import evaluate
        from lifecycle.baseline import with_baselines

        # Rules with relative_to compare with a model registered under this run's name.
        selected = rules if rules is not None else self.policy.rules_for(stage)
        evidence = with_baselines(evidence, selected, self._workspace.registry, self.name, self._workspace.keys)
        result = evaluate(self.policy, stage, evidence, rules=rules, subject=subject)
        self._recorder.gate(result, self.policy, binding=binding)
        if not binding:
            return result
        status = self._status(stage, result)
        self._stages = [s for s in self._stages if s["stage"] != stage]
        self._stages.append({"stage": stage, "status": status.value, "metrics": self._metrics.get(stage, {}),
                             "findings": [finding_brief(f) for f in result.findings]})
        if status == Decision.AWAITING_APPROVAL:
            self._awaiting = result
        elif status == Decision.BLOCKED and self._blocked is None:
            self._blocked = result
        return result

    def _status(self, stage: str, result: GateResult) -> Decision:
        if not result.blocked:
            return Decision.PASSED
        only_approvals = all(f.check == APPROVAL_CHECK for f in result.blocking)
        return Decision.AWAITING_APPROVAL if stage == "deploy" and only_approvals else Decision.BLOCKED

    def _with_context(self, stage: str, evidence: Evidence) -> Evidence:
        extra: dict[str, Any] = {}
        if "metadata" not in evidence and self.metadata:
            extra["metadata"] = dict(self.metadata)
        if "lineage" not in evidence:
            extra["lineage"] = dict(self._lineage)
        if "privacy" in evidence:
            self._privacy = dict(evidence.require("privacy"))
        elif self._privacy.get("dp"):
            extra["privacy"] = dict(self._privacy)
        if stage == "deploy" and "approvals" not in evidence:
            extra["approvals"] = approvals_for(self._trail, self.run_id)
        return evidence.with_(**extra) if extra else evidence

    def _record_stage(self, stage: str, evidence: Evidence) -> None:
        metrics: dict[str, Any] = {}
        blob: dict[str, Any] = {}
        predictions = evidence.get("predictions")
        if predictions is not None:
            features = list(predictions.sensitive.columns)
            metrics = {**performance(predictions), **group_gaps(predictions, features)}
            blob.update(metrics=metrics, fairness=fairness_reports(predictions, features),
                        rows=len(predictions.y_true))
            if stage == "evaluate":  # what register() records as the entry's reference predictions
                self._evaluated_predictions = predictions
        extra: dict[str, Any] = {}
        if "privacy" in evidence:
            privacy = dict(evidence.require("privacy"))
            blob["privacy"], extra["privacy"] = privacy, privacy
            metrics.update({k: privacy.get(k) for k in ("dp", "epsilon", "delta") if k in privacy})
        self._metrics[stage] = jsonable(metrics)
        self._recorder.stage(stage, "completed", self._metrics[stage], {}, blob, **extra)

    # -- ending -----------------------------------------------------------------------------
    def finish(self) -> str:
        """Finish the run now (leaving the ``with`` block does this) and return its decision."""
        self._require_open()
        if self._blocked is not None:
            self._finish(Decision.BLOCKED, self._blocked.stage, reasons(self._blocked.findings))
        elif self._awaiting is not None and self.deployed is None:
            self._finish(Decision.AWAITING_APPROVAL, "deploy", reasons(self._awaiting.findings))
        else:
            self._finish(Decision.PASSED, None, [])
        return self.decision

    def _finish(self, decision: Decision, blocked_at: str | None, why: list[str]) -> None:
        self.decision = decision.value
        summary = self.summary(blocked_at, why)
        try:
            self._recorder.finished(decision.value, blocked_at, why, summary)
        except Exception:  # never let the trail hide the error that ended the run
            if decision != Decision.FAILED:
                raise
        if self.tracking is not None:  # never raises: MLflow down is a warning and mlflow.mirror_failed
            from lifecycle.mlflow_sync import mirror_quietly

            self.mirror = mirror_quietly(self._trail, self._workspace, self.run_id, self.tracking)

    def summary(self, blocked_at: str | None = None, why: list[str] | None = None) -> dict[str, Any]:
        """The run's summary, the same shape as ``rai run --json``."""
        privacy = self._privacy if self._privacy.get("dp") else None
        return jsonable({
            "schema_version": SUMMARY_SCHEMA_VERSION, "run_id": self.run_id, "pipeline": None,
            "name": self.name, "kind": "api", "decision": self.decision, "blocked_at": blocked_at,
            "reasons": why or [], "stages": self._stages, "privacy": privacy, "variants": [],
            "deployed": self.deployed,
            "policy": {"name": self.policy.policy, "sha256": self.policy.sha256},
            "workspace": str(self._workspace.root), "trail": self._trail.location, "evidence": None,
        })

    def _require_open(self) -> None:
        if self.decision is not None:
            raise UserError(_FINISHED.format(run_id=self.run_id, decision=self.decision))

    def __repr__(self) -> str:
        return f"<rai.Run {self.name!r} {self.run_id} {self.decision or 'running'}>"


def start_run(name: str, *, policy: Any, workspace: str | Path = ".rai",
              metadata: dict[str, Any] | None = None, resume: str | None = None, mlflow: Any = None,
              mlflow_registry: bool = False) -> Run:
    """Start a governed run: record ``run.started`` and return the :class:`Run` (a context manager).

    Parameters
    ----------
    name : what the run is about, e.g. ``"credit-scoring"`` (shown in reports and the dashboard)
    policy : a loaded policy or a policy file path
    workspace : the workspace directory holding the trail (created if missing)
    metadata : model-card fields (``owner``, ``intended_use``, ``limitations``, ...), the
        ``metadata`` evidence of every gate
    resume : the id of an earlier ``rai.start_run`` run that finished ``awaiting_approval``;
        after ``rai approve`` the script runs again with ``resume=RUN_ID`` and its deploy gate
        (``run.register``) sees the approvals recorded for that run. The policy must be unchanged.
    mlflow : an MLflow tracking URI, or ``{"mlflow": URI, "experiment": NAME}``: the finished run
        is mirrored into an MLflow run (see docs/mlflow.md); MLflow being down never fails the run
    mlflow_registry : also register the model of ``run.register`` in MLflow's Model Registry

    Raises
    ------
    UserError
        A policy that does not load (:class:`rai.PolicyError`), a bad name or metadata, or a
        run that cannot be resumed.
    """
    from governance.api import as_policy, workspace_at
    from governance.trail import open_trail

    if not isinstance(name, str) or not name.strip():
        raise UserError(f"name: expected a non-empty string, got {name!r}")
    if metadata is not None and not isinstance(metadata, dict):
        raise UserError(f"metadata: expected a mapping of model-card fields, got {type(metadata).__name__}")
    from lifecycle.mlflow_config import api_tracking

    tracking = api_tracking(mlflow, name, mlflow_registry)
    loaded = as_policy(policy)
    ws = workspace_at(workspace).ensure()
    trail = open_trail(ws)
    try:
        if resume is not None:
            return _resumed(name, loaded, trail, ws, dict(metadata or {}), resume, tracking)
        run = Run(name, loaded, trail, ws, dict(metadata or {}), tracking=tracking)
        run._recorder.event("run.started", {
            "kind": "api", "name": name, "spec": None, "spec_file": None, "spec_hash": None,
            "policy": policy_payload(loaded), "metadata": jsonable(run.metadata), "versions": versions(),
            "code_revision": code_revision(Path.cwd()), "workspace": str(ws.root),
            "tracking": tracking.record() if tracking else None,
        })
    except BaseException:
        trail.close()
        raise
    return run


def _resumed(name: str, policy: Any, trail: Any, ws: Workspace, metadata: dict[str, Any], run_id: Any,
             tracking: Any = None) -> Run:
    """Reopen an API run awaiting approval (same policy) and record ``run.resumed``."""
    if not isinstance(run_id, str) or not run_id:
        raise UserError(f"resume: expected a run id, got {run_id!r}")
    events = trail.events(run_id=run_id)
    started = next((e for e in events if e.kind == "run.started"), None)
    if started is None or started.payload.get("kind") != "api":
        raise UserError(f"resume: {run_id} is not a run started with rai.start_run in {ws.root}")
    finished = [e for e in events if e.kind == "run.finished"]
    last = finished[-1].payload.get("decision") if finished else "still running or interrupted"
    if last != Decision.AWAITING_APPROVAL.value:
        raise UserError(f"resume: run {run_id} cannot be resumed: its last decision is '{last}' "
                        "(only a run awaiting approval can be resumed)")
    recorded = (started.payload.get("policy") or {}).get("sha256")
    if recorded != policy.sha256:
        raise UserError(f"resume: the policy changed since run {run_id} started (sha256 {str(policy.sha256)[:12]}..., "
                        f"recorded {str(recorded)[:12]}...); start a new run instead")
    run = Run(name, policy, trail, ws, metadata or dict(started.payload.get("metadata") or {}), run_id=run_id,
              tracking=tracking)
    run._recorder.event("run.resumed", {"from_decision": last, "approvals": len(approvals_for(trail, run_id))})
    return run
