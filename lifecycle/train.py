"""Train the MLP of :mod:`lifecycle.model`, optionally with DP-SGD, deterministically on CPU.

The preprocessing layers have no trainable weights, so the rows are encoded once with the
model's own "preprocess" part and the "core" is fitted on the encoded floats; the returned
model shares the core's weights and still takes raw columns. Encoding once keeps string lookups
out of every epoch and gives DP-SGD a plain float model to take per-example gradients of.

Input pipeline: ``tf.data`` cached tensors, reshuffled each epoch with the run's seed, batched
(with ``autotune.min_parallelism`` so autotuned batching starts parallel instead of warming up)
and prefetched. DP-SGD drops the last partial batch, so every step has the batch size (and
microbatch count) that the accounting assumes; see :mod:`lifecycle.privacy`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from lifecycle import tfcompat
from lifecycle.data import Dataset
from lifecycle.model import build_model, core_model, encode_features
from lifecycle.privacy import dp_model, plan_privacy
from lifecycle.spec import ModelSpec, PrivacySpec

EpochCallback = Callable[[int, dict[str, float]], None]


@dataclass
class TrainResult:
    """A trained model and how it was trained.

    Attributes
    ----------
    model : ``tf_keras.Model`` from raw columns to the positive-class probability
    history : per-epoch ``loss`` and ``accuracy`` on the training data
    wall_time_s : seconds spent planning the privacy budget, encoding and fitting
    privacy : the DP-SGD record (see :func:`lifecycle.privacy.plan_privacy`); ``{"dp": False}``
        without DP
    """

    model: Any
    history: dict[str, list[float]] = field(default_factory=dict)
    wall_time_s: float = 0.0
    privacy: dict[str, Any] = field(default_factory=lambda: {"dp": False})


def train(
    dataset: Dataset,
    model_spec: ModelSpec,
    privacy_spec: PrivacySpec | None = None,
    seed: int = 42,
    on_epoch: EpochCallback | None = None,
) -> TrainResult:
    """Fit a model on ``dataset.train``; with ``privacy_spec.dp``, by DP-SGD.

    Parameters
    ----------
    dataset : ingested data (features, 0/1 target)
    model_spec : architecture and optimization settings
    privacy_spec : DP-SGD settings; ``None`` or ``dp: false`` trains without DP
    seed : fixes weight initialization, shuffling and DP noise: same seed, same model
    on_epoch : called after each epoch with ``(epoch, logs)``, epoch counted from 1

    Raises
    ------
    UserError
        DP settings that cannot be met (see :func:`lifecycle.privacy.plan_privacy`).
    """
    started = time.perf_counter()
    # Accounting first: an unreachable budget fails before any TensorFlow work.
    record = plan_privacy(
        privacy_spec or PrivacySpec(), len(dataset.train), model_spec.batch_size, model_spec.epochs
    )
    keras = tfcompat.keras()
    tfcompat.seed_everything(seed)
    model = build_model(dataset.train, dataset.numeric_features, dataset.categorical_features, model_spec)
    features = encode_features(model, dataset.train)
    labels = dataset.train[dataset.target].to_numpy(dtype=np.float32).reshape(-1, 1)
    # The trainer shares the core's layers but is a model of its own, so the core (and the saved
    # model) carries no optimizer state and, with DP-SGD, no tensorflow-privacy class.
    core = core_model(model)
    trainer = (
        dp_model(core, record) if record["dp"] else keras.Model(core.inputs, core.outputs, name="trainer")
    )
    trainer.compile(
        optimizer=_optimizer(keras, model_spec),
        loss=keras.losses.BinaryCrossentropy(),
        metrics=[keras.metrics.BinaryAccuracy(name="accuracy")],
    )
    batches = _batches(features, labels, model_spec.batch_size, seed, drop_remainder=record["dp"])
    fit = trainer.fit(batches, epochs=model_spec.epochs, verbose=0, callbacks=_callbacks(keras, on_epoch))
    history = {k: [float(v) for v in values] for k, values in fit.history.items()}
    return TrainResult(
        model=model, history=history, wall_time_s=time.perf_counter() - started, privacy=record
    )


def _optimizer(keras: Any, spec: ModelSpec) -> Any:
    if spec.optimizer == "sgd":
        return keras.optimizers.SGD(learning_rate=spec.learning_rate, momentum=0.9)
    return keras.optimizers.Adam(learning_rate=spec.learning_rate)


def _batches(
    features: np.ndarray, labels: np.ndarray, batch_size: int, seed: int, drop_remainder: bool
) -> Any:
    tf = tfcompat.tensorflow()
    data = tf.data.Dataset.from_tensor_slices((features, labels)).cache()
    data = data.shuffle(len(labels), seed=seed, reshuffle_each_iteration=True)
    data = data.batch(batch_size, drop_remainder=drop_remainder, num_parallel_calls=tf.data.AUTOTUNE)
    options = tf.data.Options()
    options.deterministic = True
    options.autotune.min_parallelism = 2  # TF >= 2.20: start parallel, skip the slow ramp-up
    return data.prefetch(tf.data.AUTOTUNE).with_options(options)


def _callbacks(keras: Any, on_epoch: EpochCallback | None) -> list[Any]:
    if on_epoch is None:
        return []

    def report(epoch: int, logs: dict[str, Any] | None) -> None:
        on_epoch(epoch + 1, {k: float(v) for k, v in (logs or {}).items()})

    return [keras.callbacks.LambdaCallback(on_epoch_end=report)]
