"""Rules against a baseline: the parameters they share, finding the baseline, and one number compared.

A rule with ``relative_to`` (``champion`` or ``{version: N}``) bounds the change of its number
from the same number of a registered model: ``max_decrease`` and ``max_increase`` bound the
change itself, ``max_relative_change`` bounds |change| / |baseline|. The baseline's numbers come
from its recorded predictions, or from its model re-scored on the gate's rows (``rescore:
true``); the lifecycle hands them to the gate as the ``baselines`` evidence
(:mod:`governance.baseline`). ``performance.metric``, ``performance.error`` and
``fairness.group_metric`` share these parameters and this vocabulary.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import Field, field_validator

from governance.baseline import RECORDED, RESCORED, Baseline, reference_key
from governance.checks.base import MAX_INT, CheckParams, Outcome
from governance.errors import MissingEvidence
from governance.evidence import Evidence
from governance.yamlvalidate import describe_value

BOUNDS = ("max_decrease", "max_increase", "max_relative_change")
NO_BASELINES = ("relative_to compares with a registered model, which gates of rai run and of API runs "
                "look up in the registry")
CHANGE_RANGE = "{key}: must be a number in [0, {high:g}] for {what}, whose values lie in [{low:g}, {top:g}], got {got:g}"


class VersionRef(CheckParams):
    """``{version: N}``: a registered version of the same model."""

    version: int = Field(ge=1, description="Registered version number of the same model.")


class RelativeParams(CheckParams):
    """The parameters of a rule that compares with a registered baseline model."""

    relative_to: Literal["champion"] | VersionRef | None = Field(
        None, description="champion, or {version: N}: the registered model to compare with.")
    max_decrease: float | None = Field(None, ge=0, description="Largest decrease from the baseline accepted.")
    max_increase: float | None = Field(None, ge=0, description="Largest increase over the baseline accepted.")
    max_relative_change: float | None = Field(
        None, ge=0, description="Largest |change| / |baseline| accepted (0.1 is 10%).")
    on_missing_baseline: Literal["pass", "warn", "block"] = Field(
        "warn", description="What the rule does when there is no baseline to compare with.")
    rescore: bool = Field(False, description="Score the baseline model on the gate's rows instead of "
                                             "reading its recorded predictions.")

    @field_validator("relative_to", mode="before")
    @classmethod
    def _reference(cls, value: Any) -> Any:
        """``champion`` or ``{version: N}``, with one clear message for anything else."""
        if value is None or value == "champion" or isinstance(value, VersionRef):
            return value
        if not isinstance(value, dict):
            raise ValueError(f"must be champion or {{version: N}}, got {describe_value(value)}")
        for key in value:
            if key != "version":
                raise ValueError(f"unknown key {str(key)!r} in {{version: N}}; did you mean 'version'?")
        version = value.get("version")
        if isinstance(version, bool) or not isinstance(version, int) or not 1 <= version <= MAX_INT:
            raise ValueError(f"version must be a registered version number (1, 2, ...), got {describe_value(version)}")
        return VersionRef(version=version)

    def relative_bounds(self) -> dict[str, float]:
        """The change bounds the rule gives, by name."""
        return {k: getattr(self, k) for k in BOUNDS if getattr(self, k) is not None}

    def relative_problem(self, values: tuple[float, float], what: str) -> str | None:
        """Why the baseline parameters do not fit together, or ``None``.

        ``values`` is the range the compared number can take: a change bound wider than the
        widest possible change can never be reached, which is a mistake (``5`` meant as 5%).
        """
        given = list(self.relative_bounds())
        if given and self.relative_to is None:
            return f"{given[0]} needs relative_to (champion or {{version: N}})"
        if self.relative_to is not None and not given:
            return "relative_to needs max_decrease, max_increase or max_relative_change"
        if self.rescore and self.relative_to is None:
            return "rescore needs relative_to (champion or {version: N}): it re-scores that model"
        low, high = values
        widest = high - low
        for key in ("max_decrease", "max_increase"):
            bound = getattr(self, key)
            if bound is not None and bound > widest:
                return CHANGE_RANGE.format(key=key, high=widest, what=what, low=low, top=high, got=bound)
        return None


def baseline_for(evidence: Evidence, params: RelativeParams) -> tuple[Baseline, Any, str | None]:
    """``(baseline, its predictions or None, why missing)`` for the rule's ``relative_to`` and source.

    Raises
    ------
    MissingEvidence
        The gate has no ``baselines`` (``rai audit``, ``rai monitor``: no registry).
    ValueError
        No baseline was looked up for the reference, or it could not be re-scored.
    """
    if "baselines" not in evidence:
        raise MissingEvidence("baselines", NO_BASELINES)
    baselines = evidence.require("baselines")
    key = reference_key(params.relative_to)
    baseline = baselines.get(key) if isinstance(baselines, Mapping) else None
    if baseline is None:
        raise ValueError(f"baselines: no baseline was looked up for '{key}'")
    predictions, missing = baseline.numbers(params.rescore)
    return baseline, predictions, missing


def described(baseline: Baseline, predictions: Any, params: RelativeParams, missing: str | None) -> dict[str, Any]:
    """The ``baseline`` object of a finding's evidence: which model, where its numbers came from."""
    found: dict[str, Any] = {**baseline.identity(), "source": RESCORED if params.rescore else RECORDED}
    if predictions is not None:
        found["rows"] = int(len(predictions.y_true))
    if missing is not None:
        found["missing"] = missing
    return found


def missing_text(missing: str, params: RelativeParams) -> str:
    return f"no baseline: {missing} (on_missing_baseline: {params.on_missing_baseline})"


def change(now: float, then: float, params: RelativeParams, what: str) -> tuple[float, float | None, list[str]]:
    """``(change, relative change, bounds exceeded)`` of ``now`` from the baseline's ``then``.

    Raises
    ------
    ValueError
        ``max_relative_change`` is given and the baseline's value is 0 while the number changed.
    """
    delta = now - then
    relative = None
    if params.max_relative_change is not None:
        if then == 0 and delta != 0:
            raise ValueError(f"the relative change of {what} is undefined: the baseline's value is 0")
        relative = 0.0 if delta == 0 else delta / abs(then)
    beyond = []
    if params.max_decrease is not None and -delta > params.max_decrease:
        beyond.append(f"max_decrease {params.max_decrease}")
    if params.max_increase is not None and delta > params.max_increase:
        beyond.append(f"max_increase {params.max_increase}")
    if relative is not None and abs(relative) > params.max_relative_change:
        beyond.append(f"max_relative_change {params.max_relative_change}")
    return delta, relative, beyond


def outcome(failed: bool, missing: bool, params: RelativeParams, message: str, **args: Any) -> Outcome:
    """The outcome of a rule that failed or not, with a missing baseline handled as the rule says."""
    on_missing = params.on_missing_baseline if missing else "pass"
    if failed:
        return Outcome(False, message, **args)
    if on_missing == "block":
        return Outcome(False, message, **args, blocks=True)
    if on_missing == "warn":
        return Outcome(False, message, **args, blocks=False)
    return Outcome(True, message, **args)
