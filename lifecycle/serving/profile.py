"""What a request row is checked against: the training features' profile.

The profile recorded at ingest (:func:`lifecycle.data.feature_profile`) travels in the signed
manifest (``schema.profile``). Entries registered before it existed get one derived from what
the entry does hold: the model's own vocabularies (every training category) and the ranges of
``reference.parquet`` (a sample of the training rows, so the range may be a little narrower).
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

import numpy as np

from lifecycle.model import MISSING_TOKEN, input_name
from lifecycle.serving.encoder import Encoder

#: Settings for a categorical value never seen in training.
UNSEEN_CHOICES = ("flag", "missing", "reject")


@dataclass(frozen=True)
class NumericProfile:
    low: float | None
    high: float | None
    missing_seen: bool


@dataclass(frozen=True)
class CategoricalProfile:
    categories: frozenset[str] | None  # None: too many to list, any value is accepted
    missing_seen: bool


@dataclass(frozen=True)
class FeatureProfile:
    """Per-feature ranges and categories, and where they come from (``ingest`` or ``derived``)."""

    numeric: dict[str, NumericProfile]
    categorical: dict[str, CategoricalProfile]
    source: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "numeric": {c: {"min": p.low, "max": p.high, "missing_seen": p.missing_seen} for c, p in self.numeric.items()},
            "categorical": {c: {"categories": sorted(p.categories) if p.categories is not None else None,
                                "missing_seen": p.missing_seen} for c, p in self.categorical.items()},
        }


def profile_from_manifest(schema: dict[str, Any]) -> FeatureProfile | None:
    """The ingest profile recorded in a manifest's ``schema``, or None for older entries."""
    recorded = schema.get("profile")
    if not isinstance(recorded, dict):
        return None
    numeric = {c: NumericProfile(_num(p.get("min")), _num(p.get("max")), bool(p.get("missing")))
               for c, p in (recorded.get("numeric") or {}).items()}
    categorical = {c: CategoricalProfile(frozenset(map(str, p["categories"])) if p.get("categories") is not None else None,
                                         bool(p.get("missing")))
                   for c, p in (recorded.get("categorical") or {}).items()}
    if set(numeric) != set(schema["numeric"]) or set(categorical) != set(schema["categorical"]):
        return None
    return FeatureProfile(numeric, categorical, "ingest")


def derived_profile(schema: dict[str, Any], encoder: Encoder | None, reference: bytes | None) -> FeatureProfile:
    """A profile from the model's vocabularies and the entry's reference rows (older entries)."""
    import pandas as pd

    frame = pd.read_parquet(io.BytesIO(reference)) if reference else pd.DataFrame()
    lookups = {lookup.input: lookup for lookup in (encoder.lookups if encoder else ())}
    numeric = {}
    for column in schema["numeric"]:
        values = pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=float) if column in frame else np.zeros(0)
        finite = values[np.isfinite(values)]
        numeric[column] = NumericProfile(float(finite.min()) if len(finite) else None,
                                         float(finite.max()) if len(finite) else None, bool(np.isnan(values).any()))
    categorical = {}
    for column in schema["categorical"]:
        lookup = lookups.get(input_name(column))
        if lookup is not None:
            seen = frozenset(t for t in lookup.slots if t != MISSING_TOKEN)
            categorical[column] = CategoricalProfile(seen, MISSING_TOKEN in lookup.slots)
        elif column in frame:
            values = frame[column]
            categorical[column] = CategoricalProfile(frozenset(values.dropna().astype(str)), bool(values.isna().any()))
        else:
            categorical[column] = CategoricalProfile(None, True)
    return FeatureProfile(numeric, categorical, "derived")


def _num(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None
