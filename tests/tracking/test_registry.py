"""Signed registry entries in MLflow's Model Registry; governed promotion; checking the registry.

Models are registered by ``rai.start_run(..., mlflow_registry=True)`` runs (the committed Keras
fixture model, so no TensorFlow), against the session's real MLflow server. Each test uses its
own model name.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlparse

import pytest

import rai
from governance.manifest import verify_manifest
from governance.trail.signing import KeyRing
from lifecycle.mlflow_config import MirrorWarning
from tracking.conftest import (
    APPROVALS,
    POLICY,
    SERVE_FIXTURES,
    SavedKerasModel,
    tracked,
    trail_events,
    unfair,
)

pytestmark = pytest.mark.mlflow


def register(server, name: str, data, **run_options):
    """A passing run that registers the fixture model as ``name``; returns the finished run."""
    with rai.start_run(name, policy="policy.yaml", mlflow=tracked(server), mlflow_registry=True,
                       metadata={"owner": "risk team"}, **run_options) as run:
        run.gate("evaluate", predictions=rai.Predictions(data["y"], data["pred"], data["sex"]))
        run.register(SavedKerasModel())
    assert run.mirror.ok, run.mirror
    return run


def entry_path(server, name: str, version: int, file: str) -> Path:
    """Where MLflow's local artifact store keeps ``file`` of a model version (to tamper with it)."""
    source = server.client().get_model_version(name, str(version)).source
    return Path(urlparse(source).path) / file


def test_a_registered_model_reaches_mlflow_signed_and_tagged_then_is_promoted_and_pulled(
        mlflow_server, workdir, data, rai_cli):
    run = register(mlflow_server, "credit-a", data)
    assert run.mirror.registered["version"] == 1
    client = mlflow_server.client()
    version = client.get_model_version("credit-a", "1")
    events = trail_events(run.run_id)
    registered = next(e.payload for e in events if e.kind == "model.registered")
    assert version.tags["rai.run_id"] == run.run_id and version.tags["rai.decision"] == "passed"
    assert version.tags["rai.policy.sha256"] == events[0].payload["policy"]["sha256"]
    assert version.tags["rai.manifest_sha256"] == registered["manifest_sha256"] and version.tags["rai.epsilon"] == "none"
    assert version.run_id == run.mirror.mlflow_run_id
    assert [e.kind for e in events][-3:] == ["run.finished", "mlflow.model_registered", "mlflow.mirrored"]
    # the files in MLflow are the signed entry, byte for byte
    downloaded = Path(client.download_artifacts(version.run_id, "model", str(workdir / "download")))
    assert verify_manifest(downloaded, KeyRing(Path(".rai/keys")).trusted()).ok
    assert (downloaded / "model.keras").read_bytes() == (SERVE_FIXTURES / "model.keras").read_bytes()

    code, out, err = rai_cli("promote", "credit-a", "1", "--mlflow", mlflow_server.uri)
    assert code == 0, err
    assert out.startswith("promoted credit-a v1 to 'champion': rai run " + run.run_id)
    assert client.get_model_version_by_alias("credit-a", "champion").version == "1"
    promoted = trail_events(run.run_id)[-1]
    assert promoted.kind == "model.promoted" and promoted.payload["previous_version"] is None
    assert (promoted.payload["name"], promoted.payload["version"], promoted.payload["alias"]) == ("credit-a", 1, "champion")

    code, out, err = rai_cli("verify-registry", "--name", "credit-a", "--mlflow", mlflow_server.uri)
    assert code == 0, out + err
    assert out.splitlines()[0] == f"ok   credit-a v1 [champion]: rai run {run.run_id}"

    code, out, err = rai_cli("mlflow", "pull", "models:/credit-a@champion", "--into", "pulled", "--mlflow",
                             mlflow_server.uri)
    assert code == 0, err
    assert verify_manifest(Path("pulled/credit-a/1"), KeyRing(Path(".rai/keys")).trusted()).ok
    assert "rai monitor BATCH --model credit-a --version 1 --registry pulled" in out
    assert rai.verify_trail(".rai").ok


def test_promotion_waits_for_the_approvals_and_refuses_a_rejected_run(mlflow_server, workdir, data, rai_cli):
    Path("policy.yaml").write_text(POLICY + APPROVALS)
    with pytest.raises(rai.GateBlocked):
        register(mlflow_server, "credit-b", data)
    with rai.open_trail(".rai") as trail:
        (run_id,) = trail.runs()
    first = [e for e in trail_events(run_id) if e.kind == "mlflow.mirrored"]
    assert first[-1].payload["registered"] is None  # awaiting approval: mirrored, nothing registered
    assert rai_cli("approve", run_id, "--role", "risk", "--decision", "approve", "--actor", "rita")[0] == 0
    run = register(mlflow_server, "credit-b", data, resume=run_id)
    assert run.run_id == run_id and run.mirror.registered["version"] == 1
    assert run.mirror.mlflow_run_id == first[-1].payload["mlflow_run_id"]  # the same MLflow run, updated

    uri = ("--mlflow", mlflow_server.uri)
    code, _, err = rai_cli("promote", "credit-b", "1", "--require-approval", "release", *uri)
    assert code == 1
    assert err == ("error: refusing to promote credit-b v1 to 'champion': promotion-sign-off: release has 0 of 1 "
                   "approvals\n")
    assert "model.promoted" not in [e.kind for e in trail_events(run_id)]
    code, _, err = rai_cli("approve", run_id, "--role", "release", "--decision", "approve", "--actor", "rene")
    assert code == 0, err
    assert rai_cli("promote", "credit-b", "1", "--require-approval", "release", *uri)[0] == 0

    assert rai_cli("approve", run_id, "--role", "risk", "--decision", "reject", "--comment", "bias found",
                   "--actor", "rita")[0] == 0
    code, _, err = rai_cli("promote", "credit-b", "1", "--alias", "challenger", *uri)
    assert code == 1 and err.startswith(f"error: refusing to promote credit-b v1 to 'challenger': run {run_id} "
                                        "was rejected by risk")
    assert err.count("\n") == 1


def test_a_blocked_version_registered_around_rai_is_refused_and_reported(mlflow_server, workdir, data, rai_cli):
    uri = ("--mlflow", mlflow_server.uri)
    good = register(mlflow_server, "credit-c", data)
    assert rai_cli("promote", "credit-c", "1", *uri)[0] == 0
    with pytest.raises(rai.GateBlocked):
        with rai.start_run("credit-c", policy="policy.yaml", mlflow=tracked(mlflow_server)) as blocked:
            blocked.gate("evaluate", predictions=rai.Predictions(data["y"], unfair(data), data["sex"]))
    client = mlflow_server.client()
    first = client.get_model_version("credit-c", "1")
    client.create_model_version("credit-c", first.source, run_id=first.run_id,  # around rai: v2, the blocked run's
                                tags={"rai.run_id": blocked.run_id}, await_creation_for=0)

    code, _, err = rai_cli("promote", "credit-c", "2", *uri)
    assert code == 1 and err.count("\n") == 1
    assert err.startswith(f"error: refusing to promote credit-c v2 to 'champion': its rai run {blocked.run_id} "
                          "finished 'blocked' at evaluate (four-fifths-sex")
    assert client.get_model_version_by_alias("credit-c", "champion").version == "1"

    code, out, _ = rai_cli("verify-registry", "--name", "credit-c", *uri)
    lines = out.splitlines()
    assert code == 1 and lines[0] == f"ok   credit-c v1 [champion]: rai run {good.run_id}"
    assert lines[1].startswith(f"FAIL credit-c v2: its rai run {blocked.run_id} finished 'blocked'")
    assert "registered outside rai" in out and lines[-1] == "2 versions checked, 1 not governed"

    client.set_registered_model_alias("credit-c", "champion", "2")  # the alias moved outside rai promote
    code, out, _ = rai_cli("verify-registry", "--name", "credit-c", *uri)
    assert code == 1 and "alias 'champion' points here, but rai promote last moved it to v1" in out


def test_files_changed_in_mlflow_are_reported_refused_and_never_pulled(mlflow_server, workdir, data, rai_cli):
    uri = ("--mlflow", mlflow_server.uri)
    register(mlflow_server, "credit-d", data)
    entry_path(mlflow_server, "credit-d", 1, "model.keras").write_bytes(b"not the model that was audited")
    first = mlflow_server.client().get_model_version("credit-d", "1")
    mlflow_server.client().create_model_version("credit-d", first.source, run_id=first.run_id,
                                                await_creation_for=0)  # no rai tags at all

    code, out, _ = rai_cli("verify-registry", "--name", "credit-d", *uri)
    assert code == 1
    assert "FAIL credit-d v1: files in MLflow: model.keras: sha256 differs from the manifest" in out
    assert "FAIL credit-d v2: not registered by rai (no rai.run_id tag)" in out
    code, _, err = rai_cli("promote", "credit-d", "1", *uri)
    assert code == 1 and "model.keras: sha256 differs from the manifest" in err
    code, _, err = rai_cli("mlflow", "pull", "models:/credit-d/1", "--into", "pulled", *uri)
    assert code == 2 and "refusing the download: model.keras: sha256 differs" in err
    assert [p.name for p in Path("pulled").iterdir()] == []


def test_the_champion_is_the_baseline_a_policy_can_compare_with(mlflow_server, workdir, data, rai_cli):
    from governance.workspace import Workspace
    from lifecycle.mlflow_config import Tracking, tracking_spec
    from lifecycle.mlflow_registry import champion

    run = register(mlflow_server, "credit-e", data)
    assert rai_cli("promote", "credit-e", "1", "--mlflow", mlflow_server.uri)[0] == 0
    baseline = champion(Tracking(tracking_spec(mlflow_server.uri, "--mlflow"), ""), "credit-e", Workspace.at(".rai"))
    assert baseline.rai_run_id == run.run_id and baseline.mlflow_version == 1
    assert baseline.entry.body["metrics"]["performance"]["accuracy"] == pytest.approx(
        float((data["y"] == data["pred"]).mean()))
    assert (baseline.entry.dir / "manifest.json").is_file()


def test_an_entry_changed_on_disk_after_registration_never_reaches_mlflow(mlflow_server, workdir, data, rai_cli):
    """MLflow down at the end of the run; before the retry the local entry's model file is swapped."""
    with pytest.warns(MirrorWarning):
        with rai.start_run("credit-f", policy="policy.yaml", mlflow_registry=True,
                           mlflow={"mlflow": "http://127.0.0.1:9", "attempts": 1}) as run:
            run.gate("evaluate", predictions=rai.Predictions(data["y"], data["pred"], data["sex"]))
            entry = run.register(SavedKerasModel())
    assert run.decision == "passed" and not run.mirror.ok
    (entry.dir / "model.keras").write_bytes(b"swapped after the deploy gate")

    code, _, err = rai_cli("mlflow", "sync", run.run_id, "--mlflow", mlflow_server.uri)
    assert code == 1
    assert f"not mirrored {run.run_id}: {entry.dir.resolve()}: not registering credit-f v1 in MLflow: model.keras: sha256 " \
           "differs from the manifest (file modified or replaced)" in err
    assert mlflow_server.client().search_registered_models(filter_string="name = 'credit-f'") == []
    failed = trail_events(run.run_id)[-1]
    assert failed.kind == "mlflow.mirror_failed" and failed.payload["tracking_uri"] == mlflow_server.uri


def test_a_promotion_the_trail_cannot_record_puts_the_alias_back(mlflow_server, workdir, data, rai_cli, monkeypatch):
    from governance.trail.trail import Trail

    uri = ("--mlflow", mlflow_server.uri)
    register(mlflow_server, "credit-g", data)
    register(mlflow_server, "credit-g", data)
    assert rai_cli("promote", "credit-g", "1", *uri)[0] == 0
    append = Trail.append

    def failing(self, kind, *args, **kwargs):
        if kind == "model.promoted":
            raise OSError(28, "No space left on device")
        return append(self, kind, *args, **kwargs)

    monkeypatch.setattr(Trail, "append", failing)
    with pytest.raises(OSError):
        rai_cli("promote", "credit-g", "2", *uri)
    assert mlflow_server.client().get_model_version_by_alias("credit-g", "champion").version == "1"
