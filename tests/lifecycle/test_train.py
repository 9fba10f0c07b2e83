"""Training: same seed, same model; DP-SGD records the epsilon the accountants give for its parameters."""

from __future__ import annotations

import numpy as np
import pytest

from governance.errors import UserError
from governance.metrics.privacy import dp_sgd_epsilon, dp_sgd_steps
from lifecycle import tfcompat
from lifecycle.model import score
from lifecycle.spec import ModelSpec, PrivacySpec
from lifecycle.train import train

from .conftest import SMALL_MODEL

pytestmark = pytest.mark.tf


def test_same_seed_gives_identical_predictions(trained, adult_small):
    epochs = []
    again = train(
        adult_small, SMALL_MODEL, seed=7, on_epoch=lambda epoch, logs: epochs.append((epoch, sorted(logs)))
    )
    np.testing.assert_array_equal(
        score(again.model, adult_small.test), score(trained.model, adult_small.test)
    )
    assert again.history == trained.history
    assert epochs == [(1, ["accuracy", "loss"]), (2, ["accuracy", "loss"])]
    assert trained.privacy == {"dp": False}
    other = train(adult_small, SMALL_MODEL.model_copy(update={"epochs": 1}), seed=8)
    assert not np.array_equal(score(other.model, adult_small.test), score(trained.model, adult_small.test))


def test_dp_training_meets_a_target_epsilon_calibrated_before_training(adult_small):
    spec = ModelSpec(hidden_units=[16], epochs=2, batch_size=100, learning_rate=3e-3)
    result = train(
        adult_small, spec, PrivacySpec(dp=True, target_epsilon=1.0, delta=1e-5, l2_norm_clip=0.5), seed=1
    )
    record, examples = result.privacy, len(adult_small.train)
    assert record["dp"] and record["accountant"] == "rdp" and record["microbatches"] == 100
    assert (record["examples"], record["batch_size"], record["epochs"]) == (examples, 100, 2)
    assert record["sampling_rate"] == 100 / examples
    assert record["steps"] == dp_sgd_steps(examples, 100, 2) == 40
    noise, q = record["noise_multiplier"], record["sampling_rate"]
    assert record["epsilon"] == dp_sgd_epsilon(noise, q, 40, 1e-5, accountant="rdp")
    assert record["epsilon_pld"] == dp_sgd_epsilon(noise, q, 40, 1e-5, accountant="pld")
    assert 0.99 <= record["epsilon"] <= 1.0 and record["epsilon_pld"] < record["epsilon"]
    # The figure tensorflow-privacy itself reports for these parameters.
    tf_privacy, _ = tfcompat.privacy().compute_dp_sgd_privacy_lib.compute_dp_sgd_privacy(
        examples, 100, noise, 2, 1e-5
    )
    assert record["epsilon"] == pytest.approx(tf_privacy, rel=1e-9)
    assert len(result.history["loss"]) == 2 and np.isfinite(result.history["loss"]).all()


def test_dp_with_a_fixed_noise_multiplier_and_microbatches(adult_small):
    spec = ModelSpec(hidden_units=[8], epochs=1, batch_size=100)
    privacy = PrivacySpec(dp=True, noise_multiplier=4.0, microbatches=25)
    record = train(adult_small, spec, privacy, seed=1).privacy
    assert record["noise_multiplier"] == 4.0 and record["microbatches"] == 25
    # Microbatches of four examples double the sensitivity: accounted as half the noise.
    assert record["epsilon"] == dp_sgd_epsilon(2.0, record["sampling_rate"], record["steps"], 1e-5)
    with pytest.raises(UserError, match=r"^privacy.microbatches 30 must divide model.batch_size 100$"):
        train(adult_small, spec, privacy.model_copy(update={"microbatches": 30}), seed=1)


def test_dropout_turns_off_fast_clipping(adult_small):
    from lifecycle.model import build_model, core_model
    from lifecycle.privacy import dp_model, plan_privacy

    record = plan_privacy(PrivacySpec(dp=True, noise_multiplier=2.0), 2000, 100, 1)
    fast = {}
    for dropout in (0.0, 0.2):
        spec = ModelSpec(hidden_units=[8], dropout=dropout)
        model = build_model(
            adult_small.train, adult_small.numeric_features, adult_small.categorical_features, spec
        )
        fast[dropout] = dp_model(core_model(model), record)._enable_fast_peg_computation
    # Two forward passes with different dropout masks would clip the wrong gradients.
    assert fast == {0.0: True, 0.2: False}


def test_a_users_keras_seed_earlier_in_the_process_does_not_change_the_model(trained, adult_small):
    # A script or notebook that called keras.utils.set_random_seed and built a model first.
    from lifecycle.tfcompat import keras

    keras().utils.set_random_seed(123)
    keras().layers.Dense(4).build((None, 3))
    again = train(adult_small, SMALL_MODEL, seed=7)
    np.testing.assert_array_equal(score(again.model, adult_small.test), score(trained.model, adult_small.test))
