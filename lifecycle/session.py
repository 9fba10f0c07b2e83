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
from governance.findings import GateResult, jsonable
from governance.provenance import code_revision, new_run_id, policy_payload, versions
from governance.trail.approvals import approvals_for
from governance.vocabulary import Decision
from governance.workspace import Workspace
from lifecycle.governed import Governor
from lifecycle.measure import reasons
from lifecycle.session_model import ModelSteps

_FINISHED = "run {run_id} has finished ({decision}); start a new run with rai.start_run(...)"


class Run(ModelSteps):
    """One governed run in progress; create it with :func:`start_run`.

    Attributes
    ----------
    run_id : the run's id in the trail
    name : the name given to :func:`start_run`
    policy : the loaded policy every gate evaluates
    decision : ``None`` while running, then the run's final decision
    deployed : ``None``, or the registry entry written by :meth:`register` (name, version, manifest, ...)
    """

    def __init__(self, name: str, policy: Any, trail: Any, workspace: Workspace, metadata: dict[str, Any],
                 run_id: str | None = None, tracking: Any = None):
        self.name, self.policy, self.metadata = name, policy, metadata
        self.tracking, self.mirror = tracking, None  # MLflow target; how the mirror went once finished
        self.run_id = run_id or new_run_id()
        self._trail, self._workspace = trail, workspace
        # The run's model is registered under its name: relative_to rules compare with that model.
        self._gov = Governor(trail, workspace, self.run_id)
        self._gov.configure(policy, metadata, name)
        self._evaluated: Any = None  # the predictions gated at evaluate: recorded with a registered model
        self._variant_rows: dict[str, dict[str, Any]] = {}
        self.decision: str | None = None

    @property
    def deployed(self) -> dict[str, Any] | None:
        return self._gov.deployed

    # -- context manager ------------------------------------------------------------------
    def __enter__(self) -> Run:
        return self

    def __exit__(self, exc_type, exc, tb) -> bool:
        if self.decision is not None:
            return False
        gov = self._gov
        if exc is None:
            self.finish()
        elif isinstance(exc, GateBlocked):
            self._finish(Decision.AWAITING_APPROVAL if gov.awaiting is exc.result and gov.blocked is None
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
        from lifecycle.stages import described

        self._require_open()
        stage = check_stage(stage)
        pieces = build_evidence(evidence)
        self._gov.record(stage, described(pieces))
        if stage == "evaluate" and "predictions" in pieces:
            self._evaluated = pieces.require("predictions")
        result = self._gov.gate(stage, pieces)
        if result.blocked and raise_on_block:
            raise GateBlocked(result)
        return result

    # -- ending -----------------------------------------------------------------------------
    def finish(self) -> str:
        """Finish the run now (leaving the ``with`` block does this) and return its decision."""
        self._require_open()
        gov = self._gov
        if gov.blocked is not None:
            self._finish(Decision.BLOCKED, gov.blocked.stage, reasons(gov.blocked.findings))
        elif gov.awaiting is not None and gov.deployed is None:
            self._finish(Decision.AWAITING_APPROVAL, "deploy", reasons(gov.awaiting.findings))
        else:
            self._finish(Decision.PASSED, None, [])
        return self.decision

    def _finish(self, decision: Decision, blocked_at: str | None, why: list[str]) -> None:
        self.decision = decision.value
        summary = self.summary(blocked_at, why)
        try:
            self._gov.finish(decision.value, blocked_at, why, summary)
        except Exception:  # never let the trail hide the error that ended the run
            if decision != Decision.FAILED:
                raise
        if self.tracking is not None:  # never raises: MLflow down is a warning and mlflow.mirror_failed
            from lifecycle.mlflow_sync import mirror_quietly

            self.mirror = mirror_quietly(self._trail, self._workspace, self.run_id, self.tracking)

    def summary(self, blocked_at: str | None = None, why: list[str] | None = None) -> dict[str, Any]:
        """The run's summary, the same shape as ``rai run --json``."""
        run_dir = self._workspace.run_dir(self.run_id)
        return self._gov.summary(self.decision, blocked_at, why or [], pipeline=None, name=self.name, kind="api",
                                 variants=list(self._variant_rows.values()),
                                 evidence=str(run_dir) if run_dir.is_dir() else None)

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
        run._gov.recorder.event("run.started", {
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
    run._gov.recorder.event("run.resumed", {"from_decision": last, "approvals": len(approvals_for(trail, run_id))})
    return run
