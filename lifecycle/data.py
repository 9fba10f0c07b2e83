"""Ingest: read the pipeline's data files into a labelled, typed, hashed and profiled Dataset.

Frames hold only what later stages need: the model's features, the sensitive columns (kept for
auditing even when they are not features) and the target coded for ``data.task``
(:mod:`lifecycle.targets`: 0/1 with 1 = ``positive_label``, a class index, or a number), labels
read as :mod:`lifecycle.labels` keys them; the test file may hold only labels the training file
has (a test file whose labels differ, say ``>50K.`` for ``>50K``, would otherwise count every
positive as negative). The sensitive columns as audited (``data.value_labels`` and ``data.bins``
applied, :mod:`governance.groups`) are kept beside the frames, one per split.
Numeric features are float64 with NaN for missing; categorical features are strings with NaN
for missing (the model maps missing to its own reserved token). Rows without a label are left out
and counted (``profile["unlabelled"]`` per file, the ingest metric ``unlabelled_rows``).

Every user mistake (unreadable or empty file, missing column, unusable target) raises a
:class:`~governance.errors.UserError` whose single line names the file and the column.
"""

from __future__ import annotations

import difflib
import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from governance.errors import UserError
from governance.fsutil import file_sha256
from governance.io import read_table, require_no_missing
from lifecycle.dataprofile import feature_profile, profile
from lifecycle.labels import label_classes, label_keys
from lifecycle.spec import DataSpec
from lifecycle.targets import class_names, class_order, code_target, favorable

__all__ = ["Dataset", "feature_profile", "frame_sha256", "load_dataset", "read_data"]


@dataclass
class Dataset:
    """Train and test frames plus what a reviewer needs to trust them.

    Attributes
    ----------
    train, test : frames with ``features``, the sensitive columns and ``target`` (coded for ``task``)
    target : name of the label column
    task : ``binary``, ``multiclass`` or ``regression``
    classes : multiclass: each class's name, in class-index order (empty otherwise)
    favorable : ``data.favorable_label`` as the target is coded (binary 1 or 0, a multiclass class
        name), ``None`` when not given
    groups : each split's sensitive columns as audited (value labels and bins applied)
    numeric_features, categorical_features : the model's inputs, by type
    sensitive_features : columns audited for fairness
    source_hashes : sha256 of each source file's bytes, keyed ``"train"`` / ``"test"``
    content_hashes : sha256 of the canonical processed ``train`` and ``test`` frames
    label_classes : the training labels' keys (:func:`lifecycle.labels.label_classes`; none for
        regression), recorded in the registry so that monitoring maps labels exactly as training did
    profile : JSON-able summary: rows, missing values, label balance, group sizes, and the
        training features' types, ranges and categories (:func:`feature_profile`); ``unlabelled``
        counts the rows of each file left out for having no label
    """

    train: pd.DataFrame
    test: pd.DataFrame
    target: str
    numeric_features: list[str]
    categorical_features: list[str]
    sensitive_features: list[str]
    source_hashes: dict[str, str] = field(default_factory=dict)
    content_hashes: dict[str, str] = field(default_factory=dict)
    profile: dict[str, Any] = field(default_factory=dict)
    label_classes: list[str] = field(default_factory=list)
    task: str = "binary"
    classes: list[str] = field(default_factory=list)
    groups: dict[str, pd.DataFrame] = field(default_factory=dict)
    favorable: Any = None

    @property
    def features(self) -> list[str]:
        """All model inputs: numeric first, then categorical."""
        return self.numeric_features + self.categorical_features


def load_dataset(spec: DataSpec, base_dir: Path) -> Dataset:
    """Read, validate, type, label-code and (if no test file) split the data of ``spec``.

    Parameters
    ----------
    spec : the pipeline's ``data`` section
    base_dir : directory that relative paths in ``spec`` are resolved against (the spec's own)

    Raises
    ------
    UserError
        Unreadable or empty file, missing column, a target that does not fit ``data.task`` (one
        class, more than two for binary, text for regression, no ``positive_label``), a numeric
        feature holding text, value labels or bins that do not fit the sensitive columns.
    """
    train_path = Path(base_dir) / spec.train
    raw_train = read_data(train_path, spec)
    unlabelled = {"train": int(raw_train[spec.target].isna().sum()) if spec.target in raw_train.columns else 0}
    columns = _columns(raw_train, train_path, spec)
    train = _prepare(raw_train, train_path, spec, columns)
    labels = raw_train[spec.target].dropna()
    keys = [] if spec.task == "regression" else label_classes(label_keys(labels, spec.label_strip))
    hashes = {"train": file_sha256(train_path)}
    if spec.test:
        test_path = Path(base_dir) / spec.test
        raw_test = read_data(test_path, spec)
        test = _prepare(raw_test, test_path, spec, columns, known_labels=keys or None)
        unlabelled["test"] = int(raw_test[spec.target].isna().sum())
        hashes["test"] = file_sha256(test_path)
    else:
        train, test = _split(train, train_path, spec)
    numeric, categorical = columns["numeric"], columns["categorical"]
    classes = class_names(labels, spec, class_order(keys)) if spec.task == "multiclass" else []
    groups = _groups(train, test, spec, train_path)
    return Dataset(
        train=train, test=test, target=spec.target, label_classes=keys, task=spec.task, classes=classes,
        numeric_features=numeric, categorical_features=categorical, sensitive_features=list(spec.sensitive_features),
        source_hashes=hashes, content_hashes={"train": frame_sha256(train), "test": frame_sha256(test)},
        groups=groups, favorable=favorable(labels, train_path, spec, classes),
        profile={**profile({"train": train, "test": test}, spec.target, groups, spec.task, classes),
                 "features": feature_profile(train, numeric, categorical), "unlabelled": unlabelled},
    )


def _groups(train: pd.DataFrame, test: pd.DataFrame, spec: DataSpec, path: Path) -> dict[str, pd.DataFrame]:
    """Each split's sensitive columns with ``data.value_labels`` and ``data.bins`` applied (to both splits at once)."""
    from governance.groups import apply_groups

    columns = list(spec.sensitive_features)
    both = pd.concat([train[columns], test[columns]], ignore_index=True)
    try:
        grouped = apply_groups(both, spec.value_labels or None, spec.bins or None, names=("data.value_labels", "data.bins"))
    except UserError as err:
        where = f"{path} and {spec.test}" if spec.test else str(path)
        raise UserError(f"{where}: {err}") from None
    return {"train": grouped.iloc[: len(train)].reset_index(drop=True),
            "test": grouped.iloc[len(train):].reset_index(drop=True)}


def read_data(path: Path, spec: DataSpec) -> pd.DataFrame:
    """One data file as the pipeline reads it: :func:`governance.io.read_table`, as ``rai audit`` reads it.

    The same reader, so the same values and missing values; the spec adds its ``data.csv``
    dialect and its ``data.na_values`` markers (default ``?`` and the empty field) and strips
    the column names.

    Raises
    ------
    UserError
        A missing, empty, unreadable or header-only file, or one of an unknown type.
    """
    if not path.is_file():
        raise UserError(f"{path}: data file not found")
    frame = read_table(path, csv_options=spec.csv, na_values=spec.na_values)
    if frame.empty:
        raise UserError(f"{path}: data file has a header but no rows")
    frame.columns = [str(c).strip() for c in frame.columns]
    return frame


def _require(frame: pd.DataFrame, path: Path, column: str, role: str) -> None:
    if column in frame.columns:
        return
    close = difflib.get_close_matches(column, list(frame.columns), n=1)
    hint = f"; did you mean '{close[0]}'?" if close else f"; columns are: {', '.join(frame.columns)}"
    raise UserError(f"{path}: column '{column}' ({role}) not found{hint}")


def _columns(frame: pd.DataFrame, path: Path, spec: DataSpec) -> dict[str, list[str]]:
    """Resolve the feature lists against the training file, inferring types where not given."""
    named = [(spec.target, "data.target")]
    named += [(c, "data.sensitive_features") for c in spec.sensitive_features]
    named += [(c, "data.numeric_features") for c in spec.numeric_features or []]
    named += [(c, "data.categorical_features") for c in spec.categorical_features or []]
    named += [(c, "data.drop_columns") for c in spec.drop_columns]
    for column, role in named:
        _require(frame, path, column, role)
    excluded = {spec.target, *spec.drop_columns}
    if not spec.use_sensitive_as_features:
        excluded |= set(spec.sensitive_features)
    rest = [c for c in frame.columns if c not in excluded]
    numeric, categorical = spec.numeric_features, spec.categorical_features
    if numeric is None and categorical is None:
        numeric = [c for c in rest if _is_numeric(frame[c])]
    if numeric is None:
        numeric = [c for c in rest if c not in categorical]
    if categorical is None:
        categorical = [c for c in rest if c not in numeric]
    if not numeric and not categorical:
        raise UserError(f"{path}: no feature columns left besides the target '{spec.target}'")
    _distinct_input_names(path, [*numeric, *categorical])
    return {"numeric": list(numeric), "categorical": list(categorical)}


def _distinct_input_names(path: Path, features: list[str]) -> None:
    """Refuse columns whose model input names coincide (``a b``, ``a_b``) before any TensorFlow work."""
    from lifecycle.model import input_name

    seen: dict[str, str] = {}
    for column in features:
        name = input_name(column)
        if name in seen:
            raise UserError(f"{path}: columns '{seen[name]}' and '{column}' both become the model input '{name}' "
                            "(names keep only letters, digits, '_' and '.'); rename or drop one")
        seen[name] = column


def _is_numeric(column: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column)


def _prepare(frame: pd.DataFrame, path: Path, spec: DataSpec, columns: dict[str, list[str]],
             known_labels: list[str] | None = None) -> pd.DataFrame:
    """Select, type and label-code one file's rows (labels among ``known_labels`` when given)."""
    features = columns["numeric"] + columns["categorical"]
    sensitive_only = [c for c in spec.sensitive_features if c not in features]
    for column in [*features, *sensitive_only, spec.target]:
        _require(frame, path, column, "present in the training file")
    require_no_missing(frame, spec.sensitive_features, path)  # a row of no known group: see as_sensitive
    out = frame.loc[frame[spec.target].notna(), features + sensitive_only].copy()
    if out.empty:
        raise UserError(f"{path}: target column '{spec.target}' has no labelled rows")
    for column in columns["numeric"]:
        out[column] = _numeric(out[column], path, column)
    for column in columns["categorical"]:
        out[column] = _text(out[column])
    out[spec.target] = code_target(frame.loc[out.index, spec.target], path, spec, known_labels)
    return out.reset_index(drop=True)


def _numeric(column: pd.Series, path: Path, name: str) -> pd.Series:
    values = pd.to_numeric(column, errors="coerce")
    bad = column[values.isna() & column.notna()]
    if len(bad):
        raise UserError(f"{path}: numeric feature '{name}' holds text, e.g. {bad.iloc[0]!r}")
    return values.astype("float64")


def _text(column: pd.Series) -> pd.Series:
    return column.where(column.isna(), column.astype(str).str.strip()).astype(object)


def _split(frame: pd.DataFrame, path: Path, spec: DataSpec) -> tuple[pd.DataFrame, pd.DataFrame]:
    from sklearn.model_selection import train_test_split

    stratify = None if spec.task == "regression" else frame[spec.target]
    try:
        train, test = train_test_split(frame, test_size=spec.test_fraction, stratify=stratify, random_state=spec.seed)
    except ValueError:  # a class too small to appear on both sides
        raise UserError(
            f"{path}: {len(frame)} rows are too few to split off a test_fraction of {spec.test_fraction} "
            f"with {'both classes' if spec.task == 'binary' else 'every class'} on each side; give data.test or more rows"
        ) from None
    return train.reset_index(drop=True), test.reset_index(drop=True)


def frame_sha256(frame: pd.DataFrame) -> str:
    """sha256 of a frame's canonical CSV form (columns in order, no index, '\\n' line ends)."""
    text = frame.to_csv(index=False, lineterminator="\n", float_format="%.17g")
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
