"""Rules of a pipeline spec that relate several fields, checked before any data is read.

Field by field, :mod:`lifecycle.spec` validates types and ranges. Here the fields are checked
against each other, so that a spec which cannot mean one thing is refused with one located line
(``FILE:LINE:COL: path: message``) instead of failing later inside pandas or TensorFlow:

- a column listed twice in one list, or in two roles that exclude each other (numeric and
  categorical; the target as a feature; a dropped column that is also used);
- a sensitive column named as a model feature while ``use_sensitive_as_features`` is false;
- a LiteRT mode listed twice;
- DP-SGD settings given while ``privacy.dp`` is false (the model would silently train without
  DP), and microbatches that do not divide the batch size;
- labels that do not fit ``data.task`` (a binary task needs ``positive_label``; a regression
  target has no positive or favourable value), ``value_labels`` and ``bins`` for columns that
  are not sensitive, or both for one column;
- ``model.builder`` and ``model.path`` together, MLP or training settings that have no effect on
  a built or an already trained model, and DP-SGD for a model that is not trained.
"""

from __future__ import annotations

from typing import Any

from governance.yamlsafe import Document
from lifecycle.mlflow_config import check_spec_tracking
from lifecycle.spec import PipelineSpec

_COLUMN_LISTS = ("sensitive_features", "numeric_features", "categorical_features", "drop_columns")
# Lists whose columns may not also appear in the other list of the pair: (list, other, reason).
_EXCLUSIVE = (
    ("categorical_features", "numeric_features", "a column has one type"),
    ("drop_columns", "sensitive_features", "a dropped column cannot be audited"),
    ("drop_columns", "numeric_features", "a dropped column cannot be a feature"),
    ("drop_columns", "categorical_features", "a dropped column cannot be a feature"),
)
_DP_ONLY = ("noise_multiplier", "target_epsilon", "microbatches")


def check_spec(document: Document, spec: PipelineSpec) -> None:
    """Raise a :class:`~governance.errors.LocatedError` for the first rule ``spec`` breaks."""
    data = spec.data
    for field in _COLUMN_LISTS:
        _no_repeats(document, ("data", field), getattr(data, field) or [])
    _no_repeats(document, ("optimize", "modes"), spec.optimize.modes)
    for field in _COLUMN_LISTS:
        for i, column in enumerate(getattr(data, field) or []):
            if column == data.target:
                raise document.error(("data", field, i), f"'{column}' is the target (data.target); "
                                     "the label cannot also be listed here")
    for field, other, reason in _EXCLUSIVE:
        taken = set(getattr(data, other) or [])
        for i, column in enumerate(getattr(data, field) or []):
            if column in taken:
                raise document.error(("data", field, i), f"'{column}' is also in data.{other}; {reason}")
    if not data.use_sensitive_as_features:
        _sensitive_not_features(document, spec)
    _privacy(document, spec)
    _task(document, spec)
    _groups(document, spec)
    _model_source(document, spec)
    check_spec_tracking(document, spec)  # deploy.target: mlflow needs a tracking block


def _no_repeats(document: Document, loc: tuple[str, ...], values: list[Any]) -> None:
    seen: dict[Any, int] = {}
    for i, value in enumerate(values):
        if value in seen:
            raise document.error(loc + (i,), f"'{value}' is listed twice (also at [{seen[value]}]); list it once")
        seen[value] = i


def _sensitive_not_features(document: Document, spec: PipelineSpec) -> None:
    sensitive = set(spec.data.sensitive_features)
    for field in ("numeric_features", "categorical_features"):
        for i, column in enumerate(getattr(spec.data, field) or []):
            if column in sensitive:
                raise document.error(("data", field, i), f"'{column}' is sensitive and data.use_sensitive_as_features "
                                     "is false; remove it here or set use_sensitive_as_features: true")


def _privacy(document: Document, spec: PipelineSpec) -> None:
    privacy = spec.privacy
    if not privacy.dp:
        for field in _DP_ONLY:
            if getattr(privacy, field) is not None:
                raise document.error(("privacy", field), "has no effect while privacy.dp is false (the model would "
                                     "train without DP-SGD); set dp: true or remove it")
        return
    batch = spec.model.batch_size
    if privacy.microbatches is not None and (privacy.microbatches > batch or batch % privacy.microbatches):
        raise document.error(("privacy", "microbatches"),
                             f"{privacy.microbatches} must divide model.batch_size {batch}")


def _task(document: Document, spec: PipelineSpec) -> None:
    data = spec.data
    if data.task == "binary" and data.positive_label is None:
        raise document.error(("data", "positive_label"), "required with data.task binary: the value of "
                             f"'{data.target}' that is the positive class")
    if data.task != "binary" and data.positive_label is not None:
        raise document.error(("data", "positive_label"), f"has no meaning with data.task {data.task} (no positive "
                             "class); remove it" + ("; favorable_label names the good class" if data.task == "multiclass"
                                                    else ""))
    if data.task == "regression" and data.favorable_label is not None:
        raise document.error(("data", "favorable_label"), "has no meaning with data.task regression; remove it")


def _groups(document: Document, spec: PipelineSpec) -> None:
    data = spec.data
    for field in ("value_labels", "bins"):
        for column in getattr(data, field):
            if column not in data.sensitive_features:
                raise document.error(("data", field, column), f"'{column}' is not in data.sensitive_features "
                                     f"({', '.join(data.sensitive_features)}); groups are made of sensitive columns")
    for column in data.bins:
        if column in data.value_labels:
            raise document.error(("data", "bins", column), f"'{column}' also has data.value_labels; give one of them")


# Settings that shape or train a model, and what makes them meaningless.
_MLP_ONLY = ("hidden_units", "dropout")
_TRAINING = ("hidden_units", "dropout", "epochs", "batch_size", "learning_rate", "optimizer")


def _model_source(document: Document, spec: PipelineSpec) -> None:
    model, given = spec.model, spec.model.model_fields_set
    if model.builder is not None and model.path is not None:
        raise document.error(("model", "path"), "model.builder builds and trains a model, model.path loads a "
                             "trained one; give one of them")
    if model.path is not None:
        for field in _TRAINING:
            if field in given:
                raise document.error(("model", field), "has no effect with model.path (the model is already "
                                     "trained, training is skipped); remove it")
        if spec.privacy.dp:
            raise document.error(("privacy", "dp"), "model.path skips training, so no DP-SGD can run; remove "
                                 "privacy or train the model here with model.builder")
    if model.builder is not None:
        for field in _MLP_ONLY:
            if field in given:
                raise document.error(("model", field), f"has no effect with model.builder ({model.builder} builds "
                                     "the model); remove it")
