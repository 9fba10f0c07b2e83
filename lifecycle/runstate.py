"""The state of one pipeline run, its ``--json`` summary, and rebuilding it to resume.

A :class:`Run` carries what the stages hand to each other (dataset, model, predictions, the
privacy record, lineage, the deploy candidate) and the per-stage summary entries. For
``rai run --resume`` :func:`restore` rebuilds the part the deploy stage needs from the trail
alone (the ``run.started`` spec and policy, the stage payloads, the last ``run.finished``
summary) and re-checks every artifact file against the hash the trail recorded.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from governance.errors import UserError
from governance.findings import GateResult, jsonable
from governance.policy.loader import load_policy
from governance.policy.schema import Policy
from governance.trail.approvals import approvals_for
from governance.workspace import Workspace
from lifecycle.artifacts import RunArtifacts
from lifecycle.measure import finding_brief
from lifecycle.runrecord import RunRecorder
from lifecycle.spec import PipelineSpec
from lifecycle.specload import LoadedSpec, spec_from_record

NOT_RESUMABLE = "run {run_id} cannot be resumed: {why} (only a run awaiting approval can be resumed)"


# Version of the `rai run --json` object (also `run.finished.summary`); bump on breaking changes.
SUMMARY_SCHEMA_VERSION = 1


class Run:
    """One run in progress: spec, policy, trail recorder, artifacts and what stages produced."""

    def __init__(self, trail: Any, ws: Workspace, run_id: str, reporter: Any):
        self.trail, self.ws, self.run_id, self.reporter = trail, ws, run_id, reporter
        self.recorder = RunRecorder(trail, run_id)
        self.artifacts = RunArtifacts(ws, run_id)
        self.loaded: LoadedSpec | None = None
        self.spec: PipelineSpec | None = None
        self.policy: Policy | None = None
        self.current_stage: str | None = None
        self.stage_entries: list[dict[str, Any]] = []
        self.dataset: Any = None  # lifecycle.data.Dataset
        self.model: Any = None  # the trained tf_keras model
        self.model_artifact: dict[str, Any] | None = None
        self.predictions: Any = None  # the Keras parent's test-set Predictions
        self.predictions_artifact: dict[str, Any] | None = None
        self.privacy: dict[str, Any] = {"dp": False}
        self.lineage: dict[str, Any] = {"datasets": {}, "model": None}
        self.variants: list[dict[str, Any]] = []  # summary row per LiteRT variant
        self.parent: dict[str, Any] = {}
        self.candidate: dict[str, Any] | None = None  # what deploy registers (see stages.candidate)
        self.deployed: dict[str, Any] | None = None

    def start(self, loaded: LoadedSpec, policy: Policy) -> None:
        self.loaded, self.spec, self.policy = loaded, loaded.spec, policy

    def metadata(self) -> dict[str, Any]:
        """The spec's model-card fields (the ``metadata`` evidence)."""
        return self.spec.metadata.model_dump(mode="json") if self.spec else {}

    def approvals(self) -> list[dict[str, Any]]:
        """Approvals recorded for this run so far (the ``approvals`` evidence)."""
        return approvals_for(self.trail, self.run_id)

    def summary_stage(self, stage: str, status: str, metrics: dict[str, Any], findings: list[dict]) -> None:
        self.stage_entries = [e for e in self.stage_entries if e["stage"] != stage]
        self.stage_entries.append({"stage": stage, "status": status, "metrics": metrics, "findings": findings})

    def note_variant_gate(self, mode: str, result: GateResult) -> None:
        """Attach a variant's gate decision and findings to its summary row."""
        for row in self.variants:
            if row["mode"] == mode:
                row["decision"] = result.decision
                row["findings"] = [finding_brief(f) for f in result.findings]

    def optimize_metrics(self) -> dict[str, Any]:
        """The optimize stage's headline numbers: the deployed model's, then each variant's."""
        choice = self.spec.optimize.deploy
        deployed = next((r for r in self.variants if r["mode"] == choice), self.parent)
        out: dict[str, Any] = {"deploy": choice, "accuracy": deployed.get("accuracy"),
                               "size_bytes": deployed.get("size_bytes"), "parent_size_bytes": self.parent.get("size_bytes")}
        for row in self.variants:
            out[f"{row['mode']}.size_bytes"] = row.get("size_bytes")
            out[f"{row['mode']}.accuracy"] = row.get("accuracy")
        return out

    def fail_stage(self, reason: str) -> None:
        """Record the current stage as failed (a user error or a crash inside it)."""
        if self.current_stage is None:
            return
        self.summary_stage(self.current_stage, "failed", {}, [])
        try:
            self.recorder.stage(self.current_stage, "failed", {}, {}, {"error": reason}, error=reason)
        except Exception:  # the trail itself failing must not hide the original error
            pass

    def final_summary(self, decision: str, blocked_at: str | None, reasons: list[str]) -> dict[str, Any]:
        """The one ``--json`` object (also the ``summary`` of ``run.finished``)."""
        privacy = None
        if self.privacy.get("dp"):
            keys = ("epsilon", "epsilon_pld", "delta", "noise_multiplier", "l2_norm_clip", "batch_size", "epochs",
                    "examples", "sampling_rate", "steps", "accountant", "target_epsilon")
            privacy = {k: self.privacy.get(k) for k in keys}
        return jsonable({
            "schema_version": SUMMARY_SCHEMA_VERSION,
            "run_id": self.run_id, "pipeline": self.spec.name if self.spec else None,
            "decision": decision, "blocked_at": blocked_at, "reasons": reasons,
            "stages": self.stage_entries, "privacy": privacy,
            "variants": [{k: v for k, v in row.items() if k != "findings"} for row in self.variants],
            "deployed": self.deployed,
            "policy": {"name": self.policy.policy, "sha256": self.policy.sha256} if self.policy else None,
            "workspace": str(self.ws.root), "trail": self.trail.location,
            "evidence": str(self.artifacts.dir),
        })


def restore(run: Run) -> None:
    """Rebuild ``run`` from the trail so that its deploy stage can run again.

    Raises
    ------
    UserError
        Unknown run, a run not awaiting approval, a policy changed since the run started, or
        an artifact file that is missing or modified.
    """
    events = run.trail.events(run_id=run.run_id)
    started = next((e for e in events if e.kind == "run.started"), None)
    finished = [e for e in events if e.kind == "run.finished"]
    if started is None or not started.payload.get("spec"):
        raise UserError(NOT_RESUMABLE.format(run_id=run.run_id, why="the trail has no started pipeline run with this id"))
    if not finished or finished[-1].payload.get("decision") != "awaiting_approval":
        last = finished[-1].payload.get("decision") if finished else "still running or interrupted"
        raise UserError(NOT_RESUMABLE.format(run_id=run.run_id, why=f"its last decision is '{last}'"))
    spec = spec_from_record(started.payload["spec"], Path(started.payload["spec_dir"]))
    policy = _same_policy(run.run_id, started.payload.get("policy") or {})
    run.spec, run.policy = spec, policy
    summary = finished[-1].payload.get("summary") or {}
    run.stage_entries = [e for e in summary.get("stages", []) if e.get("stage") != "deploy"]
    run.variants = list(summary.get("variants") or [])
    stages = {e.payload.get("stage"): e.payload for e in events if e.kind == "stage.completed"}
    run.privacy = (stages.get("train") or {}).get("privacy") or {"dp": False}
    run.candidate = (stages.get("optimize") or {}).get("deploy_candidate")
    if not run.candidate:
        raise UserError(NOT_RESUMABLE.format(run_id=run.run_id, why="it recorded no deploy candidate"))
    run.lineage = dict(run.candidate.get("lineage") or {})
    for record in _candidate_artifacts(run.candidate):
        _verify_artifact(run.ws, record)


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
