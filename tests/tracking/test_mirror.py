"""rai runs mirrored into a real MLflow tracking server: numbers, tags, reports, outages, retries."""

from __future__ import annotations

import json
import socket
import time
import warnings
from pathlib import Path

import pytest
from fairlearn.metrics import demographic_parity_ratio
from sklearn.metrics import accuracy_score

import rai
from lifecycle.mlflow_config import MirrorWarning
from tracking.conftest import mlflow_run, tracked, trail_events, unfair

pytestmark = pytest.mark.mlflow


def evaluate(run, frame, pred=None) -> None:
    run.gate("evaluate", predictions=rai.Predictions(frame["y"], frame["pred"] if pred is None else pred, frame["sex"]))


def test_a_passing_api_run_appears_in_mlflow_with_its_numbers_tags_and_a_report_that_verifies(
        mlflow_server, workdir, data, rai_cli):
    with rai.start_run("credit-scoring", policy="policy.yaml", metadata={"owner": "risk team"},
                       mlflow=tracked(mlflow_server)) as run:
        evaluate(run, data)
    assert run.decision == "passed" and run.mirror.ok, run.mirror
    found = mlflow_run(mlflow_server, run.run_id)
    assert found.info.run_id == run.mirror.mlflow_run_id and found.info.status == "FINISHED"
    metrics, tags, params = found.data.metrics, found.data.tags, found.data.params
    # the numbers are scikit-learn's and fairlearn's on the same predictions
    assert metrics["evaluate/accuracy"] == pytest.approx(accuracy_score(data["y"], data["pred"]), abs=1e-12)
    assert metrics["finding/evaluate/four-fifths-sex"] == pytest.approx(
        demographic_parity_ratio(data["y"], data["pred"], sensitive_features=data["sex"]), abs=1e-12)
    assert metrics["gate/evaluate/blocked"] == 0 and metrics["findings/passed"] == 2
    assert tags["rai.decision"] == "passed" and tags["rai.gate.evaluate"] == "passed"
    assert tags["rai.finding.evaluate.four-fifths-sex"] == "passed" and tags["rai.metadata.owner"] == "risk team"
    events = trail_events(run.run_id)
    policy = events[0].payload["policy"]
    assert tags["rai.policy.sha256"] == params["policy.sha256"] == policy["sha256"] and params["rai.kind"] == "api"
    # the checkpoint tags name a signed checkpoint covering the whole run
    finished = next(e for e in events if e.kind == "run.finished")
    with rai.open_trail(".rai") as trail:
        checkpoint = next(c for c in trail.checkpoints() if c.tree_size == int(tags["rai.checkpoint.tree_size"]))
    assert checkpoint.root_hash == tags["rai.checkpoint.root_hash"] and checkpoint.tree_size >= finished.seq
    # the MLflow run id is recorded back in the trail, after the run finished
    assert [e.kind for e in events][-2:] == ["run.finished", "mlflow.mirrored"]
    assert events[-1].payload["mlflow_run_id"] == found.info.run_id
    # the report in MLflow is the trail's: `rai report verify` accepts it
    local = Path(mlflow_server.client().download_artifacts(found.info.run_id, "rai", str(workdir / "download")))
    assert sorted(p.name for p in local.iterdir()) == ["model_card.json", "model_card.md", "report.html", "report.json"]
    code, out, err = rai_cli("report", "verify", str(local / "report.json"))
    assert code == 0, err
    assert "matches the trail" in out and run.run_id in out
    assert run.run_id in (local / "report.html").read_text()
    assert json.loads((local / "model_card.json").read_text())["run_id"] == run.run_id
    assert rai.verify_trail(".rai").ok


def test_a_blocked_run_is_mirrored_with_the_finding_that_blocked_it(mlflow_server, workdir, data):
    with pytest.raises(rai.GateBlocked):
        with rai.start_run("credit-scoring", policy="policy.yaml", mlflow=tracked(mlflow_server)) as run:
            evaluate(run, data, unfair(data))
    assert run.decision == "blocked" and run.mirror.ok
    found = mlflow_run(mlflow_server, run.run_id)
    tags, metrics = found.data.tags, found.data.metrics
    assert (tags["rai.decision"], tags["rai.blocked_at"], tags["rai.gate.evaluate"]) == ("blocked", "evaluate", "blocked")
    assert tags["rai.finding.evaluate.four-fifths-sex"] == "failed" and "four-fifths-sex" in tags["rai.reasons"]
    assert metrics["gate/evaluate/blocked"] == 1 and metrics["findings/failed"] == 1
    assert metrics["finding/evaluate/four-fifths-sex"] == pytest.approx(
        demographic_parity_ratio(data["y"], unfair(data), sensitive_features=data["sex"]), abs=1e-12)


def test_syncing_again_updates_the_same_mlflow_run_without_duplicating_anything(mlflow_server, workdir, data, rai_cli):
    with rai.start_run("credit-scoring", policy="policy.yaml", mlflow=tracked(mlflow_server)) as run:
        evaluate(run, data)
    first = run.mirror.mlflow_run_id
    code, out, err = rai_cli("mlflow", "sync", run.run_id)
    assert code == 0, err
    assert f"mirrored {run.run_id} to MLflow run {first}" in out
    assert mlflow_run(mlflow_server, run.run_id).info.run_id == first
    assert len(mlflow_server.client().get_metric_history(first, "evaluate/accuracy")) == 1
    mirrored = [e for e in trail_events(run.run_id) if e.kind == "mlflow.mirrored"]
    assert [e.payload["mlflow_run_id"] for e in mirrored] == [first, first]


def test_a_server_stopped_mid_run_loses_nothing_and_a_later_sync_mirrors_the_run(mlflow_server, workdir, data, rai_cli):
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            with rai.start_run("credit-scoring", policy="policy.yaml", mlflow=tracked(mlflow_server)) as run:
                evaluate(run, data)
                mlflow_server.stop()  # the outage: MLflow goes away while the run is in progress
                started = time.monotonic()
        elapsed = time.monotonic() - started
        assert run.decision == "passed" and not run.mirror.ok and elapsed < 30
        (warning,) = [w for w in caught if issubclass(w.category, MirrorWarning)]
        assert f"rai mlflow sync {run.run_id}" in str(warning.message)
        kinds = [e.kind for e in trail_events(run.run_id)]
        assert kinds == ["run.started", "stage.completed", "gate.decided", "run.finished", "mlflow.mirror_failed"]
        failed = trail_events(run.run_id)[-1].payload
        assert failed["tracking_uri"] == mlflow_server.uri and "did not answer (2 attempts)" in failed["error"]
        assert rai.verify_trail(".rai").ok
        code, out, _ = rai_cli("mlflow", "sync", "--pending")
        assert code == 1 and out == ""
    finally:
        mlflow_server.start()
    code, out, err = rai_cli("mlflow", "sync", "--pending")
    assert code == 0, err
    found = mlflow_run(mlflow_server, run.run_id)
    assert found.data.tags["rai.decision"] == "passed" and "evaluate/accuracy" in found.data.metrics
    assert [e.kind for e in trail_events(run.run_id)][-2:] == ["mlflow.mirror_failed", "mlflow.mirrored"]
    assert rai_cli("mlflow", "sync", "--pending")[1] == "no run waits for its MLflow mirror\n"


def test_a_server_that_never_answers_cannot_hang_the_run(workdir, data, rai_cli):
    """A port that accepts connections and then says nothing: each request times out, twice, then the run ends."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(16)
        uri = f"http://127.0.0.1:{silent.getsockname()[1]}"
        started = time.monotonic()
        with warnings.catch_warnings(record=True):
            warnings.simplefilter("always")
            with rai.start_run("credit-scoring", policy="policy.yaml",
                               mlflow={"mlflow": uri, "timeout_s": 1, "attempts": 2}) as run:
                evaluate(run, data)
        assert time.monotonic() - started < 20
        assert run.decision == "passed" and not run.mirror.ok and "timed out" in run.mirror.error
        code, _, err = rai_cli("mlflow", "sync", run.run_id)
    assert code == 1 and f"not mirrored {run.run_id}" in err
    assert [e.kind for e in trail_events(run.run_id)][-2:] == ["mlflow.mirror_failed", "mlflow.mirror_failed"]


def test_a_pipeline_run_with_a_tracking_block_is_mirrored_without_tensorflow(mlflow_server, project, rai_cli):
    spec = Path("pipeline.yaml").read_text() + f"tracking: {{mlflow: '{mlflow_server.uri}', experiment: adult-tests}}\n"
    Path("pipeline.yaml").write_text(spec)
    code, out, err = rai_cli("run", "pipeline.yaml", "--until", "ingest", "--workspace", "ws", "--json")
    assert code == 0, err
    summary = json.loads(out)
    assert summary["mlflow"]["status"] == "mirrored" and summary["mlflow"]["experiment"] == "adult-tests"
    found = mlflow_run(mlflow_server, summary["run_id"], "adult-tests")
    assert found.data.metrics["ingest/train_rows"] == 3000 and found.data.params["model.epochs"] == "2"
    assert found.data.tags["rai.gate.ingest"] == "passed" and found.data.params["rai.name"] == "adult-small"
    assert found.info.run_id == summary["mlflow"]["mlflow_run_id"]


def test_rai_run_mlflow_overrides_the_spec_and_reports_a_failed_mirror_as_a_warning(project, rai_cli):
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        uri = f"http://127.0.0.1:{closed.getsockname()[1]}"  # bound, never listening: connection refused
        code, out, err = rai_cli("run", "pipeline.yaml", "--until", "ingest", "--workspace", "ws", "--mlflow", uri)
    assert code == 0
    assert "warning: run " in err and "was not mirrored to MLflow" in err and "rai mlflow sync" in err
    run_id = err.split("warning: run ")[1].split()[0]
    failed = trail_events(run_id, "ws")[-1]
    assert failed.kind == "mlflow.mirror_failed" and failed.payload["tracking_uri"] == uri
    assert failed.payload["experiment"] == "adult-small" and failed.payload["register"] is False


def test_a_run_stopped_while_mirroring_is_pending_and_synced_later(mlflow_server, workdir, data, rai_cli, monkeypatch):
    import lifecycle.mlflow_sync

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt  # Ctrl+C while the finished run was being mirrored

    with monkeypatch.context() as patched, pytest.raises(KeyboardInterrupt):
        patched.setattr(lifecycle.mlflow_sync, "mirror_run", interrupted)
        with rai.start_run("credit-scoring", policy="policy.yaml", mlflow=tracked(mlflow_server)) as run:
            evaluate(run, data)
    assert run.decision == "passed" and [e.kind for e in trail_events(run.run_id)][-1] == "run.finished"
    code, out, err = rai_cli("mlflow", "sync", "--pending")
    assert code == 0, err
    assert f"mirrored {run.run_id} to MLflow run " in out
    assert mlflow_run(mlflow_server, run.run_id).data.tags["rai.decision"] == "passed"
