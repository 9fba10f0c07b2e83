"""Rules of a pipeline spec that relate several fields, checked before any data is read.

Field by field, :mod:`lifecycle.spec` validates types and ranges. Here the fields are checked
against each other, so that a spec which cannot mean one thing is refused with one located line
(``FILE:LINE:COL: path: message``) instead of failing later inside pandas or TensorFlow:

- a column listed twice in one list, or in two roles that exclude each other (numeric and
  categorical; the target as a feature; a dropped column that is also used);
- a sensitive column named as a model feature while ``use_sensitive_as_features`` is false;
- a LiteRT mode listed twice;
- DP-SGD settings given while ``privacy.dp`` is false (the model would silently train without
  DP), and microbatches that do not divide the batch size.
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
