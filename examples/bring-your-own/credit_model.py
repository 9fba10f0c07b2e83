"""The team's own model for rai's pipeline: ``model.builder: "credit_model:build"`` in ``pipeline.yaml``.

rai imports this module (from the spec's directory) and calls ``build(inputs, features)`` with
the preprocessed inputs (normalized numbers and one-hot categories, made by layers inside the
exported model) and a description of them. The function returns a Keras model from those inputs
to the task's output: here one sigmoid unit, the probability of an income over $50K. It compiles
the model itself, so its optimizer and loss train it (the spec's ``model.optimizer`` and
``model.learning_rate`` are then left out).
"""

from __future__ import annotations

from typing import Any


def build(inputs: Any, features: dict[str, Any]) -> Any:
    """A residual-free two-layer network with batch normalisation, on rai's preprocessed inputs."""
    import tf_keras as keras

    hidden = keras.layers.Dense(48, activation="relu", name="team_dense")(inputs)
    hidden = keras.layers.BatchNormalization(name="team_norm")(hidden)
    hidden = keras.layers.Dense(16, activation="relu", name="team_bottleneck")(hidden)
    output = keras.layers.Dense(features["outputs"], activation="sigmoid", name="income_over_50k")(hidden)
    model = keras.Model(inputs, output, name="team_model")
    model.compile(optimizer=keras.optimizers.Adam(2e-3), loss="binary_crossentropy")
    return model
