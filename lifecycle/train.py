"""Train a model of :mod:`lifecycle.model` for its task, optionally with DP-SGD, deterministically on CPU.

The core is the spec's MLP or the user's own (``builder``, see :mod:`lifecycle.modelsource`);
the loss follows the task: binary cross-entropy on the sigmoid score, sparse categorical
cross-entropy on the softmax (multiclass), mean squared error for regression (the MLP fits the
standardized target; its output layer puts predictions back in the target's units).

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
from lifecycle.model import (
    STANDARDIZED,
    Head,
    assemble,
    build_preprocess,
    core_model,
    encode_features,
    mlp_core,
)
from lifecycle.privacy import dp_model, plan_privacy
from lifecycle.spec import ModelSpec, PrivacySpec, SpecFieldError

EpochCallback = Callable[[int, dict[str, float]], None]


@dataclass
class TrainResult:
    """A trained model and how it was trained.

    Attributes
    ----------
    model : ``tf_keras.Model`` from raw columns to the task's output (see :class:`lifecycle.model.Head`)
    history : per-epoch ``loss`` and ``accuracy`` (``mae`` for regression) on the training data
    wall_time_s : seconds spent planning the privacy budget, encoding and fitting
    privacy : the DP-SGD record (see :func:`lifecycle.privacy.plan_privacy`); ``{"dp": False}``
        without DP
    """

    model: Any
    history: dict[str, list[float]] = field(default_factory=dict)
    wall_time_s: float = 0.0
    privacy: dict[str, Any] = field(default_factory=lambda: {"dp": False})
    compiled_by: str = "spec"


def train(
    dataset: Dataset,
    model_spec: ModelSpec,
    privacy_spec: PrivacySpec | None = None,
    seed: int = 42,
    on_epoch: EpochCallback | None = None,
    builder: tuple[str, Callable[..., Any]] | None = None,
) -> TrainResult:
    """Fit a model on ``dataset.train`` for its task; with ``privacy_spec.dp``, by DP-SGD.

    Parameters
    ----------
    dataset : ingested data (features, target coded for ``dataset.task``)
    model_spec : architecture and optimization settings
    privacy_spec : DP-SGD settings; ``None`` or ``dp: false`` trains without DP
    seed : fixes weight initialization, shuffling and DP noise: same seed, same model
    on_epoch : called after each epoch with ``(epoch, logs)``, epoch counted from 1
    builder : ``(reference, function)`` of ``model.builder``, building the core instead of the MLP

    Raises
    ------
    UserError
        DP settings that cannot be met (see :func:`lifecycle.privacy.plan_privacy`), or a
        builder that fails (:class:`~lifecycle.spec.SpecFieldError`).
    """
    if model_spec.distribute is not None:  # tf.distribute strategies: lifecycle/distribute.py
        from lifecycle.distribute import train_distributed

        return train_distributed(dataset, model_spec, privacy_spec, seed, on_epoch, builder)
    started = time.perf_counter()
    # Accounting first: an unreachable budget fails before any TensorFlow work.
    record = plan_privacy(
        privacy_spec or PrivacySpec(), len(dataset.train), model_spec.batch_size, model_spec.epochs
    )
    keras = tfcompat.keras()
    tfcompat.seed_everything(seed)
    head = head_of(dataset)
    model, compiled = _model(dataset, model_spec, head, builder)
    features = encode_features(model, dataset.train)
    standardized = builder is None and head.task == "regression"  # the MLP fits the standardized target
    trainer = _trainer(keras, core_model(model), head, record, standardized)
    trainer.compile(optimizer=compiled["optimizer"] if compiled else _optimizer(keras, model_spec),
                    loss=compiled["loss"] if compiled else _loss(keras, head), metrics=[_metric(keras, head)])
    labels = _labels(dataset, head, standardize=standardized)
    batches = _batches(features, labels, model_spec.batch_size, seed, drop_remainder=record["dp"])
    fit = trainer.fit(batches, epochs=model_spec.epochs, verbose=0, callbacks=_callbacks(keras, on_epoch))
    history = {k: [float(v) for v in values] for k, values in fit.history.items()}
    if standardized and "mae" in history:  # fitted on the standardized target: report it in the target's units
        history["mae"] = [value * head.std for value in history["mae"]]
    return TrainResult(model=model, history=history, wall_time_s=time.perf_counter() - started, privacy=record,
                       compiled_by="builder" if compiled else "spec")


def _trainer(keras: Any, core: Any, head: Head, record: dict[str, Any], standardized: bool) -> Any:
    """What ``fit`` trains: the core's layers in a model of their own (DP-SGD's ``DPModel`` when asked).

    It shares the core's weights but is not the core, so the core (and the saved model) carries no
    optimizer state and, with DP-SGD, no tensorflow-privacy class.
    """
    fitted = core
    if standardized:
        fitted = keras.Model(core.inputs, core.get_layer(STANDARDIZED).output, name="standardized_core")
    return dp_model(fitted, record) if record["dp"] else keras.Model(fitted.inputs, fitted.outputs, name="trainer")


def head_of(dataset: Dataset) -> Head:
    """The output a model of ``dataset`` needs: its task, classes, and the target's scale for regression."""
    if dataset.task != "regression":
        return Head(dataset.task, tuple(dataset.classes))
    target = dataset.train[dataset.target].to_numpy(dtype=np.float64)
    return Head("regression", (), float(target.mean()), float(target.std()) or 1.0)


def _model(dataset: Dataset, spec: ModelSpec, head: Head,
           builder: tuple[str, Callable[..., Any]] | None) -> tuple[Any, dict[str, Any] | None]:
    from lifecycle.modelsource import builder_core

    preprocess = build_preprocess(dataset.train, dataset.numeric_features, dataset.categorical_features)
    width = preprocess.output_shape[-1]
    if builder is None:
        return assemble(preprocess, mlp_core(width, spec, head), "mlp"), None
    reference, function = builder
    features = {"numeric": list(dataset.numeric_features), "categorical": list(dataset.categorical_features),
                "width": width, "task": head.task, "classes": list(head.classes), "outputs": head.units}
    core, compiled = builder_core(function, reference, width, head, features)
    given = sorted({"optimizer", "learning_rate"} & spec.model_fields_set)
    if compiled is not None and given:
        raise SpecFieldError(("model", given[0]), f"{reference} compiled its model (optimizer and loss); setting "
                             f"model.{given[0]} too would be ignored: remove one of them")
    return assemble(preprocess, core), compiled


def _loss(keras: Any, head: Head) -> Any:
    if head.task == "multiclass":
        return keras.losses.SparseCategoricalCrossentropy()
    if head.task == "regression":
        return keras.losses.MeanSquaredError()
    return keras.losses.BinaryCrossentropy()


def _metric(keras: Any, head: Head) -> Any:
    if head.task == "multiclass":
        return keras.metrics.SparseCategoricalAccuracy(name="accuracy")
    if head.task == "regression":
        return keras.metrics.MeanAbsoluteError(name="mae")
    return keras.metrics.BinaryAccuracy(name="accuracy")


def _labels(dataset: Dataset, head: Head, standardize: bool) -> np.ndarray:
    target = dataset.train[dataset.target]
    if head.task == "multiclass":
        return target.to_numpy(dtype=np.int32)
    values = target.to_numpy(dtype=np.float32).reshape(-1, 1)
    return (values - head.mean) / head.std if standardize else values


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
