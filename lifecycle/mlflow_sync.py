"""Mirror a finished rai run into an MLflow run, from the audit trail.

The trail is the record; MLflow gets a copy. :func:`mirror_run` reads one run's events (up to
its last ``run.finished``), logs params, metrics and tags (:mod:`lifecycle.mlflow_payload`), the
compliance report (HTML and JSON) and the model card as artifacts, and the trail checkpoint
covering the run as tags; with ``register`` it also registers the run's signed registry entry
in MLflow's Model Registry (:mod:`lifecycle.mlflow_registry`). Then it appends
``mlflow.mirrored`` (with the MLflow run id) to the run in the trail.

Mirroring is idempotent: the MLflow run is found again by its ``rai.run_id`` tag, so a retry or a
later ``rai mlflow sync`` updates the same MLflow run and never registers a model version twice.
:func:`mirror_quietly`, called when a run finishes, never raises: when MLflow cannot be reached
after a bounded number of attempts it appends ``mlflow.mirror_failed`` and warns, and the run's
own outcome is untouched.
"""

from __future__ import annotations

import re
import tempfile
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from governance.errors import UserError
from lifecycle.mlflow_client import MlflowUnavailable, client, describe, with_retries
from lifecycle.mlflow_config import MirrorWarning, Tracking, pipeline_tracking
from lifecycle.mlflow_payload import MirrorPayload, build_payload, tag_key

_RUN_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
_BATCH = 100  # MLflow's limit of params (and tags) per log_batch call; metrics allow 1000


@dataclass
class MirrorOutcome:
    """What happened to one run's mirror (also the ``mlflow`` key of ``rai run --json``)."""

    run_id: str
    status: str  # "mirrored" | "failed"
    tracking_uri: str
    experiment: str
    mlflow_run_id: str | None = None
    registered: dict[str, Any] | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.status == "mirrored"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def mirror_run(trail: Any, ws: Any, run_id: str, tracking: Tracking) -> MirrorOutcome:
    """Mirror the finished run ``run_id`` into MLflow and record ``mlflow.mirrored``.

    Raises
    ------
    UserError
        An unknown or unfinished run, or a registry entry that no longer verifies.
    lifecycle.mlflow_client.MlflowUnavailable
        MLflow did not answer within ``tracking.spec.attempts`` attempts (nothing is recorded).
    """
    from lifecycle.mlflow_registry import deployed_entry, register_entry

    events = finished_events(trail, run_id)
    payload = build_payload(events)
    entry = deployed_entry(trail, ws, events) if tracking.register else None
    with tempfile.TemporaryDirectory(prefix="rai-mlflow-") as tmp:
        checkpoint = write_documents(trail, ws, run_id, payload.last_seq, Path(tmp))
        payload.tags.update(checkpoint_tags(checkpoint))

        def attempt() -> tuple[str, str, dict[str, Any] | None]:
            mlflow = client(tracking.uri)
            experiment_id = experiment(mlflow, tracking.experiment)
            mlflow_run_id = find_or_create_run(mlflow, experiment_id, payload)
            log_payload(mlflow, mlflow_run_id, payload)
            mlflow.log_artifacts(mlflow_run_id, tmp, "rai")
            registered = register_entry(mlflow, mlflow_run_id, entry) if entry else None
            mlflow.set_terminated(mlflow_run_id, payload.status, end_time=payload.end_ms)
            return experiment_id, mlflow_run_id, registered

        experiment_id, mlflow_run_id, registered = with_retries(
            tracking.uri, attempt, attempts=tracking.spec.attempts, timeout_s=tracking.spec.timeout_s)
        artifacts = sorted(f"rai/{p.name}" for p in Path(tmp).iterdir()) + (["model/"] if registered else [])
    record_mirrored(trail, run_id, tracking, payload, {
        "experiment_id": experiment_id, "mlflow_run_id": mlflow_run_id, "artifacts": artifacts,
        "checkpoint": {k: checkpoint.get(k) for k in ("tree_size", "root_hash")} if checkpoint else None}, registered)
    return MirrorOutcome(run_id, "mirrored", tracking.uri, tracking.experiment, mlflow_run_id, registered)


def record_mirrored(trail: Any, run_id: str, tracking: Tracking, payload: MirrorPayload, mirror: dict[str, Any],
                    registered: dict[str, Any] | None) -> None:
    """Append ``mlflow.model_registered`` (when a version was registered), then ``mlflow.mirrored``."""
    if registered:
        subjects = {"model": registered["model_sha256"], "manifest": registered["manifest_sha256"]}
        trail.append("mlflow.model_registered", run_id=run_id, payload={**registered, "tracking_uri": tracking.uri},
                     subjects=subjects)
    trail.append("mlflow.mirrored", run_id=run_id, payload={
        **tracking.record(), **mirror, "upto_seq": payload.last_seq, "params": len(payload.params),
        "metrics": len(payload.metrics), "tags": len(payload.tags),
        "registered": {k: registered[k] for k in ("name", "version")} if registered else None})


def mirror_quietly(trail: Any, ws: Any, run_id: str, tracking: Tracking, *, warn: bool = True) -> MirrorOutcome:
    """:func:`mirror_run` that never raises: a failure is recorded as ``mlflow.mirror_failed`` and warned."""
    try:
        return mirror_run(trail, ws, run_id, tracking)
    except Exception as err:  # MLflow down, a refused entry, a bug: the run's outcome must stand
        reason = str(err) if isinstance(err, (UserError, MlflowUnavailable)) else describe(err)
        try:
            trail.append("mlflow.mirror_failed", run_id=run_id, payload={**tracking.record(), "error": reason})
        except Exception:  # the trail itself failing: the warning still tells the user
            reason += " (and mlflow.mirror_failed could not be recorded)"
        if warn:
            warnings.warn(MirrorWarning(f"run {run_id} was not mirrored to MLflow: {reason}; the trail keeps "
                                        f"the record, retry with: rai mlflow sync {run_id}"), stacklevel=2)
        return MirrorOutcome(run_id, "failed", tracking.uri, tracking.experiment, error=reason)


def after_pipeline_run(run: Any, result: Any, uri: str | None = None) -> Any:
    """Mirror a finished pipeline run when its spec (or ``--mlflow``) asks; add ``mlflow`` to its summary."""
    if run.spec is None:  # the spec did not load: no experiment to mirror into
        return result
    try:
        tracking = pipeline_tracking(run.spec, uri)
    except UserError as err:  # a bad --mlflow URI given to the API (the CLI checks it before the run)
        result.summary["mlflow"] = MirrorOutcome(run.run_id, "failed", str(uri), "", error=str(err)).to_dict()
        return result
    if tracking is not None:
        result.summary["mlflow"] = mirror_quietly(run.trail, run.ws, run.run_id, tracking, warn=False).to_dict()
    return result


def sync_run(trail: Any, ws: Any, run_id: str, uri: str | None = None) -> MirrorOutcome:
    """Mirror ``run_id`` again (``rai mlflow sync``): to ``uri``, or where it was meant to go."""
    return mirror_quietly(trail, ws, run_id, recorded_tracking(trail, run_id, uri), warn=False)


def recorded_tracking(trail: Any, run_id: str, uri: str | None) -> Tracking:
    """The tracking target recorded for ``run_id`` (last mirror attempt, else its start), ``uri`` overriding."""
    if not isinstance(run_id, str) or not _RUN_ID.fullmatch(run_id):
        raise UserError(f"run id {run_id!r}: expected letters, digits, '.', '_' and '-'")
    events = trail.events(run_id=run_id)
    started = next((e for e in events if e.kind == "run.started"), None)
    if started is None:
        raise UserError(f"unknown run id {run_id!r}: the trail has no run.started event for it")
    attempts = [e.payload for e in events if e.kind in ("mlflow.mirrored", "mlflow.mirror_failed")]
    spec = started.payload.get("spec") or {}
    name = spec.get("name") or started.payload.get("name")
    record = attempts[-1] if attempts else started.payload.get("tracking") or _spec_record(spec)
    if record is None and uri is None:
        raise UserError(f"run {run_id} was not tracked in MLflow; give the server with --mlflow URI")
    record = dict(record or {})
    record["experiment"] = record.get("experiment") or name
    return Tracking.from_record(record, uri)


def _spec_record(spec: dict[str, Any]) -> dict[str, Any] | None:
    block = spec.get("tracking")
    if not isinstance(block, dict):
        return None
    return {"tracking_uri": block.get("mlflow"), "experiment": block.get("experiment") or spec.get("name"),
            "attempts": block.get("attempts", 3), "timeout_s": block.get("timeout_s", 10),
            "register": (spec.get("deploy") or {}).get("target") == "mlflow"}


def pending_runs(trail: Any) -> list[str]:
    """Finished runs meant for MLflow whose last ``run.finished`` no mirror followed, oldest first.

    That is a failed last attempt, and also a tracked run stopped before it could try (a signal,
    a killed process), or a resumed run whose new ending was not mirrored yet.
    """
    tracked, finished, mirrored = set(), {}, {}
    kinds = ["run.started", "run.finished", "mlflow.mirrored", "mlflow.mirror_failed"]
    for event in trail.iter_events(kind=kinds):
        if event.kind == "run.started":
            start = event.payload
            if start.get("tracking") or (start.get("spec") or {}).get("tracking"):
                tracked.add(event.run_id)
        elif event.kind == "run.finished":
            finished[event.run_id] = event.seq
        elif event.kind == "mlflow.mirror_failed":
            tracked.add(event.run_id)  # tracked with --mlflow: only the attempt says so
        else:
            mirrored[event.run_id] = event.seq
    return [run_id for run_id, seq in finished.items() if run_id in tracked and mirrored.get(run_id, 0) < seq]


def finished_events(trail: Any, run_id: str) -> list[Any]:
    """The run's events up to its last ``run.finished`` (what the MLflow run mirrors)."""
    events = trail.events(run_id=run_id, checked=True)
    if not any(e.kind == "run.started" for e in events):
        raise UserError(f"unknown run id {run_id!r}: the trail has no run.started event for it")
    ends = [i for i, e in enumerate(events) if e.kind == "run.finished"]
    if not ends:
        raise UserError(f"run {run_id} has not finished (no run.finished event): nothing final to mirror yet")
    return events[: ends[-1] + 1]


def write_documents(trail: Any, ws: Any, run_id: str, upto_seq: int, into: Path) -> dict[str, Any] | None:
    """Write the report (HTML, JSON) and model card (JSON, Markdown) into ``into``; return the checkpoint cited."""
    from governance.report import build_card, build_report, render_card, render_report
    from governance.report.modelcard import SIDECAR_NAME, build_model_card, seed_narrative

    doc = build_report(trail, run_id, upto_seq=upto_seq)
    for fmt in ("html", "json"):
        (into / f"report.{fmt}").write_text(render_report(doc, fmt), encoding="utf-8")
    data = doc.to_dict()
    sidecar = ws.run_dir(run_id) / SIDECAR_NAME
    # An edited narrative is used when there is one; none is created here (mirroring only reads).
    card = build_card(trail, run_id, sidecar) if sidecar.is_file() else build_model_card(
        data, seed_narrative(data["metadata"]))
    for fmt in ("json", "md"):
        (into / f"model_card.{fmt}").write_text(render_card(card, fmt), encoding="utf-8")
    return data["trail"]["checkpoint"]


def checkpoint_tags(checkpoint: dict[str, Any] | None) -> dict[str, str]:
    """The signed trail checkpoint the report cites, as tags an auditor can check against the trail."""
    if not checkpoint:
        return {"rai.checkpoint": "none"}
    return {tag_key(f"rai.checkpoint.{k}"): str(checkpoint[k])
            for k in ("tree_size", "root_hash", "head_hash", "key_id", "time") if checkpoint.get(k) is not None}


def experiment(mlflow: Any, name: str) -> str:
    """The id of experiment ``name``, created when missing; UserError when it was deleted."""
    found = mlflow.get_experiment_by_name(name)
    if found is None:
        try:
            return mlflow.create_experiment(name)
        except Exception as err:  # created meanwhile by another run: use it
            found = mlflow.get_experiment_by_name(name)
            if found is None:
                raise err
    if found.lifecycle_stage == "deleted":
        raise UserError(f"MLflow experiment {name!r} is deleted; restore it (mlflow experiments restore) "
                        "or choose another experiment")
    return found.experiment_id


def find_or_create_run(mlflow: Any, experiment_id: str, payload: MirrorPayload) -> str:
    """The MLflow run tagged with this rai run id, or a new one."""
    found = mlflow.search_runs([experiment_id], filter_string=f"tags.`rai.run_id` = '{payload.run_id}'",
                               max_results=1)
    if found:
        return found[0].info.run_id
    created = mlflow.create_run(experiment_id, start_time=payload.start_ms,
                                tags={"rai.run_id": payload.run_id}, run_name=payload.run_id)
    return created.info.run_id


def log_payload(mlflow: Any, mlflow_run_id: str, payload: MirrorPayload) -> None:
    """Params, metrics and tags in batches MLflow accepts."""
    from mlflow.entities import Metric, Param, RunTag

    params = [Param(k, v) for k, v in payload.params.items()]
    tags = [RunTag(k, v) for k, v in payload.tags.items()]
    metrics = [Metric(k, v, when, 0) for k, v, when in payload.metrics]
    for i in range(0, len(params), _BATCH):
        mlflow.log_batch(mlflow_run_id, params=params[i:i + _BATCH])
    for i in range(0, len(tags), _BATCH):
        mlflow.log_batch(mlflow_run_id, tags=tags[i:i + _BATCH])
    for i in range(0, len(metrics), 10 * _BATCH):
        mlflow.log_batch(mlflow_run_id, metrics=metrics[i:i + 10 * _BATCH])


