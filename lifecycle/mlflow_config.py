"""Where a run is mirrored in MLflow: the ``tracking`` block of a spec, ``--mlflow``, ``mlflow=``.

This module never imports MLflow, so a spec with a ``tracking`` block loads (and ``rai --help``
starts) as fast as one without. The same pydantic model validates the YAML block, the
``rai run --mlflow URI`` option and ``rai.start_run(..., mlflow=...)``.

A tracking URI is recorded in the audit trail, which cannot be edited afterwards, so a URI
carrying credentials (``https://user:token@host``) is refused: MLflow reads them from
``MLFLOW_TRACKING_USERNAME`` / ``MLFLOW_TRACKING_PASSWORD`` / ``MLFLOW_TRACKING_TOKEN`` instead.
"""

from __future__ import annotations

import importlib.util
import re
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from governance.errors import UserError
from governance.yamlvalidate import refusing

#: URI schemes MLflow's client can track to.
SCHEMES = ("http", "https", "file", "sqlite", "postgresql", "mysql", "databricks")
INSTALL_HINT = "MLflow support is not installed: pip install 'rai[mlflow]'"
_CONTROL = re.compile(r"[\x00-\x20\x7f]")


class MirrorWarning(UserWarning):
    """A run could not be mirrored to MLflow; the trail keeps the record and ``rai mlflow sync`` retries."""


class TrackingSpec(BaseModel):
    """``tracking: {mlflow: URI, experiment: NAME}``: mirror every run into an MLflow run."""

    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False)

    mlflow: Annotated[str, refusing(uri_problem)] = Field(description="MLflow tracking URI, e.g. http://127.0.0.1:5000 (no credentials in it).")
    experiment: str | None = Field(None, min_length=1, max_length=500,
                                   description="MLflow experiment (created if missing); default: the run's name.")
    attempts: int = Field(3, ge=1, le=10, description="Tries before the mirror is recorded as failed.")
    timeout_s: int = Field(10, ge=1, le=120, description="Seconds each request to MLflow may take.")

    @field_validator("experiment")
    @classmethod
    def _printable(cls, name: str | None) -> str | None:
        if name is not None and (not name.strip() or re.search(r"[\x00-\x1f\x7f]", name)):
            raise ValueError(f"must be a name without control characters, got {name!r}")
        return name


def uri_problem(uri: Any) -> str | None:
    """Why ``uri`` is not a tracking URI rai records, or None when it is."""
    if not isinstance(uri, str) or not uri or _CONTROL.search(uri):
        return f"must be an MLflow tracking URI without spaces ({', '.join(SCHEMES)}), got {uri!r}"
    parts = urlsplit(uri)
    scheme = parts.scheme.split("+")[0].lower()
    if scheme not in SCHEMES:
        return f"unsupported tracking URI scheme {parts.scheme or '(none)'!r}; use one of {', '.join(SCHEMES)}"
    if "@" in parts.netloc:
        return ("must not carry credentials (they would be recorded in the audit trail); set "
                "MLFLOW_TRACKING_USERNAME/MLFLOW_TRACKING_PASSWORD or MLFLOW_TRACKING_TOKEN instead")
    if scheme in ("http", "https") and not parts.hostname:
        return f"an {scheme} tracking URI needs a host, e.g. {scheme}://127.0.0.1:5000, got {uri!r}"
    return None


@dataclass(frozen=True)
class Tracking:
    """A validated tracking target of one run.

    Attributes
    ----------
    spec : where and how to mirror
    experiment : the MLflow experiment (the spec's, or the run's name)
    register : also register the deployed model in MLflow's Model Registry
    """

    spec: TrackingSpec
    experiment: str
    register: bool = False

    @property
    def uri(self) -> str:
        return self.spec.mlflow

    def record(self) -> dict[str, Any]:
        """What the trail records, enough for ``rai mlflow sync`` to try again later."""
        return {"tracking_uri": self.uri, "experiment": self.experiment, "register": self.register,
                "attempts": self.spec.attempts, "timeout_s": self.spec.timeout_s}

    @classmethod
    def from_record(cls, record: dict[str, Any], uri: str | None = None) -> Tracking:
        """Rebuild from :meth:`record` (``uri`` overrides the recorded one)."""
        spec = tracking_spec({"mlflow": uri or record.get("tracking_uri"), "experiment": record.get("experiment"),
                              "attempts": record.get("attempts", 3), "timeout_s": record.get("timeout_s", 10)},
                             "--mlflow")
        return cls(spec, spec.experiment or "rai", bool(record.get("register")))


def mlflow_installed() -> bool:
    """Whether the optional MLflow client is importable (without importing it)."""
    return importlib.util.find_spec("mlflow") is not None


def require_mlflow() -> None:
    """Raise a one-line :class:`UserError` when MLflow is not installed."""
    if not mlflow_installed():
        raise UserError(INSTALL_HINT)


def tracking_spec(value: Any, where: str) -> TrackingSpec:
    """Validate a URI string or a ``{mlflow, experiment, attempts, timeout_s}`` mapping.

    Raises
    ------
    UserError
        One line naming ``where`` and the field, e.g. ``mlflow.experiment: ...``.
    """
    data = {"mlflow": value} if isinstance(value, str) else value
    if not isinstance(data, dict):
        raise UserError(f"{where}: expected a tracking URI or a mapping {{mlflow: URI, experiment: NAME}}, "
                        f"got {type(value).__name__}")
    try:
        return TrackingSpec.model_validate(data)
    except ValidationError as err:
        first = err.errors()[0]
        place = ".".join(str(p) for p in first["loc"]) if not isinstance(value, str) else ""
        message = str(first["msg"]).removeprefix("Value error, ")
        raise UserError(f"{where}.{place}: {message}" if place else f"{where}: {message}") from None


def pipeline_tracking(spec: Any, uri: str | None = None) -> Tracking | None:
    """The tracking of a pipeline run: the spec's ``tracking`` block, ``--mlflow URI`` overriding its URI."""
    block = getattr(spec, "tracking", None)
    if block is None and uri is None:
        return None
    data = block.model_dump() if block is not None else {}
    if uri is not None:
        data["mlflow"] = uri
    checked = tracking_spec(data, "--mlflow" if uri is not None else "tracking")
    register = getattr(spec.deploy, "target", "registry") == "mlflow"
    return Tracking(checked, checked.experiment or spec.name, register)


def api_tracking(value: Any, name: str, register: bool) -> Tracking | None:
    """The tracking of a ``rai.start_run(..., mlflow=value, mlflow_registry=register)`` run."""
    if value is None:
        if register:
            raise UserError("mlflow_registry: registering in MLflow needs mlflow=URI too")
        return None
    checked = tracking_spec(value, "mlflow")
    if not isinstance(register, bool):
        raise UserError(f"mlflow_registry: expected true or false, got {register!r}")
    require_mlflow()
    return Tracking(checked, checked.experiment or name, register)


def check_spec_tracking(document: Any, spec: Any) -> None:
    """A spec whose ``deploy.target`` is ``mlflow`` needs a ``tracking`` block (and MLflow installed)."""
    if getattr(spec, "tracking", None) is not None and not mlflow_installed():
        raise document.error(("tracking", "mlflow"), INSTALL_HINT)
    if getattr(spec.deploy, "target", "registry") == "mlflow" and getattr(spec, "tracking", None) is None:
        raise document.error(("deploy", "target"), "'mlflow' needs a tracking block naming the server: "
                             "tracking: {mlflow: URI, experiment: NAME}")
