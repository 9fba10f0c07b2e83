"""The pipeline specification (``pipeline.yaml``), as pydantic models.

The YAML is loaded as strictly as policies (duplicate keys, unknown keys, wrong types: one
``FILE:LINE:COL: path: message`` line each). Relative paths in the spec are resolved against
the spec file's directory.

Values are taken as written, never coerced: a number field wants a number (not ``true``, not
``'2'``), every float is finite, and every number has a range. The ranges keep each setting
within what the stages can compute in bounded time and memory; for instance a noise multiplier
below 0.3 makes privacy accounting take minutes while certifying an epsilon in the hundreds.
Rules that relate several fields (a column listed twice, a column both numeric and
categorical) are checked by :mod:`lifecycle.speccheck`.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from governance.csvoptions import CsvOptions
from governance.errors import UserError
from governance.yamlsafe import format_path
from governance.yamlvalidate import refusing
from lifecycle.distribute import DistributeSpec
from lifecycle.mlflow_config import TrackingSpec

OptimizeMode = Literal["dynamic_range", "int8", "float16"]
Task = Literal["binary", "multiclass", "regression"]
Label = str | int | bool

#: Pipeline and model names: a file name, never a path (no separators, no ``..``).
NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"
NAME_RULE = "letters, digits, '.', '_' and '-' (up to 64, starting with a letter or digit, no '..')"

MAX_SEED = 2**32 - 1  # numpy and scikit-learn seeds are unsigned 32-bit
MAX_HIDDEN_UNITS = 4096
MAX_HIDDEN_LAYERS = 16
MAX_BATCH_SIZE = 1_000_000
MIN_NOISE_MULTIPLIER = 0.3
MAX_NOISE_MULTIPLIER = 1000.0  # as far as noise calibration searches
MAX_TARGET_EPSILON = 100.0
MIN_DELTA = 1e-12  # smaller deltas make the PLD accountant's epsilon infinite
#: ``model.builder``: an importable module path and a function name.
BUILDER_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*:[A-Za-z_][A-Za-z0-9_]*$"


class SpecFieldError(UserError):
    """A mistake found while running, about one field of the spec (``loc``, e.g. ``("model", "builder")``).

    The pipeline locates it in the spec file (``pipeline.yaml:12:12: model.builder: ...``) when it
    has the file; otherwise it reads ``model.builder: ...``.
    """

    def __init__(self, loc: tuple[str | int, ...], detail: str):
        self.loc, self.detail = tuple(loc), detail
        super().__init__(f"{format_path(self.loc)}: {detail}")


def name_problem(name: object) -> str | None:
    """Why ``name`` is not a valid pipeline or model name, or None when it is."""
    if not isinstance(name, str) or not re.match(NAME_PATTERN, name) or ".." in name:
        return f"must be {NAME_RULE}, got {name!r}"
    return None


class _Strict(BaseModel):
    # strict: no coercion (true is not 1, '2' is not 2); allow_inf_nan: every float is finite.
    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False)


class DataSpec(_Strict):
    """Where the data is and what its columns mean."""

    train: str = Field(description="CSV (optionally .gz) or Parquet file with training rows.")
    test: str | None = Field(None, description="Held-out file; if absent, `test_fraction` of train is split off.")
    test_fraction: float = Field(0.2, gt=0, lt=1)
    target: str = Field(min_length=1, description="Label column.")
    task: Task = Field("binary", description="binary (two classes), multiclass (softmax over the classes) or "
                       "regression (a number).")
    positive_label: Label | None = Field(None, description="Value of `target` that is the positive class (binary).")
    favorable_label: Label | None = Field(
        None, description="The outcome that is good for the person (default: positive_label); selection-rate "
        "parity counts it.")
    sensitive_features: list[str] = Field(min_length=1)
    value_labels: dict[str, dict[Label | float, str]] = Field(
        default_factory=dict, description="Readable names of a sensitive column's values: {SEX: {1: male, 2: female}}.")
    bins: dict[str, list[float]] = Field(
        default_factory=dict, description="Bands of a numeric sensitive column: {age: [0, 25, 40, 60, 120]}.")
    numeric_features: list[str] | None = Field(None, description="Default: inferred from dtypes.")
    categorical_features: list[str] | None = Field(None, description="Default: inferred from dtypes.")
    drop_columns: list[str] = Field(default_factory=list)
    use_sensitive_as_features: bool = Field(True, description="Feed sensitive columns to the model too.")
    na_values: list[str] = Field(default_factory=lambda: ["?", ""])
    csv: CsvOptions = Field(default_factory=CsvOptions, description="How CSV files are written: {sep, encoding, "
                            "decimal, quotechar}, e.g. {sep: \";\", decimal: \",\"}.")
    label_strip: str = Field("", description="Characters stripped from labels, e.g. '.' for Adult's test file.")
    seed: int = Field(42, ge=0, le=MAX_SEED)


class ModelSpec(_Strict):
    """A Keras model with its preprocessing (normalization, string lookup / one-hot) inside.

    By default an MLP of ``hidden_units``; ``builder`` names the user's function that builds the
    model on the preprocessed inputs, and ``path`` an already trained model (training skipped).
    """

    builder: str | None = Field(None, description=(
        "'package.module:function' building the model on the preprocessed inputs (runs your code)."))
    path: str | None = Field(None, min_length=1, description="An already trained .keras model (relative to this file).")
    hidden_units: list[Annotated[int, Field(ge=1, le=MAX_HIDDEN_UNITS)]] = Field(
        default_factory=lambda: [64, 32], min_length=1, max_length=MAX_HIDDEN_LAYERS)
    dropout: float = Field(0.0, ge=0, lt=1)
    epochs: int = Field(10, ge=1, le=1000)
    batch_size: int = Field(256, ge=1, le=MAX_BATCH_SIZE)
    learning_rate: float = Field(1e-3, gt=0, le=1)
    optimizer: Literal["adam", "sgd"] = "adam"
    distribute: DistributeSpec | None = Field(None, description=(
        "tf.distribute: {strategy: mirrored} (this machine's devices) or {strategy: multi_worker, workers: N}."))

    @field_validator("builder")
    @classmethod
    def _module_and_function(cls, value: str | None) -> str | None:
        if value is not None and not re.match(BUILDER_PATTERN, value):
            raise ValueError(f"must be 'package.module:function' (a module on the Python path or next to the spec, "
                             f"and a function in it), got {value!r}")
        return value


class PrivacySpec(_Strict):
    """DP-SGD settings (tensorflow-privacy). Give `noise_multiplier` or `target_epsilon`."""

    dp: bool = False
    l2_norm_clip: float = Field(1.0, gt=0, le=1000)
    noise_multiplier: float | None = Field(None, ge=MIN_NOISE_MULTIPLIER, le=MAX_NOISE_MULTIPLIER)
    target_epsilon: float | None = Field(None, gt=0, le=MAX_TARGET_EPSILON)
    delta: float = Field(1e-5, ge=MIN_DELTA, le=0.1)
    microbatches: int | None = Field(None, ge=1, le=MAX_BATCH_SIZE,
                                     description="Default: batch size (per-example clipping).")

    @model_validator(mode="after")
    def _noise_or_target(self) -> PrivacySpec:
        if self.dp and (self.noise_multiplier is None) == (self.target_epsilon is None):
            raise ValueError("with dp: true give exactly one of noise_multiplier or target_epsilon")
        return self


class OptimizeSpec(_Strict):
    """LiteRT conversions to make, audit and compare; `deploy` names the one to register."""

    modes: list[OptimizeMode] = Field(default_factory=lambda: ["dynamic_range"])
    representative_samples: int = Field(500, ge=1, le=100_000, description="Rows for int8 calibration.")
    deploy: OptimizeMode | Literal["float32", "keras"] = Field(
        "dynamic_range", description="Which model is registered: a LiteRT mode, float32 LiteRT or the Keras parent."
    )


class DeploySpec(_Strict):
    registry: str | None = Field(None, description="Registry directory; default: the workspace's registry/.")
    model_name: Annotated[str, refusing(name_problem)]
    target: Literal["registry", "mlflow"] = Field(
        "registry", description="mlflow: also register the signed entry in MLflow's Model Registry (needs tracking).")


class MetadataSpec(_Strict):
    """Model-card fields (Mitchell et al. 2019) supplied by people, not computed."""

    owner: str | None = None
    intended_use: str | None = None
    out_of_scope_uses: list[str] = Field(default_factory=list)
    limitations: list[str] = Field(default_factory=list)
    ethical_considerations: list[str] = Field(default_factory=list)
    description: str | None = None
    contact: str | None = None
    license: str | None = None


class PipelineSpec(_Strict):
    """A whole pipeline: data, model, privacy, optimization, deployment, policy, metadata."""

    name: Annotated[str, refusing(name_problem)]
    data: DataSpec
    model: ModelSpec = Field(default_factory=ModelSpec)
    privacy: PrivacySpec = Field(default_factory=PrivacySpec)
    optimize: OptimizeSpec = Field(default_factory=OptimizeSpec)
    deploy: DeploySpec = Field(description="Where the model is registered; model_name defaults to the pipeline's name.")
    policy: str = Field(description="Path to the policy YAML (relative to this file).")
    metadata: MetadataSpec = Field(default_factory=MetadataSpec)
    tracking: TrackingSpec | None = Field(None, description="Mirror the run into MLflow: {mlflow: URI, experiment: NAME}.")

    @model_validator(mode="before")
    @classmethod
    def _deploy_name(cls, data: object) -> object:
        """A spec without ``deploy`` (or without ``deploy.model_name``) registers under its own name."""
        if isinstance(data, dict) and isinstance(data.get("name"), str):
            deploy = data.get("deploy")
            if deploy is None and "deploy" not in data:
                return {**data, "deploy": {"model_name": data["name"]}}
            if isinstance(deploy, dict) and "model_name" not in deploy:
                return {**data, "deploy": {**deploy, "model_name": data["name"]}}
        return data
