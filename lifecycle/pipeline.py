"""The pipeline: the one place that sequences the stages, calls the gates and writes the trail.

``ingest → train → evaluate → optimize → deploy``: each stage is a plain function returning a
frozen value (:mod:`lifecycle.stages`, :mod:`lifecycle.registration`); this module threads the
values from stage to stage, records each one and evaluates its gate (through a
:class:`~lifecycle.governed.Governor`, the core ``rai.start_run`` uses too) on the evidence it
carries, named as in :mod:`governance.evidence`. A blocking gate stops the run (decision
``blocked``, exit code 1) and nothing reaches the registry. A deploy gate blocked *only* by
``accountability.approvals`` leaves the run ``awaiting_approval``; after ``rai approve``,
:func:`resume_run` rebuilds the candidate from the trail and re-runs just the deploy gate and
the deployment.

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
from pathlib import Path
from typing import Any

from governance.errors import UserError
from governance.findings import GateResult
from governance.policy.loader import load_policy
from governance.provenance import code_revision, new_run_id, policy_payload, versions
from governance.trail import open_trail
from governance.vocabulary import PIPELINE_STAGES
from governance.workspace import Workspace
from lifecycle import registration, stages
from lifecycle.artifacts import RunArtifacts
from lifecycle.governed import Governor
from lifecycle.measure import reasons
from lifecycle.mlflow_sync import after_pipeline_run
from lifecycle.modelcard import RunFacts, architecture
from lifecycle.outcome import EXIT_CODES, Interrupted, Reporter, RunResult, stop_reason
from lifecycle.results import StageResult
from lifecycle.resume import resumable
from lifecycle.spec import SpecFieldError
from lifecycle.specload import LoadedSpec, load_spec

__all__ = ["EXIT_CODES", "STAGES", "Interrupted", "Reporter", "RunResult", "resume_run", "run_pipeline", "stop_reason"]

STAGES = PIPELINE_STAGES
_RUN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$")


class _Run:
    """A pipeline run in progress: its governor, spec, progress hooks and summary rows.

    The stages' values are not kept here: :func:`_execute` threads them.
    """

    def __init__(self, trail: Any, ws: Workspace, run_id: str, reporter: Reporter):
        self.gov = Governor(trail, ws, run_id)
        self.reporter = reporter
        self.artifacts = RunArtifacts(ws, run_id)
        self.spec: Any = None
        self.loaded: LoadedSpec | None = None  # the spec file, to locate errors about its fields
        self.current: str | None = None
        self.variants: list[dict[str, Any]] = []

    # What the MLflow hook reads of a finished run.
    run_id = property(lambda self: self.gov.run_id)
    trail = property(lambda self: self.gov.trail)
    ws = property(lambda self: self.gov.ws)

    def configure(self, spec: Any, policy: Any, loaded: LoadedSpec | None = None) -> None:
        self.spec, self.loaded = spec, loaded
        self.gov.configure(policy, spec.metadata.model_dump(mode="json"), spec.deploy.model_name, spec.deploy.registry)

    def located(self, err: UserError) -> UserError:
        """``err`` placed in the spec file when it is about one of its fields."""
        if isinstance(err, SpecFieldError) and self.loaded is not None:
            return self.loaded.error(err.loc, err.detail)
        return err


def run_pipeline(spec_path: str | Path, *, workspace: str | Path | None = None, policy_path: str | Path | None = None,
                 until: str | None = None, reporter: Reporter | None = None, mlflow: str | None = None) -> RunResult:
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
        run = _Run(trail, ws, new_run_id(), reporter or Reporter())
        result = _guarded(run, lambda: _load_and_execute(run, spec_path, policy_path, until), spec_path=spec_path)
        return after_pipeline_run(run, result, mlflow)  # mirror into MLflow when tracked; never raises
    finally:
        trail.close()


def _load_and_execute(run: _Run, spec_path: str | Path, policy_path: Any, until: str | None) -> RunResult:
    try:
        loaded = load_spec(spec_path, check_policy=policy_path is None)
        policy = load_policy(policy_path or loaded.spec.policy)
    except UserError as err:
        _record_started_without_spec(run, spec_path)
        return _finish(run, "failed", None, [str(err)], error=err)
    run.configure(loaded.spec, policy, loaded)
    _record_started(run, loaded, policy_path, until)
    return _execute(run, STAGES[: STAGES.index(until) + 1] if until else STAGES, {}, until)


def resume_run(run_id: str, *, workspace: str | Path | None = None, reporter: Reporter | None = None,
               mlflow: str | None = None) -> RunResult:
    """Continue a run that is ``awaiting_approval``: re-run the deploy gate and deploy."""
    if not isinstance(run_id, str) or not _RUN_ID.match(run_id):
        raise UserError(f"{str(run_id)[:140]!r} is not a run id (such as 20250131T093000Z-a1b2c3; "
                        "`rai trail show` lists them)")
    ws = Workspace.at(workspace)
    trail = open_trail(ws, create=False)
    try:
        run = _Run(trail, ws, run_id, reporter or Reporter())
        resumed = resumable(trail, ws, run_id)  # UserError unless it waits for approval and its files are intact
        run.configure(resumed.spec, resumed.policy)
        run.gov.restore(resumed.entries, resumed.privacy)
        run.variants = list(resumed.variants)
        run.gov.recorder.event("run.resumed", {"from_decision": "awaiting_approval", "approvals": len(run.gov.approvals())})
        done = {"resumed": resumed}
        return after_pipeline_run(run, _guarded(run, lambda: _execute(run, ("deploy",), done, None)), mlflow)
    finally:
        trail.close()


def _record_started_without_spec(run: _Run, spec_path: str | Path) -> None:
    run.gov.recorder.event("run.started", {"spec": None, "spec_file": str(spec_path), "spec_hash": None, "policy": None,
                                           "versions": versions(), "code_revision": code_revision(Path.cwd()),
                                           "workspace": str(run.ws.root)})


def _record_started(run: _Run, loaded: LoadedSpec, policy_path: Any, until: str | None) -> None:
    run.gov.recorder.event("run.started", {
        "spec": loaded.raw, "spec_file": str(loaded.path), "spec_dir": str(loaded.base_dir),
        "spec_hash": loaded.sha256, "policy": policy_payload(run.gov.policy),
        "policy_overridden": policy_path is not None, "until": until, "versions": versions(),
        "code_revision": code_revision(loaded.base_dir), "workspace": str(run.ws.root),
    })


def _guarded(run: _Run, body: Callable[[], RunResult], spec_path: str | Path | None = None) -> RunResult:
    """Run ``body``; a user error, a signal or a crash still ends the run in the trail as ``failed``.

    ``spec_path`` is given for a new run: if it stops before ``run.started`` was recorded, a
    ``run.started`` without a spec is recorded first, so the trail never holds a lone end.
    """
    try:
        return body()
    except UserError as err:
        err = run.located(err)
        _ensure_started(run, spec_path)
        run.gov.fail(run.current, str(err))
        return _finish(run, "failed", run.current, [str(err)], error=err)
    except BaseException as err:  # record why the run stopped, then let the exception go on
        reason = stop_reason(err)
        try:
            _ensure_started(run, spec_path)
            run.gov.fail(run.current, reason)
            _finish(run, "failed", run.current, [reason])
        except Exception:  # a trail that cannot record must not hide why the run stopped
            pass
        if isinstance(err, Interrupted):
            err.run_id = run.run_id
        raise


def _ensure_started(run: _Run, spec_path: str | Path | None) -> None:
    if spec_path is not None and not run.gov.recorder.recorded("run.started"):
        _record_started_without_spec(run, spec_path)


def _execute(run: _Run, names: tuple[str, ...], done: dict[str, Any], until: str | None) -> RunResult:
    """Run ``names`` in order, each on the values of the stages before it (``done``)."""
    for stage in names:
        run.current = stage
        run.reporter.stage_started(stage)
        done[stage], gate = _STEPS[stage](run, done)
        status = run.gov.status(stage, gate).value
        run.reporter.stage_finished(stage, status, run.gov.metrics(stage))
        if status != "passed":
            return _finish(run, status, stage, reasons(gate.findings))
    run.current = None
    return _finish(run, "passed", None, [f"stopped after --until {until}"] if until and until != "deploy" else [])


def _finish(run: _Run, decision: str, stage: str | None, why: list[str], error: UserError | None = None) -> RunResult:
    blocked_at = stage if decision != "passed" else None
    summary = run.gov.summary(decision, blocked_at, why, pipeline=run.spec.name if run.spec else None,
                              variants=run.variants, evidence=str(run.artifacts.dir))
    run.gov.finish(decision, blocked_at, why, summary)
    return RunResult(run.run_id, decision, summary, error)


def _recorded_and_gated(run: _Run, stage: str, result: StageResult) -> tuple[StageResult, GateResult]:
    run.gov.record(stage, result)
    return result, run.gov.gate(stage, result.evidence)


def _ingest(run: _Run, done: dict[str, Any]) -> tuple[Any, GateResult]:
    return _recorded_and_gated(run, "ingest", stages.ingest(run.spec.data, run.artifacts))


def _train(run: _Run, done: dict[str, Any]) -> tuple[Any, GateResult]:
    spec = run.spec

    def on_epoch(epoch: int, logs: dict[str, float]) -> None:
        run.reporter.epoch(epoch, spec.model.epochs, logs)

    builder = None
    if spec.model.builder is not None:  # the user's code, imported from the spec's directory too
        from lifecycle.modelsource import load_builder

        builder = (spec.model.builder, load_builder(spec.model.builder, run.loaded.base_dir if run.loaded else None))
    trained = stages.train(done["ingest"], spec.model, spec.privacy, spec.data.seed, run.artifacts, on_epoch, builder)
    return _recorded_and_gated(run, "train", trained)


def _evaluate(run: _Run, done: dict[str, Any]) -> tuple[Any, GateResult]:
    run.gov.note_evaluation_rows(done["ingest"].dataset.test)  # what the evaluate and optimize gates' rows are
    return _recorded_and_gated(run, "evaluate", stages.evaluate(done["train"], done["ingest"], run.artifacts))


def _optimize(run: _Run, done: dict[str, Any]) -> tuple[Any, GateResult]:
    """Gate each LiteRT variant on the ``optimize`` rules and, again, the ``evaluate`` rules.

    Only the deployed variant's gate binds; the others are recorded (``binding: false``) so a
    reviewer sees what compression did to each of them.
    """
    optimized = stages.optimize(done["ingest"], done["train"], done["evaluate"], run.spec.optimize, run.spec.data,
                                run.artifacts)
    run.gov.record("optimize", optimized)
    rules = run.gov.policy.rules_for("optimize") + run.gov.policy.rules_for("evaluate")
    binding = GateResult(stage="optimize", findings=[])
    for variant in optimized.variants:
        deployed = variant.mode == optimized.deploy
        result = run.gov.gate("optimize", variant.evidence, rules=rules, subject=variant.mode, binding=deployed)
        run.variants.append({**variant.row, "decision": result.decision})
        binding = result if deployed else binding
    if optimized.variant(optimized.deploy) is None:  # the Keras parent is deployed: no variant gate binds
        run.gov.decide("optimize", binding)
    return optimized, binding


def _deploy(run: _Run, done: dict[str, Any]) -> tuple[Any, GateResult]:
    """Gate, then register the candidate with a signed manifest (never when the gate blocks)."""
    candidate, privacy = _deploy_inputs(done)
    result = run.gov.gate("deploy", registration.deploy_evidence(candidate, privacy))
    if result.blocked:
        return None, result
    spec = run.spec
    facts = RunFacts(run_id=run.run_id, pipeline=spec.name, run_name=None, model_name=spec.deploy.model_name,
                     architecture=architecture(spec.model),
                     metadata=run.gov.metadata, privacy=privacy, policy=run.gov.policy,
                     decisions=run.gov.decision_counts(exclude=("deploy",)))
    deployed = registration.deploy(candidate, facts, run.gov.registry, run.trail, run.ws)
    run.gov.publish(deployed)
    return deployed, result


def _deploy_inputs(done: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The candidate and the DP-SGD record: from this run's values, or as a resumed run recorded them."""
    if "resumed" in done:
        return done["resumed"].candidate, done["resumed"].privacy
    return done["optimize"].candidate, done["train"].privacy


_STEPS = {"ingest": _ingest, "train": _train, "evaluate": _evaluate, "optimize": _optimize, "deploy": _deploy}
