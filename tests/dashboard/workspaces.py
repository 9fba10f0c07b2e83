"""Seeded workspaces for the dashboard tests and the dashboard benchmark.

They start from the report tests' synthetic workspace (a passing DP-SGD run with LiteRT variants
and a registration, and a run blocked at the evaluate gate) and append, through the trail API
with the same fixed clock: the passing run's deployment, a run awaiting a risk officer's
approval, and a monitor run whose live batch drifted; then they add a signed registry entry for
the passing run's model. :func:`add_hostile_run` adds a run whose every string is markup,
:func:`tamper` edits a recorded payload the way an attacker with file access would.
"""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import json
from pathlib import Path
from typing import Any

from report import synthetic_data as D
from report.synthetic import (
    BLOCKED_RUN,
    PASSED_RUN,
    START,
    Clock,
    build_workspace,
    fake_hash,
    fixed_clock,
    tamper,
)

from governance.findings import Finding
from governance.manifest import MANIFEST, SCHEMA, sign_body
from governance.trail import open_trail
from governance.trail.signing import load_signer
from governance.vocabulary import Severity, Status

__all__ = ["AWAITING_RUN", "BLOCKED_RUN", "HOSTILE", "HOSTILE_RUN", "MONITOR_RUN", "PASSED_RUN",
           "add_hostile_run", "build", "tamper"]

AWAITING_RUN = "20250301T120000Z-0a0b0c"
MONITOR_RUN = "monitor-20250302T080000Z-1d2e3f"
HOSTILE = "<script>alert(1)</script>"
HOSTILE_LINK = "[click me](javascript:alert(1))"
HOSTILE_RUN = "20250301T130000Z-<b>x</b>"
MODEL_BYTES = b"TFL3 a stand-in for the int8 LiteRT model"


class _Writer:
    """Appends one run's events with the fixed clock, as the pipeline's recorder would."""

    def __init__(self, trail, clock: Clock, run_id: str, actor: str = "carol"):
        self.trail, self.clock, self.run_id, self.actor = trail, clock, run_id, actor

    def event(self, kind: str, payload: dict[str, Any], after: float = 1.0, actor: str | None = None) -> None:
        self.clock.advance(after)
        self.trail.append(kind=kind, run_id=self.run_id, actor=actor or self.actor, payload=payload)

    def stage(self, stage: str, metrics: dict, evidence: dict, after: float) -> None:
        blob = json.dumps({"stage": stage, "run_id": self.run_id, **evidence}, sort_keys=True).encode()
        self.event("stage.completed", {"stage": stage, "status": "completed", "metrics": metrics,
                                       "artifacts": {}, "evidence_blob": self.trail.put_blob(blob)}, after)

    def gate(self, stage: str, findings: list[dict], subject: str | None = None) -> None:
        blocking = [f["rule_id"] for f in findings if f["status"] in ("failed", "error")]
        self.event("gate.decided", {"stage": stage, "subject": subject, "decision": "blocked" if blocking else "passed",
                                    "findings": findings, "binding": True, "policy_sha256": D.POLICY["sha256"],
                                    "blocking": blocking}, after=0.5)


def _started(run: _Writer, spec: dict[str, Any], policy: dict[str, Any]) -> None:
    run.event("run.started", {"spec": spec, "spec_file": "pipeline.yaml", "spec_hash": fake_hash(run.run_id),
                              "policy": policy, "versions": D.VERSIONS, "code_revision": None,
                              "workspace": ".rai"}, after=0)


def _awaiting_run(trail, clock: Clock) -> None:
    """Every gate passes but deploy, which waits for the risk officer's approval."""
    clock.now = START + dt.timedelta(hours=3)
    run = _Writer(trail, clock, AWAITING_RUN)
    _started(run, D.SPEC, D.POLICY)
    run.stage("ingest", {"train_rows": 32561, "test_rows": 16281}, {"profile": D.PROFILE}, after=3.0)
    run.gate("ingest", D.ingest_findings())
    run.stage("train", {"epochs": 5, "epsilon": D.PRIVACY["epsilon"]}, {"privacy": D.PRIVACY}, after=200.0)
    run.gate("train", D.train_findings())
    run.stage("evaluate", D.EVAL_METRICS, {}, after=4.0)
    run.gate("evaluate", D.evaluate_findings(passing=True))
    waiting = copy.deepcopy(D.deploy_findings())
    waiting[0].update(status="failed", message="risk-officer has 0 of 1 approvals", observed={"risk-officer": 0},
                      evidence={"roles": {"risk-officer": {"approved_by": [], "rejected_by": []}}})
    run.gate("deploy", waiting)
    reasons = ["human-approval (accountability.approvals): risk-officer has 0 of 1 approvals"]
    run.event("run.finished", {"decision": "awaiting_approval", "blocked_at": "deploy", "reasons": reasons,
                               "summary": D.summary(AWAITING_RUN, "awaiting_approval")}, after=0.2)


def _drift_finding() -> dict[str, Any]:
    columns = [dict(c) for c in D.DRIFT["columns"]]
    for c in columns[:3]:
        c.update(statistic=0.31, drifted=True)
    share = sum(c["drifted"] for c in columns) / len(columns)  # the three above and native-country
    evidence = {**D.DRIFT, "columns": columns, "drifted_share": share, "dataset_drift": True}
    return Finding(rule_id="live-drift", check="drift.dataset", stage="monitor", severity=Severity.HIGH,
                   status=Status.FAILED, message=f"4 of 12 columns drifted (share {share:.4g} >= 0.2)", observed=share,
                   threshold=0.2, evidence=evidence, maps_to=["eu-ai-act:art-72"]).to_dict()


# Rows per age band of the live batch, in the text order a pandas groupby records them.
AGE_BANDS = {"25-44": 2210, "45-64": 1530, "65+": 12, "<25": 1248}


def _group_size_finding() -> dict[str, Any]:
    groups = [{"group": {"age_band": band}, "count": n, "too_small": n < 30} for band, n in AGE_BANDS.items()]
    return Finding(rule_id="live-group-size", check="data.group_size", stage="monitor", severity=Severity.MEDIUM,
                   status=Status.FAILED, message="1 group(s) below 30 rows: age_band=65+ (12)", observed=12,
                   threshold=30, evidence={"groups": groups}).to_dict()


def _monitor_run(trail, clock: Clock) -> None:
    clock.now = START + dt.timedelta(days=1)
    run = _Writer(trail, clock, MONITOR_RUN, actor="monitor-bot")
    model = {"name": "adult-income", "version": 3, "model_sha256": D.VARIANT_ARTIFACTS["int8"]["sha256"]}
    batch = {"file": "batches/2025-03-02.csv", "sha256": fake_hash("batch"), "rows": 5000, "labelled": False}
    finding = _drift_finding()
    blob = trail.put_blob(json.dumps({"model": model, "batch": batch, "findings": [finding]}).encode())
    run.event("drift.checked", {"model": model, "batch": batch, "numbers": {"rows": 5000}, "decision": "block",
                                "evidence_blob": blob})
    run.gate("monitor", [finding, _group_size_finding()])


def _deployed(trail, clock: Clock) -> None:
    """The passing run's model goes live (the synthetic run stops at its registration)."""
    clock.now = START + dt.timedelta(hours=2)
    _Writer(trail, clock, PASSED_RUN, actor="alice").event("model.deployed", {
        "name": "adult-income", "version": "3", "target": "registry", "path": "registry/adult-income/3"})


def _register(root: Path) -> Path:
    """The passing run's registry entry, with a manifest signed by the workspace key."""
    entry = root / "registry" / "adult-income" / "3"
    entry.mkdir(parents=True)
    (entry / "model.tflite").write_bytes(MODEL_BYTES)
    body = {"schema": SCHEMA, "name": "adult-income", "version": 3, "run_id": PASSED_RUN, "variant": "int8",
            "model_sha256": D.VARIANT_ARTIFACTS["int8"]["sha256"],
            "files": {"model.tflite": {"role": "model", "sha256": hashlib.sha256(MODEL_BYTES).hexdigest(),
                                       "size_bytes": len(MODEL_BYTES)}}}
    signer = load_signer(root / "keys" / "signing.pem")
    document = {"manifest": body, "signature": sign_body(body, signer)}
    (entry / MANIFEST).write_text(json.dumps(document, indent=2, sort_keys=True), encoding="utf-8")
    return entry


def build(root: Path) -> Path:
    """The seeded workspace at ``root``: four runs, two kinds, a registry entry; returns ``root``."""
    build_workspace(root)
    clock = Clock(START)
    with fixed_clock(clock), open_trail(root) as trail:
        _deployed(trail, clock)
        _awaiting_run(trail, clock)
        _monitor_run(trail, clock)
        trail.checkpoint()
    _register(root)
    return root


def add_hostile_run(root: Path) -> None:
    """A run whose model name, owner, finding message, reasons and actor are markup."""
    clock = Clock(START + dt.timedelta(hours=5))
    spec = copy.deepcopy(D.SPEC)
    spec["deploy"]["model_name"] = f"model {HOSTILE}"
    spec["metadata"]["owner"] = f"{HOSTILE} {HOSTILE_LINK}"
    policy = {**D.POLICY, "name": f"policy {HOSTILE_LINK}"}
    message = f"**bold** {HOSTILE_LINK} {HOSTILE}"
    finding = copy.deepcopy(D.ingest_findings()[0])
    finding.update(status="failed", message=message, rule_id=f"rule-{HOSTILE}")
    with fixed_clock(clock), open_trail(root) as trail:
        run = _Writer(trail, clock, HOSTILE_RUN, actor=f"<b>mallory</b> {HOSTILE_LINK}")
        _started(run, spec, policy)
        run.gate("ingest", [finding])
        run.event("run.finished", {"decision": "blocked", "blocked_at": "ingest", "reasons": [message],
                                   "summary": {"run_id": HOSTILE_RUN, "decision": "blocked"}})
        trail.checkpoint()


