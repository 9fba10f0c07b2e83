"""The recording and gating core of a governed run, shared by ``rai run`` and ``rai.start_run``.

A :class:`Governor` owns one run's policy and :class:`~governance.recorder.RunRecorder`. It
records a stage from the frozen value the stage returned (:mod:`lifecycle.results`), evaluates
and records gates, keeps each binding gate's status for the run's summary, records a registry
entry, and finishes the run. A gate's evidence gets the run's context unless given: the
model-card ``metadata``, the ``lineage``, the DP-SGD record gated earlier in the run and, at
``deploy``, the ``approvals`` recorded for the run; rules with ``relative_to`` get the
``baselines`` of the model name the run registers under. The pipeline and a user's script both
go through it, so their runs hold the same events in the same shapes.

When to record is the caller's business (:mod:`lifecycle.pipeline`, :mod:`lifecycle.session`);
how an event looks is :mod:`governance.recorder`'s.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from governance.evidence import Evidence
from governance.findings import GateResult, jsonable
from governance.recorder import RunRecorder
from governance.trail.approvals import approvals_for
from governance.vocabulary import Decision
from governance.workspace import Workspace
from lifecycle.measure import finding_brief
from lifecycle.results import Deployed, StageResult

APPROVAL_CHECK = "accountability.approvals"
# Version of the run summary (`rai run --json`, `run.finished.summary`); bump on breaking changes.
SUMMARY_SCHEMA_VERSION = 1
# The DP-SGD figures a summary shows (the full record is in the train stage's evidence).
_SUMMARY_PRIVACY = ("epsilon", "epsilon_pld", "delta", "noise_multiplier", "l2_norm_clip", "batch_size", "epochs",
                    "examples", "sampling_rate", "steps", "accountant", "target_epsilon")


class Governor:
    """Policy, trail recorder and gates of one run.

    Attributes
    ----------
    run_id, trail, ws : the run's id, the open trail and the workspace
    policy : the loaded policy (set by :meth:`configure` once known)
    metadata : model-card fields, the ``metadata`` evidence
    lineage : ``{"datasets": {name: sha256}, "model": sha256 | None}``, the ``lineage`` evidence
    privacy : the DP-SGD record gated last (``{"dp": False}`` before any)
    deployed : the summary's ``deployed`` object once a model is registered
    """

    def __init__(self, trail: Any, ws: Workspace, run_id: str):
        self.trail, self.ws, self.run_id = trail, ws, run_id
        self.recorder = RunRecorder(trail, run_id)
        self.policy: Any = None
        self.metadata: dict[str, Any] = {}
        self.model_name: str | None = None
        self.registry: Path = ws.registry
        self.lineage: dict[str, Any] = {"datasets": {}, "model": None}
        self.privacy: dict[str, Any] = {"dp": False}
        self.evaluation_rows: Any = None  # feature rows of the gated predictions: rescore rules score baselines on them
        self.deployed: dict[str, Any] | None = None
        self._entries: list[dict[str, Any]] = []
        self._metrics: dict[str, dict[str, Any]] = {}
        self.blocked: GateResult | None = None
        self.awaiting: GateResult | None = None

    def configure(self, policy: Any, metadata: dict[str, Any], model_name: str | None,
                  registry: str | Path | None = None) -> None:
        """Set the policy, the model-card fields and where the run's model is registered."""
        from lifecycle.baseline import policy_references

        self.policy, self.metadata, self.model_name = policy, metadata, model_name
        self.registry = Path(registry) if registry else self.ws.registry
        # A relative_to version that is not registered stops the run now, not after training.
        policy_references(policy.rules, self.registry, model_name)

    # -- recording ------------------------------------------------------------------------
    def record(self, stage: str, result: StageResult) -> str:
        """``stage.completed`` for ``result`` (its metrics, artifacts, blob and payload); returns the blob's hash."""
        self._metrics[stage] = jsonable(result.metrics)
        return self.recorder.stage(stage, "completed", self._metrics[stage], result.artifacts, result.blob,
                                   **result.payload)

    def fail(self, stage: str | None, reason: str) -> None:
        """Record ``stage`` as failed (a user error or a crash inside it); never raises."""
        if stage is None:
            return
        self._metrics[stage] = {}
        self._note(stage, Decision.FAILED.value, [])
        try:
            self.recorder.stage(stage, "failed", {}, {}, {"error": reason}, error=reason)
        except Exception:  # the trail itself failing must not hide the original error
            pass

    def publish(self, deployed: Deployed) -> None:
        """``model.registered`` and ``model.deployed`` for a new registry entry, then the deploy stage."""
        self.recorder.event("model.registered", deployed.registered, deployed.subjects)
        self.recorder.event("model.deployed", deployed.deployed, {"model": deployed.registered["model_sha256"]})
        self.record("deploy", deployed)
        self.lineage["model"] = deployed.registered["model_sha256"]
        self.deployed = deployed.summary

    def note_dataset(self, name: str, digest: str) -> None:
        """Put a dataset's content hash into the run's lineage."""
        self.lineage.setdefault("datasets", {})[name] = digest

    def note_model(self, digest: str) -> None:
        """Put the hash of the model the run gates next into its lineage."""
        self.lineage["model"] = digest

    def note_evaluation_rows(self, rows: Any) -> None:
        """The raw feature rows the next gates' predictions are of (``rescore: true`` rules score baselines on them)."""
        self.evaluation_rows = rows

    # -- gates ----------------------------------------------------------------------------
    def gate(self, stage: str, evidence: Evidence, *, rules: list | None = None, subject: str | None = None,
             binding: bool = True) -> GateResult:
        """Evaluate the policy at ``stage`` on ``evidence`` (with the run's context) and record the decision.

        Only a binding gate decides the stage's status in the summary; the gates of LiteRT
        variants that are not deployed are recorded with ``binding: false``, as evidence.
        """
        from governance.engine import evaluate
        from lifecycle.baseline import with_baselines

        evidence = self._context(stage, evidence)
        selected = rules if rules is not None else self.policy.rules_for(stage)
        # Rules with relative_to compare with a model registered under this run's model name.
        evidence = with_baselines(evidence, selected, self.registry, self.model_name or "", self.ws.keys,
                                  rows=self.evaluation_rows)
        result = evaluate(self.policy, stage, evidence, rules=rules, subject=subject)
        self.recorder.gate(result, self.policy, binding=binding)
        if binding:
            self.decide(stage, result)
        return result

    def decide(self, stage: str, result: GateResult) -> str:
        """Make ``result`` the stage's binding decision; return its status (``passed``, ``blocked``, ...)."""
        status = self.status(stage, result)
        self._note(stage, status.value, [finding_brief(f) for f in result.findings])
        if status == Decision.AWAITING_APPROVAL:
            self.awaiting = result
        elif status == Decision.BLOCKED and self.blocked is None:
            self.blocked = result
        return status.value

    @staticmethod
    def status(stage: str, result: GateResult) -> Decision:
        """``awaiting_approval`` for a deploy gate blocked only by missing approvals, else blocked or passed.

        A rejected run waits for nothing: its deploy gate is ``blocked``.
        """
        if not result.blocked:
            return Decision.PASSED
        only_approvals = all(f.check == APPROVAL_CHECK and (f.evidence or {}).get("state") != "rejected"
                             for f in result.blocking)
        return Decision.AWAITING_APPROVAL if stage == "deploy" and only_approvals else Decision.BLOCKED

    def approvals(self) -> list[dict[str, Any]]:
        """Approvals recorded for this run so far (the ``approvals`` evidence)."""
        return approvals_for(self.trail, self.run_id)

    def _context(self, stage: str, evidence: Evidence) -> Evidence:
        extra: dict[str, Any] = {}
        if "metadata" not in evidence and self.metadata:
            extra["metadata"] = dict(self.metadata)
        if "lineage" not in evidence:
            extra["lineage"] = dict(self.lineage)
        if "privacy" in evidence:  # the DP record gated now is the run's from here on
            self.privacy = dict(evidence.require("privacy"))
        elif self.privacy.get("dp"):
            extra["privacy"] = dict(self.privacy)
        if stage == "deploy" and "approvals" not in evidence:
            extra["approvals"] = self.approvals()
        return evidence.with_(**extra) if extra else evidence

    # -- the summary and the end ------------------------------------------------------------
    def _note(self, stage: str, status: str, findings: list[dict[str, Any]]) -> None:
        self._entries = [e for e in self._entries if e["stage"] != stage]
        self._entries.append({"stage": stage, "status": status, "findings": findings})

    def restore(self, entries: list[dict[str, Any]], privacy: dict[str, Any]) -> None:
        """The stage entries and DP-SGD record of the run's earlier part (a resumed run's, as recorded)."""
        self.privacy = dict(privacy)
        for entry in entries:
            self._metrics[entry["stage"]] = dict(entry.get("metrics") or {})
            self._note(entry["stage"], entry["status"], list(entry.get("findings") or []))

    def metrics(self, stage: str) -> dict[str, Any]:
        """The numbers recorded for ``stage`` (empty when it recorded none)."""
        return dict(self._metrics.get(stage, {}))

    @property
    def stage_entries(self) -> list[dict[str, Any]]:
        """Each decided stage: ``{"stage", "status", "metrics", "findings"}``, in order."""
        return [{"stage": e["stage"], "status": e["status"], "metrics": self._metrics.get(e["stage"], {}),
                 "findings": e["findings"]} for e in self._entries]

    def decision_counts(self, exclude: tuple[str, ...] = ()) -> dict[str, Any]:
        """Each decided stage's status (but those in ``exclude``) and the count of their findings by status."""
        entries = [e for e in self._entries if e["stage"] not in exclude]
        counts: dict[str, int] = {}
        for entry in entries:
            for finding in entry["findings"]:
                counts[finding["status"]] = counts.get(finding["status"], 0) + 1
        return {"stages": {e["stage"]: e["status"] for e in entries}, "findings": counts}

    def summary(self, decision: str | None, blocked_at: str | None, why: list[str], **fields: Any) -> dict[str, Any]:
        """The run's summary (the ``rai run --json`` object): common fields, then ``fields``."""
        privacy = {k: self.privacy.get(k) for k in _SUMMARY_PRIVACY} if self.privacy.get("dp") else None
        policy = {"name": self.policy.policy, "sha256": self.policy.sha256} if self.policy else None
        return jsonable({
            "schema_version": SUMMARY_SCHEMA_VERSION, "run_id": self.run_id, **fields, "decision": decision,
            "blocked_at": blocked_at, "reasons": why, "stages": self.stage_entries, "privacy": privacy,
            "deployed": self.deployed, "policy": policy, "workspace": str(self.ws.root), "trail": self.trail.location,
        })

    def finish(self, decision: str, blocked_at: str | None, why: list[str], summary: dict[str, Any]) -> None:
        """``run.finished`` and a signed checkpoint."""
        self.recorder.finished(decision, blocked_at, why, summary)
