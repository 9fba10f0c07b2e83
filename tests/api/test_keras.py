"""``rai.keras.GovernanceCallback`` in real Keras training (small models, a few epochs)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")


pytestmark = pytest.mark.tf

POLICY = """\
policy: keras-test
version: '1'
owner: qa
fail_on: high
rules:
  - {id: accuracy-floor, check: performance.metric, stage: evaluate, severity: high,
     params: {metric: accuracy, min: MIN}}
  - {id: budget, check: privacy.epsilon_budget, stage: train, severity: high,
     params: {max_epsilon: 50}}
"""


@pytest.fixture
def data(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(1200, 4)).astype("float32")
    y = (x[:, 0] + 0.3 * rng.normal(size=1200) > 0).astype(int)
    sex = np.where(rng.random(1200) < 0.5, "f", "m")
    return x, y, sex


def model(optimizer=None):
    import tf_keras as keras

    keras.utils.set_random_seed(1)
    net = keras.Sequential([keras.layers.Input(shape=(4,)), keras.layers.Dense(1, activation="sigmoid")])
    net.compile(optimizer=optimizer or keras.optimizers.Adam(0.05), loss="binary_crossentropy")
    return net


def policy(minimum: float, privacy: bool = False) -> str:
    text = POLICY.replace("MIN", str(minimum))
    if not privacy:
        text = text[: text.index("  - {id: budget")]
    Path("policy.yaml").write_text(text)
    return "policy.yaml"


def test_callback_records_gates_every_n_epochs_and_at_the_end(data):
    import rai.keras

    x, y, sex = data
    with rai.start_run("cb", policy=policy(0.6)) as run:
        callback = rai.keras.GovernanceCallback(run, (x[1000:], y[1000:]), sex[1000:], every_n_epochs=2)
        model().fit(x[:1000], y[:1000], epochs=5, batch_size=100, verbose=0, callbacks=[callback])
    assert [r.decision for r in callback.results] == ["passed"] * 3  # epochs 2 and 4, then the end
    with rai.open_trail(".rai") as trail:
        gates = trail.events(run_id=run.run_id, kind="gate.decided")
    assert len(gates) == 3 and run.decision == "passed"


def test_a_blocking_gate_stops_training_and_raises(data):
    import rai.keras

    x, y, sex = data
    callback = rai.keras.GovernanceCallback(policy(0.99), (x[1000:], y[1000:]), sex[1000:], every_n_epochs=1)
    net = model()
    with pytest.raises(rai.GateBlocked) as caught:
        history = net.fit(x[:1000], y[:1000], epochs=20, batch_size=100, verbose=0, callbacks=[callback])
        assert history  # pragma: no cover
    assert caught.value.result.blocking[0].rule_id == "accuracy-floor"
    assert len(callback.results) == 1  # training stopped after the first blocked epoch


def test_dp_parameters_come_from_the_tensorflow_privacy_optimizer(data):
    import sys

    import rai.keras

    sys.skip_tf_privacy_import = True
    from tensorflow_privacy.privacy.analysis.compute_dp_sgd_privacy_lib import compute_dp_sgd_privacy
    from tensorflow_privacy.privacy.optimizers.dp_optimizer_keras import DPKerasSGDOptimizer

    x, y, sex = data
    optimizer = DPKerasSGDOptimizer(l2_norm_clip=1.0, noise_multiplier=1.1, num_microbatches=100, learning_rate=0.1)
    net = model(optimizer)
    net.compile(optimizer=optimizer, loss=__import__("tf_keras").losses.BinaryCrossentropy(
        reduction=__import__("tf_keras").losses.Reduction.NONE))
    callback = rai.keras.GovernanceCallback(policy(0.5, privacy=True), (x[1000:], y[1000:]), sex[1000:],
                                            stage="train", examples=1000)
    net.fit(x[:1000], y[:1000], epochs=3, batch_size=100, verbose=0, callbacks=[callback])
    finding = next(f for f in callback.results[-1].findings if f.rule_id == "budget")
    expected, _ = compute_dp_sgd_privacy(1000, 100, 1.1, 3, 1e-5)
    assert finding.observed == pytest.approx(expected, rel=1e-6)
    assert callback.results[-1].decision == "passed" and [f.rule_id for f in callback.results[-1].findings] == ["budget"]
