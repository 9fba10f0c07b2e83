"""Vectorised scoring of validated rows: NumPy encoding, then the LiteRT interpreter or a NumPy MLP.

No DataFrame and no Keras call per request. A LiteRT entry runs its flatbuffer in the LiteRT
interpreter (TensorFlow is not imported at all); a Keras entry's core is read once from the
model and run as NumPy matrix products. A model whose graph the fast path does not know falls
back to the Keras model itself (slower, same scores).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from lifecycle.serving.encoder import Encoder, UnsupportedGraph, encoder_from_keras_bytes
from lifecycle.serving.rows import ValidRows


class OutputMismatch(ValueError):
    """The model gives another number of values per row than its task needs."""


@dataclass
class Scorer:
    """The model's outputs for validated rows: ``(n,)`` when it gives one value per row (a
    positive-class score, a regression prediction), ``(n, outputs)`` for class probabilities.

    ``encoder`` is None when the model's preprocessing runs in Keras (``path == "keras"``);
    ``numeric``/``categorical`` are the feature columns in the order the rows must give them.
    ``shared_rows``: up to this many rows of different requests may share one call, each getting
    the output it gets alone, bit for bit (0: never); a float32 LiteRT core computes rows apart.
    """

    encoder: Encoder | None
    run: Callable[[ValidRows], np.ndarray]
    path: str
    numeric: list[str]
    categorical: list[str]
    outputs: int = 1
    shared_rows: int = 0

    def __call__(self, rows: ValidRows) -> np.ndarray:
        output = self.run(rows)
        return output.reshape(-1) if self.outputs == 1 else output.reshape(len(output), -1)


def build_scorer(fmt: str, files: dict[str, bytes], numeric: list[str], categorical: list[str],
                 outputs: int = 1) -> Scorer:
    """The scorer of a verified entry's model files (``files`` by manifest role).

    ``numeric``/``categorical`` are the schema's feature columns; the fast path reorders them
    to the model's inputs itself (see :func:`input_order`). ``outputs`` is how many values the
    model must give per row (the number of classes of a multiclass model, else 1): a fast path
    whose core gives another number is not used, and a model that gives another number through
    Keras too raises :class:`OutputMismatch`.
    """
    keras_file = files["preprocess"] if fmt == "litert" else files["model"]
    try:
        encoder = encoder_from_keras_bytes(keras_file)
        numeric, categorical = input_order(encoder, numeric, categorical)
    except UnsupportedGraph:
        encoder = None
    shared_rows = 0
    if fmt == "litert":
        core, one, shared_rows = _litert_core(files["model"])
    elif encoder is not None:
        core = one = _numpy_core(keras_file)
    else:
        core = None
    if encoder is None or core is None or not _fits(core, encoder.width, outputs):
        fallback = _keras_fallback(fmt, files, numeric, categorical)
        # One row of missing values (every model takes it) tells how many values a row gets.
        given = np.asarray(fallback(ValidRows.of(np.full((1, len(numeric)), np.nan), [[None]] * len(categorical)))).size
        if given != outputs:
            raise OutputMismatch(f"the model gives {given} value(s) per row; its schema's task needs {outputs}")
        return Scorer(None, fallback, "keras", numeric, categorical, outputs)
    encode_one = encoder.encode_one

    def run(rows: ValidRows) -> np.ndarray:
        if rows.rows == 1:  # one request, one row: the usual case
            return one(encode_one(rows.values, [values[0] for values in rows.categorical]))
        return core(encoder.encode(rows.numeric, rows.categorical))

    return Scorer(encoder, run, "litert" if fmt == "litert" else "numpy", numeric, categorical, outputs, shared_rows)


def input_order(encoder: Encoder, numeric: list[str], categorical: list[str]) -> tuple[list[str], list[str]]:
    """The schema's columns in the order the encoder takes them (UnsupportedGraph if they differ)."""
    from lifecycle.model import input_name

    by_input = {input_name(c): c for c in numeric + categorical}
    try:
        ordered_numeric = [by_input[name] for name in encoder.numeric]
        ordered_categorical = [by_input[lookup.input] for lookup in encoder.lookups]
    except KeyError:
        raise UnsupportedGraph("the model's inputs are not the manifest's feature columns") from None
    if sorted(ordered_numeric) != sorted(numeric) or sorted(ordered_categorical) != sorted(categorical):
        raise UnsupportedGraph("the model's inputs are not the manifest's feature columns")
    return ordered_numeric, ordered_categorical


def _fits(core: Callable[[np.ndarray], np.ndarray], width: int, outputs: int) -> bool:
    """Whether the core takes the encoder's width (one probe row) and gives ``outputs`` values per row."""
    try:
        return np.asarray(core(np.zeros((1, width), dtype=np.float32))).size == outputs
    except (ValueError, RuntimeError):
        return False


#: Rows of the interpreter kept allocated for small batches (several requests scored together).
FEW_ROWS = 16


def _litert_core(content: bytes) -> tuple[Callable[[np.ndarray], np.ndarray], Callable[[np.ndarray], np.ndarray], int]:
    """Interpreters that stay allocated for one row and for up to :data:`FEW_ROWS` rows (padded),
    and one that resizes for larger batches. Returns the core of any rows, the core of one row,
    and how many rows of different requests may share a call: :data:`FEW_ROWS` when a probe finds
    each row's output unchanged by the others, else 0 (so too for a model with quantized IO)."""
    from lifecycle.optimize import LiteRTModel

    batch = LiteRTModel(content)
    one_row, few_rows = _fixed_rows(content, 1), _fixed_rows(content, FEW_ROWS)
    single = one_row[0] if one_row is not None else LiteRTModel(content)
    # Unless rows scored together get the outputs they get alone, every request is scored on its own
    few = few_rows[0] if few_rows is not None and _rows_apart(single, *few_rows) else None
    single_lock, few_lock, batch_lock = threading.Lock(), threading.Lock(), threading.Lock()  # each owns its tensors

    def one(x: np.ndarray) -> np.ndarray:
        with single_lock:
            return single(x)

    def run(x: np.ndarray) -> np.ndarray:
        rows = len(x)
        if rows == 1:
            return one(x)
        if few is not None and rows <= FEW_ROWS:
            padded = np.zeros((FEW_ROWS, x.shape[1]), dtype=np.float32)
            padded[:rows] = x
            with few_lock:
                return few(padded)[:rows]
        with batch_lock:
            return batch(x)

    return run, one, FEW_ROWS if few is not None else 0


def _rows_apart(single: Callable[[np.ndarray], np.ndarray], few: Callable[[np.ndarray], np.ndarray],
                width: int) -> bool:
    """Whether rows scored together get, bit for bit, the outputs they get alone (probed once)."""
    rows = np.random.default_rng(0).normal(0, 2, (FEW_ROWS, width)).astype(np.float32)
    rows[:, width // 2:] = rows[:, width // 2:] > 1  # one-hot-like columns too
    together = np.array(few(rows))
    return all(np.array_equal(together[i:i + 1], np.asarray(single(rows[i:i + 1])).reshape(1, -1))
               for i in range(FEW_ROWS))


def _fixed_rows(content: bytes, rows: int) -> tuple[Callable[[np.ndarray], np.ndarray], int] | None:
    """The interpreter called directly, its tensors allocated once for ``rows`` rows, and its
    input width (float32 models only; others go through :class:`lifecycle.optimize.LiteRTModel`,
    which quantizes their IO)."""
    from ai_edge_litert.interpreter import Interpreter

    from lifecycle.tfcompat import quiet_stderr

    interpreter = Interpreter(model_content=content, num_threads=1)
    source, target = interpreter.get_input_details()[0], interpreter.get_output_details()[0]
    if source["dtype"] != np.float32 or target["dtype"] != np.float32:
        return None
    interpreter.resize_tensor_input(source["index"], [rows, int(source["shape"][-1])])
    interpreter.allocate_tensors()
    set_tensor, invoke, get_tensor = interpreter.set_tensor, interpreter.invoke, interpreter.get_tensor
    given, answer = source["index"], target["index"]
    with quiet_stderr():  # the first run announces the CPU delegate on stderr
        set_tensor(given, np.zeros((rows, int(source["shape"][-1])), dtype=np.float32))
        invoke()

    def run(x: np.ndarray) -> np.ndarray:
        set_tensor(given, x)
        invoke()
        return get_tensor(answer)

    return run, int(source["shape"][-1])


def _numpy_core(keras_file: bytes) -> Callable[[np.ndarray], np.ndarray] | None:
    """The Keras core's Dense layers (and a regression head's Rescaling) as NumPy, in float32;
    None when it holds layers this does not know."""
    from lifecycle.model import core_model, load_model_bytes

    layers: list[tuple[np.ndarray, np.ndarray, str]] = []
    for layer in core_model(load_model_bytes(keras_file)).layers:
        kind = type(layer).__name__
        if kind in ("InputLayer", "Dropout"):  # dropout is the identity at inference
            continue
        if kind == "Rescaling":  # x * scale + offset: the regression head in the target's units
            config = layer.get_config()
            layers.append((np.asarray(config["scale"], dtype=np.float32), np.asarray(config["offset"], dtype=np.float32),
                           "rescale"))
            continue
        activation = getattr(getattr(layer, "activation", None), "__name__", None)
        if kind != "Dense" or activation not in _ACTIVATIONS:
            return None
        weights, bias = layer.get_weights()
        layers.append((weights.astype(np.float32), bias.astype(np.float32), activation))

    def run(x: np.ndarray) -> np.ndarray:
        with np.errstate(over="ignore", invalid="ignore"):  # a value far out of range may overflow: refused later
            for weights, bias, activation in layers:
                x = x * weights + bias if activation == "rescale" else _ACTIVATIONS[activation](x @ weights + bias)
        return x

    return run


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return (1.0 / (1.0 + np.exp(-x))).astype(np.float32)


def _softmax(x: np.ndarray) -> np.ndarray:
    exp = np.exp(x - x.max(axis=-1, keepdims=True))  # shifted by the row's largest logit, as Keras does
    return (exp / exp.sum(axis=-1, keepdims=True)).astype(np.float32)


_ACTIVATIONS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "relu": lambda x: np.maximum(x, 0), "sigmoid": _sigmoid, "softmax": _softmax, "linear": lambda x: x,
}


def _keras_fallback(fmt: str, files: dict[str, bytes], numeric: list[str], categorical: list[str]) -> Callable[[ValidRows], Any]:
    import pandas as pd

    from lifecycle.serve import make_scorer

    frame_scorer = make_scorer(fmt, files)

    def run(rows: ValidRows) -> np.ndarray:
        frame = pd.DataFrame(rows.numeric, columns=numeric)
        for column, values in zip(categorical, rows.categorical, strict=True):
            frame[column] = pd.Series(values, dtype=object)
        return np.asarray(frame_scorer(frame))

    return run
