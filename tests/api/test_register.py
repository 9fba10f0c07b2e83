"""``run.optimize`` and ``run.register`` on a user's own Keras model: variants, gates, signed entries."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")

import rai
from governance.manifest import verify_manifest
from governance.trail.signing import KeyRing

pytestmark = pytest.mark.tf

POLICY = """\
policy: register-test
version: '1'
owner: qa
fail_on: high
rules:
  - {id: litert-accuracy-drop, check: optimize.accuracy_drop, stage: optimize, severity: high, params: {max: 0.02}}
  - {id: lineage, check: accountability.lineage_recorded, stage: deploy, severity: high,
     params: {require: [datasets, model]}}
"""
APPROVALS = "  - {id: sign-off, check: accountability.approvals, stage: deploy, severity: high, params: {roles: [risk]}}\n"


@pytest.fixture(scope="module")
def trained():
    import tf_keras as keras

    rng = np.random.default_rng(0)
    x = rng.normal(size=(1500, 4)).astype("float32")
    y = (x[:, 0] - x[:, 1] > 0).astype(int)
    sex = np.where(rng.random(1500) < 0.5, "f", "m")
    keras.utils.set_random_seed(2)
    model = keras.Sequential([keras.layers.Input(shape=(4,)), keras.layers.Dense(8, activation="relu"),
                              keras.layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer=keras.optimizers.Adam(0.02), loss="binary_crossentropy")
    model.fit(x[:1000], y[:1000], epochs=5, batch_size=50, verbose=0)
    return model, x, y, sex


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return tmp_path


def evaluation(trained):
    _, x, y, sex = trained
    return x[1000:], y[1000:], sex[1000:]


def test_optimize_then_register_writes_a_verified_signed_entry(trained, workdir):
    Path("policy.yaml").write_text(POLICY)
    model, x, *_ = trained
    with rai.start_run("own-model", policy="policy.yaml") as run:
        run.add_dataset("train", x[:1000])
        variants = run.optimize(model, modes=["dynamic_range", "int8"], representative_data=x[:200],
                                evaluation_data=evaluation(trained))
        assert set(variants) == {"dynamic_range", "int8"}
        int8 = variants["int8"]
        assert int8.size_bytes > 0 and int8.path.is_file() and int8.result.decision == "passed"
        entry = run.register(int8)
    assert run.decision == "passed" and run.deployed["version"] == entry.version == 1
    check = verify_manifest(entry.dir, KeyRing(Path(".rai/keys")).trusted())
    assert check.ok, check.problems
    assert entry.body["model_sha256"] == int8.sha256 and entry.body["name"] == "own-model"
    assert rai.verify_trail(".rai").ok


def test_register_waits_for_approval_and_refuses_bad_input(trained, workdir):
    Path("policy.yaml").write_text(POLICY + APPROVALS)
    model, x, *_ = trained
    with pytest.raises(rai.GateBlocked) as caught:
        with rai.start_run("own-model", policy="policy.yaml") as run:
            run.add_dataset("train", x[:1000])
            with pytest.raises(rai.UserError, match="name: a model name"):
                run.register(model, name="../escape")
            with pytest.raises(rai.UserError, match="modes: unknown LiteRT mode 'int4'"):
                run.optimize(model, modes=["int4"], evaluation_data=evaluation(trained))
            run.register(model)
    assert caught.value.result.blocking[0].rule_id == "sign-off"
    assert run.decision == "awaiting_approval" and run.deployed is None
    assert not Path(".rai/registry/own-model").exists()


def test_a_blocked_variant_cannot_be_registered(trained, workdir):
    strict = POLICY + ("  - {id: tiny, check: optimize.size_ratio, stage: optimize, severity: high, "
                       "params: {max: 0.01}}\n")
    Path("policy.yaml").write_text(strict)
    model, x, *_ = trained
    with rai.start_run("own-model", policy="policy.yaml") as run:
        variants = run.optimize(model, modes=["dynamic_range"], evaluation_data=evaluation(trained))
        assert variants["dynamic_range"].blocked
        assert [f.rule_id for f in variants["dynamic_range"].result.blocking] == ["tiny"]
        with pytest.raises(rai.GateBlocked):
            run.register(variants["dynamic_range"])
    assert run.decision == "blocked" and run.deployed is None
