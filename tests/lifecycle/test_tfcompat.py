"""The TensorFlow import switches: Keras 2 as tf.keras, tensorflow-privacy without tensorflow_estimator."""

from __future__ import annotations

import sys

import pytest

from lifecycle import tfcompat

pytestmark = pytest.mark.tf


def test_dp_modules_import_without_tensorflow_estimator():
    tfp = tfcompat.privacy()
    assert "tensorflow_privacy.privacy.optimizers.dp_optimizer_keras" in sys.modules
    assert "tensorflow_estimator" not in sys.modules
    assert tfp.optimizers.DPKerasAdamOptimizer is not None
    # Keras 2 everywhere: tensorflow-privacy's classes build on the same Keras as our models.
    assert tfcompat.tensorflow().keras.__name__.startswith("tf_keras")
    assert issubclass(tfp.DPModel, tfcompat.keras().Model)


def test_seeding_makes_random_draws_repeat():
    tf = tfcompat.tensorflow()
    tfcompat.seed_everything(3)
    first = tf.random.normal([4]).numpy()
    tfcompat.seed_everything(3)
    assert (tf.random.normal([4]).numpy() == first).all()
