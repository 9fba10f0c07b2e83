"""Runs that stop at or after ingest (no TensorFlow): --until, waivers, the trail's records, imports."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

from .conftest import HERE, events

WAIVED = """
  - id: balanced-labels
    check: data.label_balance
    stage: ingest
    severity: high
    params: {min_minority_share: 0.45}
waivers:
  - rule: balanced-labels
    reason: Adult is imbalanced by nature; accepted for the test
    approved_by: Test Lead
    expires: 2099-12-31
"""


def test_until_ingest_stops_after_the_ingest_gate_with_its_records(project, rai):
    (project / "policy.yaml").write_text((HERE / "policy.yaml").read_text() + WAIVED)
    code, out, err = rai("run", "pipeline.yaml", "--until", "ingest", "--workspace", "ws", "--json")
    assert code == 0, err
    summary = json.loads(out)
    assert summary["decision"] == "passed" and summary["reasons"] == ["stopped after --until ingest"]
    (ingest,) = summary["stages"]
    assert ingest["stage"] == "ingest" and ingest["metrics"]["train_rows"] == 3000 and ingest["metrics"]["test_rows"] == 1000
    assert {f["rule_id"]: f["status"] for f in ingest["findings"]} == {
        "label-balance": "passed", "groups-measurable": "passed", "balanced-labels": "waived"}
    run = events(project / "ws", summary["run_id"])
    assert [e.kind for e in run] == ["run.started", "stage.completed", "gate.decided", "waiver.applied", "run.finished"]
    waiver = run[3].payload
    assert (waiver["rule"], waiver["stage"], waiver["approved_by"]) == ("balanced-labels", "ingest", "Test Lead")
    stage = run[1].payload
    for name in ("train", "test"):
        artifact = stage["artifacts"][name]
        assert (project / "ws" / artifact["path"]).is_file() and len(artifact["sha256"]) == 64
    assert run[1].subjects == {"train": stage["artifacts"]["train"]["sha256"], "test": stage["artifacts"]["test"]["sha256"]}
    from governance.trail import open_trail

    with open_trail(project / "ws", create=False) as trail:
        blob = json.loads(trail.get_blob(stage["evidence_blob"]))
    assert blob["datasets"]["train"]["rows"] == 3000 and blob["profile"]["rows"]["test"] == 1000
    assert {row["column"] for row in blob["drift"]["columns"]} >= {"age", "education"}


def test_a_user_error_and_the_spec_stage_never_import_tensorflow(project):
    code = textwrap.dedent("""
        import sys
        from rai.cli import main
        for argv in (["run", "--help"], ["run", "pipeline.yaml", "--until", "ingest", "--workspace", "ws"]):
            try:
                main(argv)
            except SystemExit:
                pass
        print(sorted(m for m in sys.modules if m.split(".")[0] in ("tensorflow", "tf_keras", "ai_edge_litert")))
    """)
    done = subprocess.run([sys.executable, "-c", code], cwd=project, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[]"


def test_run_results_for_ci_are_located_in_the_policy(project, rai):
    """`rai run --format sarif`: every finding of the run, the pack's rules at the `extends` line."""
    import jsonschema

    schema = json.loads((HERE.parent / "ci" / "fixtures" / "sarif-schema-2.1.0.json").read_text())
    (project / "policy.yaml").write_text("policy: p\nversion: 1\nowner: o\nextends: rai:default\nrules:\n"
                                         "  - {id: balanced, check: data.label_balance, stage: ingest, severity: high,\n"
                                         "     params: {min_minority_share: 0.45}}\n")
    code, out, err = rai("run", "pipeline.yaml", "--until", "ingest", "--workspace", "ws", "--format", "sarif")
    assert code == 1, err
    log = json.loads(out)
    jsonschema.Draft4Validator(schema).validate(log)
    results = {r["ruleId"]: r for r in log["runs"][0]["results"]}
    assert results["balanced"]["level"] == "error"
    assert results["balanced"]["locations"][0]["physicalLocation"]["region"] == {"startLine": 6, "startColumn": 5}
    assert results["data-group-size"]["locations"][0]["physicalLocation"]["region"] == {"startLine": 4, "startColumn": 10}
    # The pack's group-size rule names no features: it compared the spec's, sex and race together.
    assert "sex" in results["data-group-size"]["message"]["text"] and "race" in results["data-group-size"]["message"]["text"]
