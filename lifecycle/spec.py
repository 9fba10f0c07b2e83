"""The pipeline specification (``pipeline.yaml``), as pydantic models.

The YAML is loaded as strictly as policies (duplicate keys, unknown keys, wrong types: one
``FILE:LINE:COL: path: message`` line each). Relative paths in the spec are resolved against
the spec file's directory.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

OptimizeMode = Literal["dynamic_range", "int8", "float16"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DataSpec(_Strict):
    """Where the data is and what its columns mean."""

    train: str = Field(description="CSV (optionally .gz) or Parquet file with training rows.")
    test: str | None = Field(None, description="Held-out file; if absent, `test_fraction` of train is split off.")
    test_fraction: float = Field(0.2, gt=0, lt=1)
    target: str = Field(description="Label column.")
    positive_label: str | int | bool = Field(description="Value of `target` that is the positive class.")
    sensitive_features: list[str] = Field(min_length=1)
    numeric_features: list[str] | None = Field(None, description="Default: inferred from dtypes.")
    categorical_features: list[str] | None = Field(None, description="Default: inferred from dtypes.")
    drop_columns: list[str] = Field(default_factory=list)
    use_sensitive_as_features: bool = Field(True, description="Feed sensitive columns to the model too.")
    na_values: list[str] = Field(default_factory=lambda: ["?", ""])
    label_strip: str = Field("", description="Characters stripped from labels, e.g. '.' for Adult's test file.")
    seed: int = 42


class ModelSpec(_Strict):
    """A Keras MLP with its preprocessing (normalization, string lookup / one-hot) inside."""

    hidden_units: list[int] = Field(default_factory=lambda: [64, 32], min_length=1)
    dropout: float = Field(0.0, ge=0, lt=1)
    epochs: int = Field(10, ge=1, le=1000)
    batch_size: int = Field(256, ge=1)
    learning_rate: float = Field(1e-3, gt=0)
    optimizer: Literal["adam", "sgd"] = "adam"


class PrivacySpec(_Strict):
    """DP-SGD settings (tensorflow-privacy). Give `noise_multiplier` or `target_epsilon`."""

    dp: bool = False
    l2_norm_clip: float = Field(1.0, gt=0)
    noise_multiplier: float | None = Field(None, gt=0)
    target_epsilon: float | None = Field(None, gt=0)
    delta: float = Field(1e-5, gt=0, lt=1)
    microbatches: int | None = Field(None, ge=1, description="Default: batch size (per-example clipping).")

    @model_validator(mode="after")
    def _noise_or_target(self) -> PrivacySpec:
        if self.dp and (self.noise_multiplier is None) == (self.target_epsilon is None):
            raise ValueError("with dp: true give exactly one of noise_multiplier or target_epsilon")
        return self


class OptimizeSpec(_Strict):
    """LiteRT conversions to make, audit and compare; `deploy` names the one to register."""

    modes: list[OptimizeMode] = Field(default_factory=lambda: ["dynamic_range"])
    representative_samples: int = Field(500, ge=1, description="Rows for int8 calibration.")
    deploy: OptimizeMode | Literal["float32", "keras"] = Field(
        "dynamic_range", description="Which model is registered: a LiteRT mode, float32 LiteRT or the Keras parent."
    )


class DeploySpec(_Strict):
    registry: str | None = Field(None, description="Registry directory; default: the workspace's registry/.")
    model_name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


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

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
    data: DataSpec
    model: ModelSpec = Field(default_factory=ModelSpec)
    privacy: PrivacySpec = Field(default_factory=PrivacySpec)
    optimize: OptimizeSpec = Field(default_factory=OptimizeSpec)
    deploy: DeploySpec
    policy: str = Field(description="Path to the policy YAML (relative to this file).")
    metadata: MetadataSpec = Field(default_factory=MetadataSpec)
