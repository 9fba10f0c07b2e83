"""What a pipeline run writes to the audit trail, in the shapes readers rely on.

:class:`RunRecorder` turns the pipeline's moments into trail events (the payload contract is in
:mod:`governance.trail`): ``run.started``, ``stage.completed`` (with a JSON evidence blob stored
through ``trail.put_blob``), ``gate.decided``, ``waiver.applied``, ``model.registered``,
``model.deployed`` and ``run.finished``, then a signed checkpoint. Every payload passes through
:func:`governance.findings.jsonable` first, so numpy numbers and NaN never reach the trail.

``pipeline.py`` decides *when* to record; this module decides *how* it looks.
"""

from __future__ import annotations

import getpass
import json
import platform
import secrets
import subprocess
import time
from importlib import metadata
from pathlib import Path
from typing import Any

from governance.findings import GateResult, Status, jsonable
from governance.policy.schema import Policy

# Distributions whose versions explain a run's numbers.
_VERSIONED = ("rai", "tensorflow", "tf-keras", "tensorflow-privacy", "ai-edge-litert", "numpy", "pandas",
              "dp-accounting", "pydantic")


def new_run_id() -> str:
    """A sortable, unique run id: UTC time plus 6 random hex digits, e.g. ``20250131T093000Z-a1b2c3``."""
    return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime()) + "-" + secrets.token_hex(3)


def current_actor() -> str:
    """The OS user running rai (the trail's ``actor``)."""
    try:
        return getpass.getuser() or "unknown"
    except Exception:  # no passwd entry (some containers): still record something
        return "unknown"


def versions() -> dict[str, str | None]:
    """Python, platform and the versions of the packages that produce the run's numbers."""
    out: dict[str, str | None] = {"python": platform.python_version(), "platform": platform.platform()}
    for name in _VERSIONED:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def code_revision(directory: Path) -> str | None:
    """``git rev-parse HEAD`` of the repository holding ``directory`` (``+dirty`` if modified), or None."""
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=directory, capture_output=True, text=True, timeout=5)
        if head.returncode != 0:
            return None
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=directory,
                               capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return None
    return head.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")


def policy_payload(policy: Policy) -> dict[str, Any]:
    """Identity and full content of a policy (rules with parameters, waivers) for ``run.started``."""
    data = policy.model_dump(mode="json", exclude={"extends"})
    return {**data, "name": policy.policy, "sha256": policy.sha256, "source": policy_source(policy)}


def policy_source(policy: Policy) -> str | None:
    """The policy file as an absolute path, so that ``--resume`` and ``monitor`` find it from anywhere."""
    return str(Path(policy.source).resolve()) if policy.source else None


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
