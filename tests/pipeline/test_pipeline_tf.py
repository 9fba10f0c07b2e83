"""End-to-end pipeline runs on 3,000 Adult rows (TensorFlow): pass, block, wait for approval, serve, monitor.

Each run trains a small model for two epochs; the module shares one passing run between tests.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from governance.errors import UserError
from governance.trail.signing import KeyRing
from lifecycle.deploy import verify_manifest

from .conftest import HERE, SPEC, events

pytestmark = pytest.mark.tf

SUMMARY_KEYS = {"run_id", "decision", "stages", "privacy", "variants", "deployed"}


def _policy_with(project: Path, extra_rules: str, name: str) -> str:
    (project / name).write_text((HERE / "policy.yaml").read_text() + extra_rules)
    return name


@pytest.fixture(scope="module")
def passed_run(tmp_path_factory, adult_rows):
    """One passing run of the test spec: (project dir, exit code, --json summary, stderr)."""
    from rai.cli import main

    project = tmp_path_factory.mktemp("e2e")
    for name in ("train.csv", "test.csv"):
        (project / name).write_bytes((adult_rows / name).read_bytes())
    (project / "pipeline.yaml").write_text(SPEC)
    (project / "policy.yaml").write_text((HERE / "policy.yaml").read_text())
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(project)
        capture = pytest.CaptureFixture  # noqa: F841  (documenting: output is captured by the fixture below)
        import contextlib
        import io

        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                main(["run", "pipeline.yaml", "--workspace", "ws", "--json"])
                code = 0
            except SystemExit as exit_:
                code = exit_.code
    return project, code, json.loads(out.getvalue()), err.getvalue()


def test_a_passing_run_registers_a_signed_manifest(passed_run):
    project, code, summary, _ = passed_run
    assert code == 0, summary
    assert SUMMARY_KEYS <= set(summary)
    assert summary["decision"] == "passed" and summary["privacy"] is None
    assert [(s["stage"], s["status"]) for s in summary["stages"]] == [
        ("ingest", "passed"), ("train", "passed"), ("evaluate", "passed"), ("optimize", "passed"), ("deploy", "passed")]
    evaluate = summary["stages"][2]
    assert evaluate["metrics"]["accuracy"] > 0.75
    assert {f["rule_id"] for f in evaluate["findings"]} == {"accuracy-floor", "parity-sex"}
    (variant,) = summary["variants"]
    assert variant["mode"] == "dynamic_range" and variant["deployed"] and variant["decision"] == "passed"
    assert variant["size_bytes"] > 0 and abs(variant["accuracy"] - evaluate["metrics"]["accuracy"]) < 0.02
    assert "sex.demographic_parity_difference" in variant["group_gaps"]
    deployed = summary["deployed"]
    assert (deployed["name"], deployed["version"]) == ("adult-small", 1)
    entry_dir = Path(project, deployed["manifest"]).parent
    check = verify_manifest(entry_dir, KeyRing(project / "ws" / "keys").trusted())
    assert check.ok, check.problems
    body = check.body
    assert body["run_id"] == summary["run_id"] and body["variant"] == "dynamic_range"
    assert body["policy_sha256"] == summary["policy"]["sha256"] and body["epsilon"] is None
    assert body["decision_summary"]["stages"] == {s: "passed" for s in ("ingest", "train", "evaluate", "optimize")}
    assert body["model_card"]["intended_use"]["primary"] == "testing the pipeline"


def test_the_trail_records_every_step_and_verifies(passed_run, rai):
    project, _, summary, _ = passed_run
    run_events = events(project / "ws", summary["run_id"])
    kinds = [e.kind for e in run_events]
    assert kinds == ["run.started"] + ["stage.completed", "gate.decided"] * 4 + [
        "gate.decided", "model.registered", "model.deployed", "stage.completed", "run.finished"]
    started = run_events[0].payload
    assert started["spec"]["name"] == "adult-small" and len(started["spec_hash"]) == 64
    assert started["versions"]["tensorflow"] and started["policy"]["rules"]
    stages = {e.payload["stage"]: e.payload for e in run_events if e.kind == "stage.completed"}
    assert set(stages["ingest"]["artifacts"]) == {"train", "test"}
    assert set(stages["optimize"]["artifacts"]) == {"float32", "dynamic_range"}
    registered = next(e for e in run_events if e.kind == "model.registered")
    assert registered.payload["model_sha256"] == stages["optimize"]["artifacts"]["dynamic_range"]["sha256"]
    # the deployed model file in the registry is the artifact the optimize stage recorded
    assert registered.subjects["model"] == summary["deployed"]["model_sha256"]
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(project)
        code, out, _ = rai("trail", "verify", "--workspace", "ws")
    assert code == 0, out
    assert list((project / "ws" / "checkpoints").glob("*.json"))


def test_the_registered_model_serves_the_scores_it_was_audited_with(passed_run):
    from lifecycle.serving.server import load_service
    from lifecycle.serving.settings import ServeSettings

    project, _, summary, _ = passed_run
    ws = project / "ws"
    service = load_service(ServeSettings(name="adult-small", registry=ws / "registry", workspace=ws,
                                         prediction_log=False))
    assert service.scorer.path == "litert"  # NumPy preprocessing read from the model, then the LiteRT core
    test = pd.read_csv(project / "test.csv").head(300)
    rows = json.loads(test.drop(columns=["Y", "fnlwgt"]).to_json(orient="records"))
    status, body = service.predict(json.dumps({"rows": rows}).encode())
    assert status == 200, body
    predictions = json.loads(body)["predictions"]
    audited = pd.read_parquet(Path(project, summary["deployed"]["manifest"]).parent / "reference_predictions.parquet")
    assert [p["score"] for p in predictions] == pytest.approx(audited["y_score"].head(300).tolist(), abs=1e-6)


def test_serve_refuses_a_tampered_registered_model(passed_run, tmp_path):
    import shutil

    from lifecycle.serve import load_served

    project, _, summary, _ = passed_run
    registry = tmp_path / "registry"
    shutil.copytree(project / "ws" / "registry", registry)
    model = registry / "adult-small" / "1" / "model.tflite"
    data = bytearray(model.read_bytes())
    data[len(data) // 2] ^= 0xFF
    model.write_bytes(bytes(data))
    with pytest.raises(UserError, match="refusing to load adult-small v1: model.tflite: sha256 differs"):
        load_served(registry, "adult-small", None, KeyRing(project / "ws" / "keys").trusted())


def test_monitor_checks_batches_and_records_them(passed_run, rai):
    project, _, summary, _ = passed_run
    monitor_rules = """
  - id: live-accuracy
    check: performance.metric
    stage: monitor
    severity: high
    params: {metric: accuracy, min: 0.70}
  - id: live-drift
    check: drift.dataset
    stage: monitor
    severity: high
    params: {drift_share: 0.3}
"""
    policy = _policy_with(project, monitor_rules, "monitor-policy.yaml")
    shifted = pd.read_csv(project / "test.csv")
    shifted["age"] += 25
    shifted["hours-per-week"] += 30
    shifted["capital-gain"] += 5000
    shifted["education-num"] = 1
    shifted.to_csv(project / "shifted.csv", index=False)
    results = {}
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(project)
        for batch in ("test.csv", "shifted.csv"):
            code, out, err = rai("monitor", batch, "--model", "adult-small", "--policy", policy, "--workspace", "ws", "--json")
            results[batch] = (code, json.loads(out), err)
    code, result, err = results["test.csv"]
    assert code == 0, err
    assert result["decision"] == "passed" and result["batch"]["rows"] == 1000 and result["batch"]["labelled"]
    assert [f["rule_id"] for f in result["findings"]] == ["live-accuracy", "live-drift"]
    assert set(result["numbers"]["drift"]) == {"data", "prediction"}
    kinds = [e.kind for e in events(project / "ws", result["run_id"])]
    assert kinds == ["drift.checked", "gate.decided"]
    code, result, _ = results["shifted.csv"]
    assert code == 1 and result["decision"] == "blocked"
    assert any(reason.startswith("live-drift (drift.dataset): ") for reason in result["reasons"])
    assert {"age", "hours-per-week"} <= {c["column"] for c in result["numbers"]["drift"]["data"]["columns"] if c["drifted"]}


def test_an_unreachable_threshold_blocks_at_evaluate_and_nothing_is_registered(project, rai, passed_run):
    policy = (HERE / "policy.yaml").read_text().replace("{metric: accuracy, min: 0.70}", "{metric: accuracy, min: 0.999}")
    (project / "strict.yaml").write_text(policy)
    code, out, err = rai("run", "pipeline.yaml", "--policy", "strict.yaml", "--workspace", "ws", "--json")
    assert code == 1, err
    summary = json.loads(out)
    assert summary["decision"] == "blocked" and summary["blocked_at"] == "evaluate"
    assert [(s["stage"], s["status"]) for s in summary["stages"]] == [
        ("ingest", "passed"), ("train", "passed"), ("evaluate", "blocked")]
    assert summary["reasons"][0].startswith("accuracy-floor (performance.metric): accuracy ")
    assert summary["deployed"] is None
    assert not (project / "ws" / "registry").exists()
    finished = events(project / "ws")[-1]
    assert finished.kind == "run.finished" and finished.payload["decision"] == "blocked"
    gate = [e for e in events(project / "ws") if e.kind == "gate.decided"][-1].payload
    assert gate["stage"] == "evaluate" and gate["decision"] == "blocked" and gate["blocking"] == ["accuracy-floor"]
    # same data, model and seed as the passing run: the same metrics
    reference = passed_run[2]["stages"][2]["metrics"]
    assert summary["stages"][2]["metrics"] == reference


def test_awaiting_approval_then_approve_then_resume_deploys(project, rai):
    spec = (project / "pipeline.yaml").read_text()
    spec = spec.replace("  modes: [dynamic_range]\n  deploy: dynamic_range",
                        "  modes: [int8]\n  deploy: int8\nprivacy:\n  dp: true\n  noise_multiplier: 1.1")
    (project / "pipeline.yaml").write_text(spec)
    _policy_with(project, """
  - id: risk-sign-off
    check: accountability.approvals
    stage: deploy
    severity: critical
    params: {roles: [risk-officer]}
""", "policy.yaml")
    code, out, err = rai("run", "pipeline.yaml", "--workspace", "ws", "--json")
    assert code == 1, err
    waiting = json.loads(out)
    run_id = waiting["run_id"]
    assert waiting["decision"] == "awaiting_approval" and waiting["blocked_at"] == "deploy"
    assert waiting["privacy"]["noise_multiplier"] == 1.1 and waiting["privacy"]["epsilon"] > 0
    assert waiting["privacy"]["accountant"] == "rdp"
    assert not (project / "ws" / "registry").exists()

    assert rai("approve", run_id, "--role", "risk-officer", "--decision", "approve", "--actor", "carol",
               "--workspace", "ws")[0] == 0
    code, out, err = rai("run", "--resume", run_id, "--workspace", "ws", "--json")
    assert code == 0, err
    resumed = json.loads(out)
    assert resumed["run_id"] == run_id and resumed["decision"] == "passed"
    assert [s["stage"] for s in resumed["stages"]] == ["ingest", "train", "evaluate", "optimize", "deploy"]
    assert resumed["deployed"]["variant"] == "int8" and resumed["deployed"]["version"] == 1
    manifest = json.loads(Path(project, resumed["deployed"]["manifest"]).read_text())["manifest"]
    assert manifest["epsilon"] == pytest.approx(waiting["privacy"]["epsilon"])
    kinds = [e.kind for e in events(project / "ws", run_id)]
    assert kinds[-7:] == ["approval.recorded", "run.resumed", "gate.decided", "model.registered", "model.deployed",
                          "stage.completed", "run.finished"]

    code, _, err = rai("run", "--resume", run_id, "--workspace", "ws")
    assert code == 2 and err == (f"error: run {run_id} cannot be resumed: its last decision is 'passed' "
                                 "(only a run awaiting approval can be resumed)\n")
