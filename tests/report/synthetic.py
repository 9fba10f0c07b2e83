"""A fixed workspace for report tests: two Adult runs written event by event through the trail API.

Run ``PASSED_RUN`` is a DP-SGD run that passes (with a warning, a waiver, an approval, three
LiteRT variants of which one is not binding and blocks, and a registration); run ``BLOCKED_RUN``
stops at the evaluate gate on an equal-opportunity gap. Times come from a fixed clock and the
signing key from a fixed seed, so every hash, signature and golden file is reproducible.
No TensorFlow, no lifecycle code: only ``governance.trail``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

import governance.trail.trail as trail_module
from governance.trail import open_trail

from . import synthetic_data as D

PASSED_RUN = "20250301T090000Z-a1b2c3"
BLOCKED_RUN = "20250301T101500Z-d4e5f6"
START = dt.datetime(2025, 3, 1, 9, 0, 0, tzinfo=dt.UTC)


def fake_hash(label: str) -> str:
    """A stable SHA-256 standing in for a file we do not have (a dataset, a model)."""
    return hashlib.sha256(label.encode()).hexdigest()


class Clock:
    """The trail's clock in these tests: moves only when told to."""

    def __init__(self, start: dt.datetime):
        self.now = start

    def __call__(self) -> str:
        return self.now.strftime("%Y-%m-%dT%H:%M:%S.%fZ")

    def advance(self, seconds: float) -> None:
        self.now += dt.timedelta(seconds=seconds)


@contextlib.contextmanager
def fixed_clock(clock: Clock) -> Iterator[Clock]:
    """Make the trail stamp events and checkpoints with ``clock``."""
    original = trail_module.utc_now
    trail_module.utc_now = clock
    try:
        yield clock
    finally:
        trail_module.utc_now = original


def write_fixed_key(workspace: Path) -> None:
    """The workspace's signing key, derived from a fixed seed (Ed25519 signatures are deterministic)."""
    key = Ed25519PrivateKey.from_private_bytes(hashlib.sha256(b"rai report tests").digest())
    keys = workspace / "keys"
    keys.mkdir(parents=True, mode=0o700, exist_ok=True)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    (keys / "signing.pem").write_bytes(pem)
    (keys / "signing.pem").chmod(0o600)


class _Run:
    def __init__(self, trail, clock: Clock, run_id: str, actor: str = "alice"):
        self.trail, self.clock, self.run_id, self.actor = trail, clock, run_id, actor

    def event(self, kind: str, payload: dict[str, Any], after: float = 1.0, actor: str | None = None,
              subjects: dict[str, str] | None = None) -> None:
        self.clock.advance(after)
        self.trail.append(kind=kind, run_id=self.run_id, actor=actor or self.actor, payload=payload,
                          subjects=subjects or {})

    def stage(self, stage: str, metrics: dict, artifacts: dict, evidence: dict, after: float,
              status: str = "completed", **extra: Any) -> None:
        blob = json.dumps({"stage": stage, "run_id": self.run_id, **evidence}, sort_keys=True,
                          separators=(",", ":")).encode()
        digest = self.trail.put_blob(blob)
        self.event("stage.completed", {"stage": stage, "status": status, "metrics": metrics,
                                       "artifacts": artifacts, "evidence_blob": digest, **extra}, after,
                   subjects={name: a["sha256"] for name, a in artifacts.items()})

    def gate(self, stage: str, findings: list[dict], subject: str | None = None, binding: bool = True) -> None:
        blocking = [f["rule_id"] for f in findings if f["status"] in ("failed", "error")]
        self.event("gate.decided", {
            "stage": stage, "subject": subject, "decision": "blocked" if blocking else "passed",
            "findings": findings, "binding": binding, "policy_sha256": D.POLICY["sha256"], "blocking": blocking,
        }, after=0.5)


def _started(run: _Run) -> None:
    run.event("run.started", {
        "spec": D.SPEC, "spec_hash": fake_hash("pipeline-dp.yaml"), "policy": D.POLICY,
        "versions": D.VERSIONS, "code_revision": "3f2c1e9d8b7a6f5e4d3c2b1a0f9e8d7c6b5a4f3e", "workspace": ".rai",
    }, after=0)


def _ingest_and_train(run: _Run) -> None:
    # As the pipeline records them: no drift table in the ingest blob (the drift rule's evidence
    # carries it), the privacy record both in the train payload and in its blob.
    run.stage("ingest", {"train_rows": 32561, "test_rows": 16281, "features": 13, "train_positive_rate": 0.2408},
              D.DATA_ARTIFACTS, {"datasets": D.DATASETS, "profile": D.PROFILE, "lineage": {**D.LINEAGE, "model": None}},
              after=3.2)
    run.gate("ingest", D.ingest_findings())
    run.stage("train", {"epochs": 5, "train_accuracy": 0.8254, "dp": True, "epsilon": D.PRIVACY["epsilon"]},
              D.MODEL_ARTIFACTS, {"privacy": D.PRIVACY, "lineage": D.LINEAGE}, after=241.7, privacy=D.PRIVACY)
    run.gate("train", D.train_findings())


def _passed_run(trail, clock: Clock, heavy: bool = False) -> None:
    run = _Run(trail, clock, PASSED_RUN)
    _started(run)
    _ingest_and_train(run)
    run.stage("evaluate", D.EVAL_METRICS, D.PREDICTION_ARTIFACTS,
              {"metrics": D.EVAL_METRICS, "fairness": {"sex": D.fairness_evidence("sex", D.SEX_OK)}}, after=4.1)
    run.gate("evaluate", D.evaluate_findings(passing=True) + (D.heavy_evaluate_findings() if heavy else []))
    w = D.POLICY["waivers"][0]
    run.event("waiver.applied", {"rule": w["rule"], "stage": "evaluate", "subject": None, "reason": w["reason"],
                                 "approved_by": w["approved_by"], "expires": w["expires"],
                                 "observed": 0.2617, "threshold": 0.25}, after=0.1)
    evidence = D.OPTIMIZE_EVIDENCE
    if heavy:
        evidence = {**evidence, "variants": evidence["variants"] + [D.FLOAT16]}
    run.stage("optimize", {"variants": len(evidence["variants"])}, D.VARIANT_ARTIFACTS, evidence, after=38.4)
    for mode, binding in (("int8", True), ("dynamic_range", False)) + ((("float16", False),) if heavy else ()):
        # A real optimize gate re-audits each variant with the evaluate rules as well.
        extra = D.heavy_evaluate_findings(mode) if heavy else []
        run.gate("optimize", D.optimize_findings(mode) + extra, subject=mode, binding=binding)
    run.event("approval.recorded", {"role": "risk-officer", "decision": "approve",
                                    "comment": "Reviewed the fairness evidence and the waiver FAIR-12."},
              after=1800, actor="dana")
    run.stage("deploy", {}, {}, {"approvals": [{"role": "risk-officer", "actor": "dana"}]}, after=2.0)
    run.gate("deploy", D.deploy_findings())
    run.event("model.registered", {"name": "adult-income", "version": "3", "model_sha256": D.VARIANT_ARTIFACTS["int8"]["sha256"],
                                   "manifest_path": "registry/adult-income/3/manifest.json",
                                   "manifest_sha256": fake_hash("manifest 3"), "variant": "int8"}, after=0.8)
    run.event("run.finished", {"decision": "passed", "blocked_at": None, "reasons": [],
                               "summary": D.summary(PASSED_RUN, "passed")}, after=0.2)
    trail.checkpoint()


def _blocked_run(trail, clock: Clock) -> None:
    clock.now = START + dt.timedelta(hours=1, minutes=15)
    run = _Run(trail, clock, BLOCKED_RUN, actor="bob")
    _started(run)
    _ingest_and_train(run)
    run.stage("evaluate", D.EVAL_METRICS, D.PREDICTION_ARTIFACTS,
              {"metrics": D.EVAL_METRICS, "fairness": {"sex": D.fairness_evidence("sex", D.SEX_GAP)}}, after=4.0)
    findings = D.evaluate_findings(passing=False)
    run.gate("evaluate", findings)
    reasons = [f"{f['rule_id']} ({f['check']}): {f['message']}" for f in findings if f["status"] == "failed"]
    run.event("run.finished", {"decision": "blocked", "blocked_at": "evaluate", "reasons": reasons,
                               "summary": D.summary(BLOCKED_RUN, "blocked")}, after=0.2)
    trail.checkpoint()


RESUMED_RUN = "20250301T140000Z-7a8b9c"


def add_resumed_run(root: Path) -> str:
    """Append a run that waited for approval at deploy, was approved and resumed, and passed.

    As ``rai run --resume`` records it: the deploy gate decided twice under one run id (first
    blocked on the missing approval, then passed), two ``run.finished`` events.
    Returns the run id.
    """
    clock = Clock(START + dt.timedelta(hours=5))
    with fixed_clock(clock), open_trail(root) as trail:
        run = _Run(trail, clock, RESUMED_RUN, actor="erin")
        _started(run)
        _ingest_and_train(run)
        run.stage("evaluate", D.EVAL_METRICS, D.PREDICTION_ARTIFACTS, {"metrics": D.EVAL_METRICS}, after=4.0)
        run.gate("evaluate", D.evaluate_findings(passing=True))
        approvals, *others = D.deploy_findings()
        waiting = [{**approvals, "status": "failed", "observed": 0, "message": "risk-officer has 0 of 1 approvals",
                    "evidence": {}}, *others]
        run.gate("deploy", waiting)
        run.event("run.finished", {"decision": "awaiting_approval", "blocked_at": "deploy",
                                   "reasons": [f["message"] for f in waiting if f["status"] == "failed"]}, after=0.2)
        trail.checkpoint()
        run.event("approval.recorded", {"role": "risk-officer", "decision": "approve", "comment": ""},
                  after=600, actor="dana")
        run.event("run.resumed", {"from_decision": "awaiting_approval", "approvals": 1}, after=60)
        run.gate("deploy", [approvals, *others])
        run.event("model.registered", {"name": "adult-income", "version": "4", "variant": None,
                                       "model_sha256": D.MODEL_ARTIFACTS["model"]["sha256"]}, after=0.5)
        run.event("run.finished", {"decision": "passed", "blocked_at": None, "reasons": []}, after=0.2)
        trail.checkpoint()
    return RESUMED_RUN


def build_workspace(root: Path, heavy: bool = False) -> Path:
    """Write both runs into a new workspace at ``root``; return ``root``.

    ``heavy`` adds what a full Adult DP run records beyond the golden fixture: intersectional
    per-group tables (40 groups) for every fairness rule, and a third LiteRT variant, each
    variant re-audited with those rules. Sizes and timings are measured on it.
    """
    write_fixed_key(root)
    clock = Clock(START)
    with fixed_clock(clock), open_trail(root) as trail:
        _passed_run(trail, clock, heavy)
        _blocked_run(trail, clock)
    return root


def tamper(root: Path, run_id: str, kind: str, old: str, new: str) -> int:
    """Replace ``old`` by ``new`` in the body of ``run_id``'s first ``kind`` event, going around
    rai (append-only triggers dropped, hashes left alone); return the edited entry's seq."""
    conn = sqlite3.connect(root / "trail.db", isolation_level=None)
    try:
        for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall():
            conn.execute(f"DROP TRIGGER {name}")
        seq, body = conn.execute("SELECT seq, body FROM events WHERE run_id = ? AND kind = ? ORDER BY seq LIMIT 1",
                                 (run_id, kind)).fetchone()
        assert old in body, f"{old!r} not in entry {seq}"
        conn.execute("UPDATE events SET body = ? WHERE seq = ?", (body.replace(old, new), seq))
    finally:
        conn.close()
    return seq
