"""The pipeline: the one place that sequences the stages, calls the gates and writes the trail.

``ingest → train → evaluate → optimize → deploy``; after each stage its gate evaluates the
policy's rules for that stage (:func:`governance.engine.evaluate`) on the evidence the stage
produced, named as in :mod:`governance.evidence`. A blocking gate stops the run (decision
``blocked``, exit code 1) and nothing reaches the registry. A deploy gate blocked *only* by
``accountability.approvals`` leaves the run ``awaiting_approval``; after ``rai approve``,
:func:`resume_run` re-runs just the deploy gate and the deployment.

User mistakes (:class:`~governance.errors.UserError`) end the run as ``failed`` with the
message as the reason. A spec or policy that does not load also gets a run record
(``run.started`` without a spec, then ``run.finished`` ``failed``): the trail shows every
attempt, including the ones that never started a stage. A run stopped any other way (a signal,
raised as :class:`Interrupted` by the command that runs it, or a crash) still ends with a
``run.finished`` ``failed`` event saying why, and the exception is raised again.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from governance.engine import evaluate as evaluate_gate
from governance.errors import UserError
from governance.evidence import Evidence
from governance.findings import GateResult
from governance.policy.loader import load_policy
from governance.provenance import code_revision, new_run_id, policy_payload, versions
from governance.trail import open_trail
from governance.workspace import Workspace
from lifecycle import runstate
from lifecycle.measure import finding_brief, reasons
from lifecycle.mlflow_sync import after_pipeline_run
from lifecycle.specload import LoadedSpec, load_spec

STAGES = ("ingest", "train", "evaluate", "optimize", "deploy")
EXIT_CODES = {"passed": 0, "blocked": 1, "awaiting_approval": 1, "failed": 2}
APPROVAL_CHECK = "accountability.approvals"
_RUN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$")


class Interrupted(KeyboardInterrupt):
    """A run stopped by a signal; the pipeline records why (``interrupted by SIGTERM``), then re-raises.

    A KeyboardInterrupt, so code that already stops cleanly on Ctrl+C stops the same way.
    ``run_id`` is set once the run's end is recorded.
    """

    def __init__(self, signal_name: str):
        super().__init__(signal_name)
        self.signal_name = signal_name
        self.run_id: str | None = None


class Reporter:
    """Progress hooks for a user interface; the default reports nothing."""

    def stage_started(self, stage: str) -> None:
        """A stage begins."""

    def stage_finished(self, stage: str, status: str, metrics: dict[str, Any]) -> None:
        """A stage and its gate are done (``status`` as in the summary)."""

    def epoch(self, epoch: int, epochs: int, logs: dict[str, float]) -> None:
        """A training epoch ended (counted from 1)."""


@dataclass
class RunResult:
    """How a run ended: its id, decision, the ``--json`` summary and the user error if it failed."""

    run_id: str
    decision: str
    summary: dict[str, Any]
    error: UserError | None = None

    @property
    def exit_code(self) -> int:
        return EXIT_CODES[self.decision]


@dataclass
class _Outcome:
    """A stage's gate result and what it adds to the summary."""

    gate: GateResult
    metrics: dict[str, Any] = field(default_factory=dict)


def run_pipeline(
    spec_path: str | Path,
    *,
    workspace: str | Path | None = None,
    policy_path: str | Path | None = None,
    until: str | None = None,
    reporter: Reporter | None = None,
    mlflow: str | None = None,
) -> RunResult:
    """Run the pipeline of ``spec_path`` up to ``until`` (default: through deploy).

    Parameters
    ----------
    spec_path : the pipeline YAML
    workspace : workspace directory (default ``.rai``)
    policy_path : a policy overriding the spec's ``policy``
    until : last stage to run (one of :data:`STAGES`)
    reporter : progress hooks
    mlflow : an MLflow tracking URI overriding the spec's ``tracking.mlflow`` (the finished run is mirrored there)
    """
    if until is not None and until not in STAGES:
        raise UserError(f"--until {until!r}: must be one of {', '.join(STAGES)}")
    ws = Workspace.at(workspace).ensure()
    trail = open_trail(ws)
    try:
        run = runstate.Run(trail, ws, new_run_id(), reporter or Reporter())
        result = _guarded(run, lambda: _load_and_execute(run, spec_path, policy_path, until), spec_path=spec_path)
        return after_pipeline_run(run, result, mlflow)  # mirror into MLflow when tracked; never raises
    finally:
        trail.close()


def _load_and_execute(run: runstate.Run, spec_path: str | Path, policy_path: Any, until: str | None) -> RunResult:
    try:
        loaded = load_spec(spec_path, check_policy=policy_path is None)
        policy = load_policy(policy_path or loaded.spec.policy)
    except UserError as err:
        return _record_unloadable(run, spec_path, err)
    run.start(loaded, policy)
    _record_started(run, loaded, policy_path, until)
    stages = STAGES[: STAGES.index(until) + 1] if until else STAGES
    return _execute(run, stages, until)


def resume_run(run_id: str, *, workspace: str | Path | None = None, reporter: Reporter | None = None,
               mlflow: str | None = None) -> RunResult:
    """Continue a run that is ``awaiting_approval``: re-run the deploy gate and deploy."""
    if not isinstance(run_id, str) or not _RUN_ID.match(run_id):
        raise UserError(f"{str(run_id)[:140]!r} is not a run id (such as 20250131T093000Z-a1b2c3; "
                        "`rai trail show` lists them)")
    ws = Workspace.at(workspace)
    trail = open_trail(ws, create=False)
    try:
        run = runstate.Run(trail, ws, run_id, reporter or Reporter())
        runstate.restore(run)  # UserError unless the run waits for approval and its files are intact
        run.recorder.event("run.resumed", {"from_decision": "awaiting_approval",
                                           "approvals": len(run.approvals())})
        return after_pipeline_run(run, _guarded(run, lambda: _execute(run, ("deploy",), None)), mlflow)
    finally:
        trail.close()


def _record_unloadable(run: runstate.Run, spec_path: str | Path, err: UserError) -> RunResult:
    _record_started_without_spec(run, spec_path)
    return _finish(run, "failed", None, [str(err)], error=err)


def _record_started_without_spec(run: runstate.Run, spec_path: str | Path) -> None:
    run.recorder.event("run.started", {"spec": None, "spec_file": str(spec_path), "spec_hash": None,
                                       "policy": None, "versions": versions(),
                                       "code_revision": code_revision(Path.cwd()), "workspace": str(run.ws.root)})


def _record_started(run: runstate.Run, loaded: LoadedSpec, policy_path: Any, until: str | None) -> None:
    run.recorder.event("run.started", {
        "spec": loaded.raw, "spec_file": str(loaded.path), "spec_dir": str(loaded.base_dir),
        "spec_hash": loaded.sha256, "policy": policy_payload(run.policy),
        "policy_overridden": policy_path is not None, "until": until, "versions": versions(),
        "code_revision": code_revision(loaded.base_dir), "workspace": str(run.ws.root),
    })


def _guarded(run: runstate.Run, body: Callable[[], RunResult], spec_path: str | Path | None = None) -> RunResult:
    """Run ``body``; a user error, a signal or a crash still ends the run in the trail as ``failed``.

    ``spec_path`` is given for a new run: if it stops before ``run.started`` was recorded, a
    ``run.started`` without a spec is recorded first, so the trail never holds a lone end.
    """
    try:
        return body()
    except UserError as err:
        _ensure_started(run, spec_path)
        run.fail_stage(str(err))
        return _finish(run, "failed", run.current_stage, [str(err)], error=err)
    except BaseException as err:  # record why the run stopped, then let the exception go on
        reason = stop_reason(err)
        try:
            _ensure_started(run, spec_path)
            run.fail_stage(reason)
            _finish(run, "failed", run.current_stage, [reason])
        except Exception:  # a trail that cannot record must not hide why the run stopped
            pass
        if isinstance(err, Interrupted):
            err.run_id = run.run_id
        raise


def stop_reason(err: BaseException) -> str:
    """Why a run stopped, for ``run.finished``: ``interrupted by SIGTERM``, ``internal error: ...``."""
    if isinstance(err, Interrupted):
        return f"interrupted by {err.signal_name}"
    if isinstance(err, KeyboardInterrupt):
        return "interrupted by SIGINT"
    if isinstance(err, SystemExit):
        return f"stopped: exit requested with code {err.code}"
    return f"internal error: {type(err).__name__}: {err}"


def _ensure_started(run: runstate.Run, spec_path: str | Path | None) -> None:
    if spec_path is not None and not run.recorder.recorded("run.started"):
        _record_started_without_spec(run, spec_path)


def _execute(run: runstate.Run, stages: tuple[str, ...], until: str | None) -> RunResult:
    for stage in stages:
        run.current_stage = stage
        run.reporter.stage_started(stage)
        outcome = _STAGE_FUNCTIONS[stage](run)
        status = _status(stage, outcome.gate)
        run.summary_stage(stage, status, outcome.metrics, [finding_brief(f) for f in outcome.gate.findings])
        run.reporter.stage_finished(stage, status, outcome.metrics)
        if status != "passed":
            return _finish(run, status, stage, reasons(outcome.gate.findings))
    run.current_stage = None
    return _finish(run, "passed", None, [f"stopped after --until {until}"] if until and until != "deploy" else [])


def _status(stage: str, gate: GateResult) -> str:
    if not gate.blocked:
        return "passed"
    only_approvals = all(f.check == APPROVAL_CHECK for f in gate.blocking)
    return "awaiting_approval" if stage == "deploy" and only_approvals else "blocked"


def _finish(run: runstate.Run, decision: str, stage: str | None, why: list[str], error: UserError | None = None) -> RunResult:
    summary = run.final_summary(decision, stage if decision != "passed" else None, why)
    run.recorder.finished(decision, summary["blocked_at"], why, summary)
    return RunResult(run.run_id, decision, summary, error)


def gate(run: runstate.Run, stage: str, evidence: Evidence, *, rules=None, subject: str | None = None,
         binding: bool = True) -> GateResult:
    """Evaluate the policy at ``stage`` and record the decision (and any waivers applied)."""
    from lifecycle.baseline import pipeline_baselines

    # Rules with relative_to compare with a registered model: add its recorded predictions.
    evidence = pipeline_baselines(run, rules if rules is not None else run.policy.rules_for(stage), evidence)
    result = evaluate_gate(run.policy, stage, evidence, rules=rules, subject=subject)
    run.recorder.gate(result, run.policy, binding=binding)
    return result


def _simple_stage(stage: str) -> Callable[[runstate.Run], _Outcome]:
    """ingest, train and evaluate: do the work, record it, then gate it."""

    def run_stage(run: runstate.Run) -> _Outcome:
        from lifecycle import stages

        out = getattr(stages, stage)(run)
        run.recorder.stage(stage, "completed", out.metrics, out.artifacts, out.blob, **out.extra)
        return _Outcome(gate(run, stage, out.evidence), out.metrics)

    return run_stage


def _optimize(run: runstate.Run) -> _Outcome:
    """Gate each LiteRT variant on the ``optimize`` rules and, again, the ``evaluate`` rules.

    Only the deployed variant's gate binds; the others are recorded (``binding: false``) so a
    reviewer sees what compression did to each of them.
    """
    from lifecycle import stages

    out, per_variant = stages.optimize(run)
    run.recorder.stage("optimize", "completed", out.metrics, out.artifacts, out.blob, **out.extra)
    rules = run.policy.rules_for("optimize") + run.policy.rules_for("evaluate")
    binding_gate = GateResult(stage="optimize", findings=[])
    for variant, evidence in per_variant:
        deployed = variant == run.spec.optimize.deploy
        result = gate(run, "optimize", evidence, rules=rules, subject=variant, binding=deployed)
        run.note_variant_gate(variant, result)
        if deployed:
            binding_gate = result
    return _Outcome(binding_gate, out.metrics)


def _deploy(run: runstate.Run) -> _Outcome:
    """Gate, then register the candidate with a signed manifest (never when the gate blocks)."""
    from lifecycle import stages

    result = gate(run, "deploy", stages.deploy_evidence(run))
    if result.blocked:
        return _Outcome(result, {})
    entry = stages.deploy(run)
    # Registry paths are absolute: a registry may live outside the workspace.
    manifest = {"sha256": _sha256(entry.manifest_path), "path": str(entry.manifest_path.resolve())}
    model_sha = run.candidate["lineage"]["model"]
    run.recorder.event("model.registered", {
        "name": entry.name, "version": entry.version, "model_sha256": model_sha, "variant": run.candidate["variant"],
        "manifest_path": manifest["path"], "manifest_sha256": manifest["sha256"], "registry": str(entry.dir.parent.parent.resolve()),
    }, {"model": model_sha, "manifest": manifest["sha256"]})
    run.recorder.event("model.deployed", {"name": entry.name, "version": entry.version, "target": "registry",
                                          "path": str(entry.dir.resolve())}, {"model": model_sha})
    run.deployed = {"name": entry.name, "version": entry.version, "manifest": manifest["path"],
                    "variant": run.candidate["variant"], "model_sha256": model_sha}
    metrics = {"version": entry.version, "variant": run.candidate["variant"]}
    run.recorder.stage("deploy", "completed", metrics, {"manifest": {"kind": "deployment", "name": "manifest",
                       "size_bytes": entry.manifest_path.stat().st_size, **manifest}},
                       {"manifest": entry.body, "registry_entry": str(entry.dir.resolve())})
    return _Outcome(result, metrics)


def _sha256(path: Path) -> str:
    from lifecycle.artifacts import sha256_file

    return sha256_file(path)


_STAGE_FUNCTIONS = {"ingest": _simple_stage("ingest"), "train": _simple_stage("train"),
                    "evaluate": _simple_stage("evaluate"), "optimize": _optimize, "deploy": _deploy}
