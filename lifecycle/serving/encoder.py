"""The model's own preprocessing, read from its ``.keras`` file and run in NumPy.

A registered model takes raw columns and encodes them with its "preprocess" part (see
:mod:`lifecycle.model`): numeric columns are normalized with the training mean and variance
(NaN becomes 0, the mean), each categorical column is one-hot encoded by a ``StringLookup``
over the training vocabulary (slot 0: categories never seen in training). Those constants are
constructor arguments of the layers, so they sit in the file's ``config.json``: reading them
needs neither TensorFlow nor a Keras model object, and encoding a row is a few NumPy operations
instead of a Keras call per request.

The parser accepts exactly the graph :func:`lifecycle.model.build_model` builds and raises
:class:`UnsupportedGraph` for anything else; the server then falls back to the Keras model
itself. Tests check both paths give the same encodings.
"""

from __future__ import annotations

import io
import json
import zipfile
from array import array
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np

from lifecycle.model import MISSING_TOKEN, PREPROCESS

_EPSILON = np.float32(1e-7)  # Keras' backend epsilon: the floor of the standard deviation


class UnsupportedGraph(ValueError):
    """The preprocessing is not the graph this module knows how to run without Keras."""


@dataclass(frozen=True)
class Lookup:
    """One categorical input: its one-hot width and the slot of each training category."""

    input: str
    slots: dict[str, int]
    width: int


@dataclass(frozen=True)
class Encoder:
    """NumPy twin of a model's preprocessing: raw columns in, the core's float32 input out.

    Attributes
    ----------
    numeric : Keras input names of the normalized columns, in their concatenation order
    mean, std : float32 normalization constants of those columns
    lookups : categorical inputs, in concatenation order after the numeric block
    """

    numeric: tuple[str, ...]
    mean: np.ndarray
    std: np.ndarray
    lookups: tuple[Lookup, ...]

    @cached_property
    def width(self) -> int:
        return len(self.numeric) + sum(lookup.width for lookup in self.lookups)

    def encode(self, numeric: np.ndarray, categorical: list[list[str | None]]) -> np.ndarray:
        """Encode ``n`` rows.

        Parameters
        ----------
        numeric : ``(n, len(self.numeric))`` float values, NaN for missing
        categorical : one list of ``n`` values per lookup (``None`` for missing)
        """
        rows, width = len(numeric), self.width
        out = np.zeros((rows, width), dtype=np.float32)
        if self.numeric:
            # float32 first, as the model's input layer casts; NaN stays NaN and becomes 0 (the mean)
            block = numeric.astype(np.float32)
            block -= self.mean
            block /= self.std
            block[np.isnan(block)] = 0.0
            out[:, : len(self.numeric)] = block
        flat = out.reshape(-1)
        if rows == 1:  # one request, one row: item assignment beats building an index array
            for (offset, slots), values in zip(self._placed, categorical, strict=True):
                value = values[0]
                flat[offset + slots.get(MISSING_TOKEN if value is None else value, 0)] = 1.0
            return out
        hot: list[int] = []
        for (offset, slots), values in zip(self._placed, categorical, strict=True):
            get = slots.get
            hot += [row * width + offset + get(MISSING_TOKEN if v is None else v, 0) for row, v in enumerate(values)]
        flat[np.asarray(hot, dtype=np.intp)] = 1.0
        return out

    def encode_one(self, values: list[float], categories: list[str | None]) -> np.ndarray:
        """Encode one row (``(1, width)``) without a NumPy operation per feature.

        Each float32 step of the model's normalization is computed in float64 and rounded to
        float32 once (``array("f")``): for subtraction and division of float32 operands that
        is exactly the float32 result, since float64 carries more than 2 x 24 + 2 bits.
        """
        row = self._zeros[:]  # a float32 buffer: item assignment costs far less than on an ndarray
        if self.numeric:
            inputs = array("f", values)  # the input layer's float32 cast
            centred = array("f", [x - m for x, m in zip(inputs, self._mean, strict=True)])
            scaled = array("f", [x / s for x, s in zip(centred, self._std, strict=True)])
            row[: len(scaled)] = array("f", [0.0 if x != x else x for x in scaled])  # NaN (missing) is the mean: 0
        for (offset, slots), value in zip(self._placed, categories, strict=True):
            row[offset + slots.get(MISSING_TOKEN if value is None else value, 0)] = 1.0
        return np.frombuffer(row, dtype=np.float32).reshape(1, -1)

    @cached_property
    def _zeros(self) -> array:
        return array("f", bytes(4 * self.width))

    @cached_property
    def _mean(self) -> list[float]:
        return self.mean.tolist()

    @cached_property
    def _std(self) -> list[float]:
        return self.std.tolist()

    @cached_property
    def _placed(self) -> list[tuple[int, dict[str, int]]]:
        """(first column, slots) of each lookup's one-hot block in the encoded row."""
        placed, offset = [], len(self.numeric)
        for lookup in self.lookups:
            placed.append((offset, lookup.slots))
            offset += lookup.width
        return placed


def encoder_from_keras_bytes(content: bytes) -> Encoder:
    """The :class:`Encoder` of a ``.keras`` file (a whole model or its preprocess part)."""
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            config = json.loads(archive.read("config.json"))
    except (zipfile.BadZipFile, KeyError, ValueError) as err:
        raise UnsupportedGraph(f"not a .keras archive with a config.json ({err})") from None
    return _encoder(_preprocess_config(config))


def _preprocess_config(config: dict[str, Any]) -> dict[str, Any]:
    model = config.get("config") or {}
    if model.get("name") == PREPROCESS:
        return model
    for layer in model.get("layers") or []:
        if (layer.get("config") or {}).get("name") == PREPROCESS:
            return layer["config"]
    raise UnsupportedGraph(f"no '{PREPROCESS}' part in the model")


def _encoder(pre: dict[str, Any]) -> Encoder:
    layers = {layer["name"]: layer for layer in pre.get("layers") or []}
    outputs = pre.get("output_layers") or []
    if len(outputs) != 1:
        raise UnsupportedGraph("the preprocessing must have one output")
    parts = _concat_parts(layers, outputs[0][0])
    numeric: tuple[str, ...] = ()
    mean = std = np.zeros(0, dtype=np.float32)
    lookups = []
    for position, name in enumerate(parts):
        layer = layers[name]
        if layer["class_name"] == "TFOpLambda" and position == 0:
            numeric, mean, std = _numeric_block(layers, layer)
        elif layer["class_name"] == "StringLookup":
            lookups.append(_lookup(layers, layer))
        else:
            raise UnsupportedGraph(f"unexpected layer {layer['class_name']} '{name}' in the encoding")
    return Encoder(numeric, mean, std, tuple(lookups))


def _concat_parts(layers: dict[str, Any], name: str) -> list[str]:
    layer = layers.get(name)
    if layer is None:
        raise UnsupportedGraph(f"unknown layer '{name}'")
    if layer["class_name"] != "Concatenate":
        return [name]
    if (layer["config"].get("axis", -1)) not in (-1, 1):
        raise UnsupportedGraph("concatenation must be along the feature axis")
    return [node[0] for node in _single_call(layer)]


def _single_call(layer: dict[str, Any]) -> list[list[Any]]:
    nodes = layer.get("inbound_nodes") or []
    if len(nodes) != 1:
        raise UnsupportedGraph(f"layer '{layer['name']}' must be called once")
    return nodes[0]


def _numeric_block(layers: dict[str, Any], where: dict[str, Any]) -> tuple[tuple[str, ...], np.ndarray, np.ndarray]:
    """``where(is_nan(normalize(x)), zeros_like(...), normalize(x))``: the mean-imputed numeric block."""
    call = _single_call(where)
    if where["config"].get("function") != "where" or not call:
        raise UnsupportedGraph("the numeric block must be tf.where(is_nan(...), 0, normalized)")
    kwargs = call[3] if len(call) > 3 and isinstance(call[3], dict) else {}
    normalize = layers.get((kwargs.get("y") or [None])[0])
    if normalize is None or normalize["class_name"] != "Normalization" or normalize["config"].get("invert"):
        raise UnsupportedGraph("the numeric block must impute a Normalization layer's output")
    source = layers[_single_call(normalize)[0][0]]
    inputs = _concat_parts(layers, source["name"]) if source["class_name"] == "Concatenate" else [source["name"]]
    for name in inputs:
        if layers[name]["class_name"] != "InputLayer" or layers[name]["config"].get("dtype") != "float32":
            raise UnsupportedGraph(f"numeric input '{name}' must be a float32 model input")
    mean = np.asarray(normalize["config"].get("mean"), dtype=np.float32).reshape(-1)
    variance = np.asarray(normalize["config"].get("variance"), dtype=np.float32).reshape(-1)
    if mean.shape != (len(inputs),) or variance.shape != (len(inputs),):
        raise UnsupportedGraph("normalization constants do not match the numeric inputs")
    return tuple(inputs), mean, np.maximum(np.sqrt(variance), _EPSILON)


def _lookup(layers: dict[str, Any], layer: dict[str, Any]) -> Lookup:
    config = layer["config"]
    vocabulary = config.get("vocabulary")
    expected = {"output_mode": "one_hot", "num_oov_indices": 1, "mask_token": None, "invert": False,
                "idf_weights": None}
    if not isinstance(vocabulary, list) or any(config.get(k) != v for k, v in expected.items()):
        raise UnsupportedGraph(f"lookup '{layer['name']}' is not a one-hot StringLookup with one OOV slot")
    source = layers[_single_call(layer)[0][0]]
    if source["class_name"] != "InputLayer" or source["config"].get("dtype") != "string":
        raise UnsupportedGraph(f"lookup '{layer['name']}' must read a string model input")
    slots = {str(token): i + 1 for i, token in enumerate(vocabulary)}
    return Lookup(source["name"], slots, len(vocabulary) + 1)
