"""A whole pipeline run with ``deploy.target: mlflow`` (TensorFlow): Keras and LiteRT in MLflow's registry,
promoted to champion, pulled back and re-gated on new data with ``rai monitor``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from governance.manifest import verify_manifest
from governance.trail.signing import KeyRing
from tracking.conftest import mlflow_run, trail_events

pytestmark = [pytest.mark.mlflow, pytest.mark.tf]


def test_a_pipeline_deploys_to_mlflow_and_its_champion_is_re_gated_on_new_data(mlflow_server, project, rai_cli):
    spec = Path("pipeline.yaml").read_text().replace("  model_name: adult-small\n",
                                                     "  model_name: adult-small\n  target: mlflow\n")
    Path("pipeline.yaml").write_text(spec + f"tracking: {{mlflow: '{mlflow_server.uri}', experiment: adult-tf}}\n")
    code, out, err = rai_cli("run", "pipeline.yaml", "--workspace", "ws", "--json")
    assert code == 0, err
    summary = json.loads(out)
    assert summary["decision"] == "passed" and summary["mlflow"]["status"] == "mirrored"
    assert summary["mlflow"]["registered"]["version"] == 1
    found = mlflow_run(mlflow_server, summary["run_id"], "adult-tf")
    evaluate = next(s for s in summary["stages"] if s["stage"] == "evaluate")
    assert found.data.metrics["evaluate/accuracy"] == pytest.approx(evaluate["metrics"]["accuracy"], abs=1e-12)
    assert found.data.metrics["optimize/dynamic_range.size_bytes"] == next(
        v["size_bytes"] for v in summary["variants"] if v["mode"] == "dynamic_range")
    assert found.data.tags["rai.gate.deploy"] == "passed" and found.data.tags["rai.deployed"] == "adult-small v1"

    client = mlflow_server.client()
    version = client.get_model_version("adult-small", "1")
    assert (version.tags["rai.variant"], version.tags["rai.format"]) == ("dynamic_range", "litert")
    assert version.tags["rai.model_sha256"] == summary["deployed"]["model_sha256"]
    files = {a.path.split("/")[-1] for a in client.list_artifacts(version.run_id, "model")}
    assert {"model.tflite", "preprocess.keras", "manifest.json", "model_card.json",
            "reference_predictions.parquet"} <= files

    uri = ("--mlflow", mlflow_server.uri, "--workspace", "ws")
    code, out, err = rai_cli("promote", "adult-small", "1", *uri)
    assert code == 0, err
    code, out, err = rai_cli("mlflow", "pull", "models:/adult-small@champion", "--into", "champion", *uri)
    assert code == 0, err
    assert verify_manifest(Path("champion/adult-small/1"), KeyRing(Path("ws/keys")).trusted()).ok
    code, out, err = rai_cli("monitor", "test.csv", "--model", "adult-small", "--registry", "champion",
                             "--workspace", "ws", "--json")
    assert code == 0, err
    monitored = json.loads(out)
    assert monitored["model"]["name"] == "adult-small" and monitored["batch"]["rows"] == 1000
    assert [e.kind for e in trail_events(monitored["run_id"], "ws")][0] == "drift.checked"
