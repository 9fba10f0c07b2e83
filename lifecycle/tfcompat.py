"""The one place that imports TensorFlow, tf-keras and tensorflow-privacy.

Three version quirks live here so that no other module has to know about them:

* tensorflow-privacy's ``DPModel`` and DP optimizers subclass ``tf.keras`` classes and need
  them to be Keras 2, the Keras our models are built with. TensorFlow >= 2.16 ships
  Keras 3 as ``tf.keras`` unless ``TF_USE_LEGACY_KERAS=1`` is set *before* TensorFlow is first
  imported, in which case ``tf.keras`` is the ``tf_keras`` package (Keras 2).
* ``import tensorflow_privacy`` fails on TensorFlow >= 2.16 because its ``__init__`` imports
  ``tensorflow_estimator``, which no longer exists. The package honours a
  ``sys.skip_tf_privacy_import`` flag that turns its ``__init__`` into a no-op, after which the
  submodules we need import cleanly.
* TensorFlow's C++ runtime prints start-up lines (CPU feature and CUDA probes) to stderr before
  any Python logging setting applies. Unless ``verbose``, the import runs with file descriptor 2
  pointed at ``/dev/null`` and ``TF_CPP_MIN_LOG_LEVEL`` raised.

Everything is imported lazily: ``import lifecycle`` stays cheap and TensorFlow-free.
"""

from __future__ import annotations

import contextlib
import logging
import os
import random
import sys
from collections.abc import Iterator
from types import ModuleType, SimpleNamespace

import numpy as np

_VERBOSE = False


def set_verbose(verbose: bool) -> None:
    """Let TensorFlow's own logging through (``rai --verbose``); call before the first import."""
    global _VERBOSE
    _VERBOSE = verbose


@contextlib.contextmanager
def quiet_stderr() -> Iterator[None]:
    """Silence file descriptor 2 inside the block, unless verbose (TF, converter, LiteRT logs)."""
    # Native messages bypass Python's sys.stderr, so redirect the descriptor itself.
    if _VERBOSE:
        yield
        return
    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def tensorflow() -> ModuleType:
    """Import and return ``tensorflow`` with Keras 2 as ``tf.keras`` and quiet logging."""
    if "tensorflow" not in sys.modules:
        os.environ["TF_USE_LEGACY_KERAS"] = "1"
        if not _VERBOSE:
            os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        with quiet_stderr():
            import tensorflow as tf

            tf.config.list_physical_devices()  # device probing logs too (e.g. "failed call to cuInit")
        if not _VERBOSE:
            tf.get_logger().setLevel(logging.ERROR)
            logging.getLogger("absl").setLevel(logging.ERROR)
    import tensorflow as tf

    if not tf.keras.__name__.startswith("tf_keras"):
        # Someone imported TensorFlow before us without the switch: tensorflow-privacy would break.
        raise RuntimeError(
            "TensorFlow was imported before lifecycle.tfcompat with Keras 3 as tf.keras; "
            "set TF_USE_LEGACY_KERAS=1 before importing tensorflow"
        )
    return tf


def keras() -> ModuleType:
    """Return the ``tf_keras`` package (Keras 2), importing TensorFlow correctly first."""
    tensorflow()
    import tf_keras

    return tf_keras


def privacy() -> SimpleNamespace:
    """Import tensorflow-privacy's DP-SGD pieces without its broken package ``__init__``.

    Returns a namespace with ``DPModel`` (DP-SGD ``train_step``), ``make_default_layer_registry``
    (fast gradient clipping for Dense layers), ``optimizers`` (the ``DPKeras*Optimizer`` module)
    and ``compute_dp_sgd_privacy_lib`` (tensorflow-privacy's own epsilon, for cross-checks).
    """
    tensorflow()
    sys.skip_tf_privacy_import = True  # read by tensorflow_privacy/__init__.py
    with quiet_stderr():
        from tensorflow_privacy.privacy.analysis import compute_dp_sgd_privacy_lib
        from tensorflow_privacy.privacy.fast_gradient_clipping import layer_registry
        from tensorflow_privacy.privacy.keras_models import dp_keras_model
        from tensorflow_privacy.privacy.optimizers import dp_optimizer_keras
    return SimpleNamespace(
        DPModel=dp_keras_model.DPModel,
        make_default_layer_registry=layer_registry.make_default_layer_registry,
        optimizers=dp_optimizer_keras,
        compute_dp_sgd_privacy_lib=compute_dp_sgd_privacy_lib,
    )


def seed_everything(seed: int, deterministic_ops: bool = True) -> None:
    """Seed Python, NumPy and TensorFlow; make TensorFlow ops deterministic.

    Op determinism costs little for dense models on CPU and buys "same seed, same metrics".
    Note that the seed also fixes DP-SGD's noise draws: reproducible runs, but an adversary who
    knows the seed knows the noise, so treat a production DP run's seed as a secret.
    """
    tf = tensorflow()
    random.seed(seed)
    np.random.seed(seed)
    tf.random.set_seed(seed)
    _forget_keras_seed_generator()
    if deterministic_ops:
        tf.config.experimental.enable_op_determinism()


def _forget_keras_seed_generator() -> None:
    """Undo an earlier ``keras.utils.set_random_seed`` in this process (a user's script, a notebook).

    That call leaves Keras drawing initializer seeds from its own generator, whose state then
    depends on everything built since; without it Keras derives them from TensorFlow's global seed,
    which :func:`seed_everything` has just set. Forgetting it makes a run in a long-lived process
    initialise exactly as in a fresh one: same seed, same model.
    """
    import importlib

    try:
        backend = importlib.import_module("tf_keras.src.backend")
    except ImportError:  # another Keras layout: nothing of ours to reset
        return
    holder = getattr(backend, "_SEED_GENERATOR", None)
    if holder is not None and getattr(holder, "generator", None) is not None:
        holder.generator = None
