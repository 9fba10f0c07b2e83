"""Your own model in the pipeline: a builder function (``model.builder``) or a trained file (``model.path``).

``model.builder: "package.module:function"`` runs your code: the module is imported (from the
Python path, or from the spec file's directory) and the function is called as
``function(inputs, features)`` with the preprocessed inputs (a ``tf_keras`` input of shape
``(None, width)``: normalized numbers and one-hot categories, made by the model's own
"preprocess" part) and a dict describing them (``numeric``, ``categorical``, ``width``, ``task``,
``classes``, ``outputs``: the units the output must have). It returns a Keras model from those
inputs to the task's output; rai puts the preprocessing in front of it, so the exported model
takes raw columns. If the function compiled its model, its optimizer and loss train it.

``model.path: trained.keras`` is a model trained elsewhere with the same structure (one input per
feature column, named after it, a "preprocess" and a "core" part; every model rai exports has
it). Training is skipped; the model must take exactly the data's features and have the task's
outputs.

Every mistake is a :class:`~lifecycle.spec.SpecFieldError` naming the field, which the pipeline
locates in the spec file.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from governance.vocabulary import closest
from lifecycle import tfcompat
from lifecycle.model import CORE, PREPROCESS, Head, input_name, load_model_bytes
from lifecycle.spec import SpecFieldError

BUILDER = ("model", "builder")
PATH = ("model", "path")
_LEGACY = "rai trains tf-keras models (TF_USE_LEGACY_KERAS=1): build it with `import tf_keras as keras` or tf.keras"


def load_builder(reference: str, base_dir: Path | None) -> Callable[..., Any]:
    """The function ``reference`` (``package.module:function``) names, importing its module."""
    module_name, _, function = reference.partition(":")
    # A builder module imports TensorFlow; imported first here, tf.keras is Keras 2 (tf-keras) for it too.
    tfcompat.tensorflow()
    added = base_dir is not None and str(base_dir) not in sys.path
    if added:
        sys.path.insert(0, str(base_dir))
        _forget_other(module_name, Path(base_dir))
    try:
        module = importlib.import_module(module_name)
    except Exception as err:  # the user's module may fail in any way: one line, never a traceback
        raise SpecFieldError(BUILDER, f"cannot import {module_name!r}: {type(err).__name__}: {_first_line(err)}") from None
    finally:
        if added:
            sys.path.remove(str(base_dir))
    found = getattr(module, function, None)
    if not callable(found):
        names = tuple(n for n in dir(module) if not n.startswith("_") and callable(getattr(module, n)))
        raise SpecFieldError(BUILDER, f"{module_name} has no function {function!r}{closest(function, names)}")
    return found


def _forget_other(module_name: str, base_dir: Path) -> None:
    """Drop an imported module of this name that is not the spec directory's own (another spec's, say)."""
    loaded = sys.modules.get(module_name)
    local = [base_dir / f"{module_name.replace('.', '/')}.py", base_dir / module_name.replace(".", "/") / "__init__.py"]
    here = next((p.resolve() for p in local if p.is_file()), None)
    if loaded is not None and here is not None and Path(getattr(loaded, "__file__", "") or "").resolve() != here:
        del sys.modules[module_name]


def builder_core(builder: Callable[..., Any], reference: str, width: int, head: Head,
                 features: dict[str, Any]) -> tuple[Any, dict[str, Any] | None]:
    """Call the builder on the preprocessed inputs; return the core and its compile settings (if it compiled).

    Raises
    ------
    SpecFieldError
        The builder raised, returned no Keras model, or a model whose input or output does not fit.
    """
    keras = tfcompat.keras()
    inputs = keras.Input(shape=(width,), name="features", dtype="float32")
    try:
        built = builder(inputs, dict(features))
    except Exception as err:
        raise SpecFieldError(BUILDER, f"{reference} raised {type(err).__name__}: {_first_line(err)}") from None
    if not isinstance(built, keras.Model):
        hint = f"; {_LEGACY}" if hasattr(built, "predict") else ""
        raise SpecFieldError(BUILDER, f"{reference} returned {type(built).__name__}, not a Keras model{hint}")
    compiled = {"optimizer": built.optimizer, "loss": built.loss} if built.optimizer is not None else None
    try:  # on the preprocessed inputs: a functional model built on them stays flat, any other is nested
        own = getattr(built, "inputs", None) or []  # an unbuilt Sequential has none yet
        flat = len(own) == 1 and own[0] is inputs
        core = keras.Model(inputs, built.outputs if flat else built(inputs), name=CORE)
    except Exception as err:
        raise SpecFieldError(BUILDER, f"{reference} returned a model that does not take the preprocessed inputs "
                             f"(shape (None, {width})): {_first_line(err)}") from None
    _check_outputs(BUILDER, f"{reference} returned a model that", core, head)
    return core, compiled


def load_trained(content: bytes, path: Path, numeric: list[str], categorical: list[str], head: Head) -> Any:
    """The trained model of ``model.path`` (its bytes), once it takes exactly the data's features and fits the task."""
    try:
        model = load_model_bytes(content)
    except Exception as err:
        raise SpecFieldError(PATH, f"{path}: not a Keras model rai can load: {type(err).__name__}: "
                             f"{_first_line(err)}") from None
    names = {layer.name for layer in getattr(model, "layers", [])}
    if not {PREPROCESS, CORE} <= names:
        raise SpecFieldError(PATH, f"{path}: the model has no '{PREPROCESS}' and '{CORE}' parts; export it from a "
                             "rai run (runs/RUN_ID/model/model.keras) or train it here with model.builder")
    _check_inputs(path, model, numeric, categorical)
    _check_outputs(PATH, f"{path}: the model", model.get_layer(CORE), head)
    return model


def _check_inputs(path: Path, model: Any, numeric: list[str], categorical: list[str]) -> None:
    expected = {input_name(c): "string" for c in categorical} | {input_name(c): "float32" for c in numeric}
    columns = {input_name(c): c for c in [*numeric, *categorical]}
    found = {t.name.split(":")[0]: t.dtype.name for t in model.get_layer(PREPROCESS).inputs}
    missing = [columns[n] for n in expected if n not in found]
    extra = sorted(set(found) - set(expected))
    if missing or extra:
        parts = ([f"the model has no input for feature(s) {', '.join(missing)}"] if missing else []) + (
            [f"the data has no feature for model input(s) {', '.join(extra)}"] if extra else [])
        raise SpecFieldError(PATH, f"{path}: the model does not match the data's features: {'; '.join(parts)} "
                             "(drop or add columns with data.drop_columns, or export the model from the same data)")
    for name, dtype in expected.items():
        if found[name] != dtype:
            kinds = {"string": "categorical (text)", "float32": "numeric"}
            raise SpecFieldError(PATH, f"{path}: input '{name}' is {kinds.get(found[name], found[name])} in the model "
                                 f"but {kinds[dtype]} in the data")


def _check_outputs(loc: tuple[str, ...], what: str, core: Any, head: Head) -> None:
    units = core.output_shape[-1] if len(core.outputs) == 1 else None
    if units != head.units:
        need = {"binary": "1 (the positive-class probability, a sigmoid)",
                "multiclass": f"{head.units} (one softmax probability per class)",
                "regression": "1 (the predicted number)"}[head.task]
        raise SpecFieldError(loc, f"{what} outputs {units} value(s) per row; data.task {head.task} needs {need}")


def _first_line(err: BaseException) -> str:
    text = str(err).strip()
    return text.splitlines()[0][:300] if text else type(err).__name__
