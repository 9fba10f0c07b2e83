"""The Keras MLP, with its preprocessing inside, split so that LiteRT can run the trained part.

One Keras model, two named parts::

    raw columns (dict: float32 / string, one (n, 1) input per column)
      └─► "preprocess"  Normalization of the numeric columns (NaN → the training mean),
      │                 StringLookup one-hot per categorical column, concatenated
      └─► "core"        float32 (n, D) ─► Dense layers ─► the head (:class:`Head`): a sigmoid
                        score (binary), softmax class probabilities (multiclass) or the target
                        itself (regression)

The core is the MLP of the spec, or the user's own (``model.builder``, :mod:`lifecycle.modelsource`),
built on the same preprocessed inputs.

``build_model`` returns the whole model: it takes raw columns, so whatever loads it (evaluation,
serving) applies exactly the transformations fitted on the training data; there is no
re-implementation of preprocessing to drift out of sync (no training-serving skew).

Why the split: TFLite's string support is limited (lookup tables need custom ops the stock
interpreter lacks), and preprocessing has no trained weights worth quantizing. So ``optimize``
converts only ``core`` (a single float input), and :func:`encode_features` produces that input
by running the model's own "preprocess" part. A LiteRT deployment is therefore "preprocess"
(Keras) + ``core`` (LiteRT), and both halves come from the same saved model.

Missing values: numeric NaN is imputed with the training mean (0 after normalization) inside
the model; categorical missing values are sent as :data:`MISSING_TOKEN` by :func:`model_inputs`
and are a category of their own when the training data had them. Categories never seen in
training map to the lookup's out-of-vocabulary slot.
"""

from __future__ import annotations

import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from lifecycle import tfcompat
from lifecycle.spec import ModelSpec

#: What a missing categorical value is sent as (a token no real category uses).
MISSING_TOKEN = "[MISSING]"
PREPROCESS = "preprocess"
CORE = "core"
_CHUNK = 8192  # rows per forward pass when scoring: bounds memory on large frames
#: The regression MLP's output before it is put in the target's units (what training fits).
STANDARDIZED = "standardized"


@dataclass(frozen=True)
class Head:
    """What a model outputs for its task.

    ``binary``: one sigmoid unit, the positive-class probability; ``multiclass``: one softmax unit
    per class (``classes``, in class-index order); ``regression``: one linear unit, rescaled to the
    target's ``mean`` and ``std`` inside the model so its output is in the target's units.
    """

    task: str = "binary"
    classes: tuple[str, ...] = ()
    mean: float = 0.0
    std: float = 1.0

    @property
    def units(self) -> int:
        return len(self.classes) if self.task == "multiclass" else 1


def input_name(column: str) -> str:
    """The Keras input name of a column (TensorFlow names allow only ``[A-Za-z0-9_.]``)."""
    return re.sub(r"[^A-Za-z0-9_.]", "_", column)


def vocabulary(values: pd.Series) -> list[str]:
    """Categories of a training column, most frequent first (ties by name): deterministic."""
    counts = _as_text(values).value_counts()
    return sorted(counts.index, key=lambda v: (-counts[v], v))


def build_model(train_df: pd.DataFrame, numeric: list[str], categorical: list[str], spec: ModelSpec,
                head: Head = Head()) -> Any:
    """Build an untrained ``tf_keras.Model`` from raw columns to the head's output (an MLP core).

    Parameters
    ----------
    train_df : training rows; fixes the normalization statistics and vocabularies
    numeric, categorical : feature columns by type (see :class:`lifecycle.data.Dataset`)
    spec : hidden sizes and dropout of the MLP
    head : what the model outputs (default: the positive-class probability)

    Returns
    -------
    tf_keras.Model
        Dict input (one ``(n, 1)`` entry per column, see :func:`model_inputs`), output
        ``(n, head.units)``, with the sub-models ``"preprocess"`` and ``"core"`` (see the module
        docstring).
    """
    preprocess = build_preprocess(train_df, numeric, categorical)
    return assemble(preprocess, mlp_core(preprocess.output_shape[-1], spec, head), "mlp")


def build_preprocess(train_df: pd.DataFrame, numeric: list[str], categorical: list[str]) -> Any:
    """The "preprocess" part alone: raw columns to encoded float32 features, fitted on ``train_df``."""
    names = [input_name(c) for c in numeric + categorical]
    if len(set(names)) != len(names):
        raise ValueError(f"feature names collide once made TensorFlow-safe: {names}")
    return _preprocess(tfcompat.keras(), train_df, numeric, categorical)


def assemble(preprocess: Any, core: Any, name: str = "model") -> Any:
    """The whole model: ``preprocess`` then ``core`` (named :data:`CORE`), taking raw columns."""
    keras = tfcompat.keras()
    inputs = {name: tensor for name, tensor in zip(preprocess.input_names, preprocess.inputs, strict=True)}
    return keras.Model(inputs, core(preprocess(inputs)), name=name)


def _preprocess(keras: Any, train_df: pd.DataFrame, numeric: list[str], categorical: list[str]) -> Any:
    tf = tfcompat.tensorflow()
    layers = keras.layers
    inputs, parts = {}, []
    if numeric:
        for column in numeric:
            inputs[column] = keras.Input(shape=(1,), name=input_name(column), dtype="float32")
        # The training rows' statistics, as adapt() would compute them but skipping NaN (adapt
        # would make the mean NaN); the layer stores them as weights, so they travel with the model.
        stats = train_df[numeric].astype("float64")
        variance = stats.var(ddof=0).fillna(0.0).to_numpy()
        normalize = layers.Normalization(
            mean=stats.mean().fillna(0.0).to_numpy(), variance=variance, name="normalize"
        )
        joined = (
            layers.Concatenate(name="numeric")([inputs[c] for c in numeric])
            if len(numeric) > 1
            else inputs[numeric[0]]
        )
        normalized = normalize(joined)
        # NaN minus the mean stays NaN; 0 is the mean in normalized units (mean imputation).
        parts.append(tf.where(tf.math.is_nan(normalized), tf.zeros_like(normalized), normalized))
    for column in categorical:
        inputs[column] = keras.Input(shape=(1,), name=input_name(column), dtype="string")
        lookup = layers.StringLookup(
            vocabulary=vocabulary(train_df[column]),
            output_mode="one_hot",
            name=f"lookup_{input_name(column)}",
        )
        parts.append(lookup(inputs[column]))
    encoded = layers.Concatenate(name="encoded")(parts) if len(parts) > 1 else parts[0]
    return keras.Model(inputs=list(inputs.values()), outputs=encoded, name=PREPROCESS)


def mlp_core(width: int, spec: ModelSpec, head: Head = Head()) -> Any:
    """The MLP core: encoded features ``(n, width)`` to the head's output."""
    keras = tfcompat.keras()
    layers = keras.layers
    features = keras.Input(shape=(width,), name="features", dtype="float32")
    hidden = features
    for i, units in enumerate(spec.hidden_units):
        hidden = layers.Dense(units, activation="relu", name=f"dense_{i}")(hidden)
        if spec.dropout:
            hidden = layers.Dropout(spec.dropout, name=f"dropout_{i}")(hidden)
    if head.task == "regression":
        # Fitted on the standardized target; the rescaling makes the output the target itself.
        standardized = layers.Dense(1, name=STANDARDIZED)(hidden)
        output = layers.Rescaling(scale=head.std, offset=head.mean, name="score")(standardized)
    elif head.task == "multiclass":
        output = layers.Dense(head.units, activation="softmax", name="score")(hidden)
    else:
        output = layers.Dense(1, activation="sigmoid", name="score")(hidden)
    return keras.Model(features, output, name=CORE)


def preprocess_model(model: Any) -> Any:
    """The raw-columns → encoded-features part of a model from :func:`build_model`."""
    return model.get_layer(PREPROCESS)


def core_model(model: Any) -> Any:
    """The encoded-features → score part of a model from :func:`build_model` (what LiteRT runs)."""
    return model.get_layer(CORE)


def model_inputs(model: Any, df: pd.DataFrame) -> dict[str, np.ndarray]:
    """The dict a model from :func:`build_model` takes, built from a raw DataFrame.

    Looks up each of the model's inputs by column name, so it needs no training metadata:
    numeric inputs become float32 (NaN kept), string inputs text with missing values as
    :data:`MISSING_TOKEN`. Extra columns are ignored; a missing one raises ``KeyError``.
    """
    by_name = {input_name(str(c)): c for c in df.columns}
    inputs = {}
    for tensor in preprocess_model(model).inputs:
        name = tensor.name.split(":")[0]
        if name not in by_name:
            raise KeyError(f"column for model input '{name}' not in the frame")
        column = df[by_name[name]]
        if tensor.dtype.name == "string":
            values = _as_text(column).to_numpy(dtype=object)
        else:
            values = pd.to_numeric(column, errors="coerce").to_numpy(dtype=np.float32)
        inputs[name] = values.reshape(-1, 1)
    return inputs


def _as_text(column: pd.Series) -> pd.Series:
    return column.astype(object).where(column.notna(), MISSING_TOKEN).astype(str)


def encode_features(model: Any, df: pd.DataFrame) -> np.ndarray:
    """Encode raw rows into the core's float32 input with the model's own preprocessing layers.

    This is what feeds training, the LiteRT interpreter and a LiteRT deployment; calling
    ``core_model(model)`` on it gives exactly ``model`` on the raw rows.
    """
    return _forward(preprocess_model(model), df, model)


def score(model: Any, df: pd.DataFrame) -> np.ndarray:
    """A model's outputs on raw rows: shape ``(n,)`` for one output (a probability or a number),
    ``(n, K)`` for class probabilities."""
    output = _forward(model, df, model)
    return output.reshape(-1) if output.shape[-1] == 1 else output


def _forward(network: Any, df: pd.DataFrame, model: Any) -> np.ndarray:
    inputs = model_inputs(model, df)
    chunks = []
    for start in range(0, len(df), _CHUNK):
        batch = {k: v[start : start + _CHUNK] for k, v in inputs.items()}
        chunks.append(np.asarray(network(batch, training=False), dtype=np.float32))
    if not chunks:
        return np.zeros((0, network.output_shape[-1]), dtype=np.float32)
    return np.concatenate(chunks)


def save_model(model: Any, path: str | Path) -> Path:
    """Save a model from :func:`build_model` as one ``.keras`` file.

    It holds only built-in Keras layers, so :func:`load_model` needs neither this package's
    training code nor tensorflow-privacy.
    """
    path = Path(path)
    if path.suffix != ".keras":
        raise ValueError(f"model files end in .keras, got {path.name}")
    path.parent.mkdir(parents=True, exist_ok=True)
    model.save(path)
    return path


def load_model(path: str | Path) -> Any:
    """Load a model saved by :func:`save_model` (inference only: not compiled)."""
    return tfcompat.keras().models.load_model(Path(path), compile=False)


def load_model_bytes(content: bytes) -> Any:
    """Load a model from the bytes of a ``.keras`` file (e.g. read from a verified registry entry)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "model.keras"
        path.write_bytes(content)
        return load_model(path)
