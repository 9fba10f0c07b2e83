"""What a pipeline run writes to the audit trail, in the shapes readers rely on.

:class:`RunRecorder` turns the pipeline's moments into trail events (the payload contract is in
:mod:`governance.trail`): ``run.started``, ``stage.completed`` (with a JSON evidence blob stored
through ``trail.put_blob``), ``gate.decided``, ``waiver.applied``, ``model.registered``,
``model.deployed`` and ``run.finished``, then a signed checkpoint. Every payload passes through
:func:`governance.findings.jsonable` first, so numpy numbers and NaN never reach the trail.

The pipeline, API runs and recorded audits decide *when* to record; this module decides *how* it looks.
"""

from __future__ import annotations

import json
from typing import Any

from governance.findings import GateResult, jsonable
from governance.policy.schema import Policy
from governance.provenance import current_actor
from governance.vocabulary import Status


class RunRecorder:
    """Appends one run's events to an open trail."""

    def __init__(self, trail: Any, run_id: str, actor: str | None = None):
        self.trail = trail
        self.run_id = run_id
        self.actor = actor or current_actor()
        self._kinds: set[str] = set()

    def event(self, kind: str, payload: dict[str, Any], subjects: dict[str, Any] | None = None) -> Any:
        """Append one event of this run (payload made JSON-safe)."""
        event = self.trail.append(kind=kind, run_id=self.run_id, actor=self.actor,
                                  payload=jsonable(payload), subjects=subjects or {})
        self._kinds.add(kind)
        return event

    def recorded(self, kind: str) -> bool:
        """Whether this recorder has appended an event of ``kind``."""
        return kind in self._kinds

    def blob(self, evidence: dict[str, Any]) -> str:
        """Store a JSON evidence blob; return its SHA-256."""
        data = json.dumps(jsonable(evidence), sort_keys=True, separators=(",", ":")).encode("utf-8")
        return self.trail.put_blob(data)

    def stage(self, stage: str, status: str, metrics: dict[str, Any], artifacts: dict[str, dict],
              evidence: dict[str, Any], **extra: Any) -> str:
        """``stage.completed`` with its evidence blob; returns the blob's SHA-256."""
        digest = self.blob({"stage": stage, "run_id": self.run_id, **evidence})
        subjects = {name: a["sha256"] for name, a in artifacts.items()}
        self.event("stage.completed", {"stage": stage, "status": status, "metrics": metrics,
                                       "artifacts": artifacts, "evidence_blob": digest, **extra}, subjects)
        return digest

    def gate(self, result: GateResult, policy: Policy, *, binding: bool = True,
             subjects: dict[str, Any] | None = None) -> None:
        """``gate.decided`` plus one ``waiver.applied`` per waived finding.

        ``binding`` is false for the gates of LiteRT variants that are not deployed: their
        findings are evidence, and the deployed variant's decision is the stage's.
        """
        self.event("gate.decided", {**result.to_dict(), "binding": binding, "policy_sha256": policy.sha256,
                                    "blocking": [f.rule_id for f in result.blocking]}, subjects)
        for finding in result.findings:
            if finding.status == Status.WAIVED and finding.waiver:
                self.event("waiver.applied", {
                    "rule": finding.rule_id, "stage": result.stage, "subject": result.subject,
                    "reason": finding.waiver.get("reason"), "approved_by": finding.waiver.get("approved_by"),
                    "expires": finding.waiver.get("expires"), "observed": finding.observed,
                    "threshold": finding.threshold,
                })

    def finished(self, decision: str, blocked_at: str | None, reasons: list[str], summary: dict[str, Any]) -> None:
        """``run.finished``, then a signed checkpoint covering the whole run."""
        self.event("run.finished", {"decision": decision, "blocked_at": blocked_at, "reasons": reasons,
                                    "summary": summary})
        self.trail.checkpoint()
