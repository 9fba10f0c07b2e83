"""What ``rai run --resume`` needs to deploy a run awaiting approval, rebuilt from the trail alone.

The recorded ``run.started`` gives the spec and the policy (which must still have the recorded
SHA-256), the stage events give the DP-SGD record and the deploy candidate, and the last
``run.finished`` summary gives the stages' entries and the variants. Every file the candidate
will register is re-hashed against the trail's record before anything else happens.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from governance.errors import UserError
from governance.policy.loader import load_policy
from governance.policy.schema import Policy
from governance.workspace import Workspace
from lifecycle.spec import PipelineSpec
from lifecycle.specload import spec_from_record

NOT_RESUMABLE = "run {run_id} cannot be resumed: {why} (only a run awaiting approval can be resumed)"


@dataclass(frozen=True)
class Resumable:
    """A run awaiting approval, as recorded: enough to re-run its deploy gate and deploy."""

    spec: PipelineSpec
    policy: Policy
    entries: list[dict[str, Any]]  # the summary's stages before deploy
    variants: list[dict[str, Any]]  # the summary's variant rows
    privacy: dict[str, Any]
    candidate: dict[str, Any]


def resumable(trail: Any, ws: Workspace, run_id: str) -> Resumable:
    """Rebuild run ``run_id`` from the trail so that its deploy stage can run again.

    Raises
    ------
    UserError
        Unknown run, a run not awaiting approval, a policy changed since the run started, or
        an artifact file that is missing or modified.
    """
    events = trail.events(run_id=run_id)
    started = next((e for e in events if e.kind == "run.started"), None)
    finished = [e for e in events if e.kind == "run.finished"]
    if started is None or not started.payload.get("spec"):
        raise UserError(NOT_RESUMABLE.format(run_id=run_id, why="the trail has no started pipeline run with this id"))
    if not finished or finished[-1].payload.get("decision") != "awaiting_approval":
        last = finished[-1].payload.get("decision") if finished else "still running or interrupted"
        raise UserError(NOT_RESUMABLE.format(run_id=run_id, why=f"its last decision is '{last}'"))
    spec = spec_from_record(started.payload["spec"], Path(started.payload["spec_dir"]))
    policy = _same_policy(run_id, started.payload.get("policy") or {})
    summary = finished[-1].payload.get("summary") or {}
    stages = {e.payload.get("stage"): e.payload for e in events if e.kind == "stage.completed"}
    candidate = (stages.get("optimize") or {}).get("deploy_candidate")
    if not candidate:
        raise UserError(NOT_RESUMABLE.format(run_id=run_id, why="it recorded no deploy candidate"))
    for record in _candidate_artifacts(candidate):
        _verify_artifact(ws, record)
    return Resumable(spec=spec, policy=policy,
                     entries=[e for e in summary.get("stages", []) if e.get("stage") != "deploy"],
                     variants=list(summary.get("variants") or []),
                     privacy=(stages.get("train") or {}).get("privacy") or {"dp": False}, candidate=candidate)


def _same_policy(run_id: str, recorded: dict[str, Any]) -> Policy:
    source = recorded.get("source")
    if not source:
        raise UserError(NOT_RESUMABLE.format(run_id=run_id, why="its policy source was not recorded"))
    policy = load_policy(source)
    if policy.sha256 != recorded.get("sha256"):
        raise UserError(
            f"{source}: policy changed since run {run_id} started (sha256 {str(policy.sha256)[:12]}..., "
            f"recorded {str(recorded.get('sha256'))[:12]}...); start a new run instead of resuming"
        )
    return policy


def _candidate_artifacts(candidate: dict[str, Any]) -> list[dict[str, Any]]:
    records = [record for _, record in (candidate.get("files") or {}).values()]
    return records + [candidate[k] for k in ("predictions", "reference") if candidate.get(k)]


def _verify_artifact(ws: Workspace, record: dict[str, Any]) -> None:
    from lifecycle.artifacts import Artifact

    Artifact.from_dict(record).verified_path(ws)
