"""The frozen values the lifecycle stages return (kedro's node outputs).

Every stage is a plain function returning one of these; :mod:`lifecycle.pipeline` threads them
from stage to stage, records them and gates them, and :mod:`lifecycle.session` builds the same
values from a user's own model. Each carries what its gate evaluates (``evidence``, pieces named
as in :mod:`governance.evidence`) and what the trail records of the stage: ``metrics`` (the
headline numbers), ``artifacts`` (``{name: Artifact.to_dict()}``), the evidence ``blob`` and
``payload`` (extra fields of the ``stage.completed`` event, such as ``privacy``).

Values are frozen: a later stage reads an earlier one's result, never changes it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from governance.evidence import Evidence


@dataclass(frozen=True, kw_only=True)
class StageResult:
    """What any stage hands back: its gate evidence and what the trail records of it."""

    evidence: Evidence = field(default_factory=Evidence, repr=False)
    metrics: dict[str, Any] = field(default_factory=dict)
    artifacts: dict[str, dict[str, Any]] = field(default_factory=dict, repr=False)
    blob: dict[str, Any] = field(default_factory=dict, repr=False)
    payload: dict[str, Any] = field(default_factory=dict, repr=False)


@dataclass(frozen=True, kw_only=True)
class Ingested(StageResult):
    """The data, read, typed, label-coded, hashed and profiled (:class:`lifecycle.data.Dataset`)."""

    dataset: Any = field(repr=False)
    lineage: dict[str, Any]


@dataclass(frozen=True, kw_only=True)
class Trained(StageResult):
    """A model taking raw columns (its preprocessing inside), saved as a run artifact.

    ``origin`` says where it came from: ``{"type": "mlp"}``, ``{"type": "builder", "builder":
    "pkg.mod:fn"}`` or ``{"type": "keras-file", "path", "sha256"}`` (training skipped).
    """

    model: Any = field(repr=False)
    model_artifact: dict[str, Any]
    privacy: dict[str, Any]
    lineage: dict[str, Any]
    origin: dict[str, Any] = field(default_factory=lambda: {"type": "mlp"})


@dataclass(frozen=True, kw_only=True)
class Evaluated(StageResult):
    """A model's predictions on the held-out rows and the numbers that describe them."""

    predictions: Any = field(repr=False)
    predictions_artifact: dict[str, Any] | None = None


@dataclass(frozen=True, kw_only=True)
class Converted:
    """One LiteRT conversion of a model, scored on the evaluation rows and described.

    ``row`` is the summary row (``mode``, ``sha256``, ``size_bytes``, ``latency_ms``,
    ``accuracy``, ``performance``, ``group_gaps``); ``evidence`` what its gate evaluates.
    """

    mode: str
    artifact: dict[str, Any]
    row: dict[str, Any]
    predictions: Any = field(repr=False)
    predictions_artifact: dict[str, Any] | None = None
    evidence: Evidence = field(default_factory=Evidence, repr=False)


@dataclass(frozen=True, kw_only=True)
class Optimized(StageResult):
    """LiteRT variants of the trained model next to their parent, and (in a pipeline) the deploy candidate.

    ``variants`` holds the gated variants in order; ``reference`` is the parent's float32
    conversion (the size and latency ratios' denominator), gated only when chosen.
    """

    parent: dict[str, Any]
    variants: tuple[Converted, ...]
    reference: Converted
    deploy: str | None = None
    candidate: dict[str, Any] | None = None

    def variant(self, mode: str) -> Converted | None:
        """The gated variant of ``mode``, if any."""
        return next((v for v in self.variants if v.mode == mode), None)


@dataclass(frozen=True, kw_only=True)
class Deployed(StageResult):
    """A signed registry entry and the events that record it (``model.registered``, ``model.deployed``)."""

    entry: Any = field(repr=False)
    registered: dict[str, Any]
    deployed: dict[str, Any]
    subjects: dict[str, Any]

    @property
    def summary(self) -> dict[str, Any]:
        """The ``deployed`` object of a run's summary."""
        return {"name": self.entry.name, "version": self.entry.version, "manifest": self.registered["manifest_path"],
                "variant": self.registered["variant"], "model_sha256": self.registered["model_sha256"]}
