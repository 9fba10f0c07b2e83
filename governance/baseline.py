"""The baseline a rule compares with: a registered model's recorded or re-scored predictions.

A rule with ``relative_to: champion`` (or ``relative_to: {version: N}``) compares the model at
the gate with a registered one. Checks never look models up: the lifecycle finds the baseline
in the registry (``lifecycle/baseline.py``) and hands the gate a ``baselines`` evidence piece,
``{reference_key(relative_to): Baseline}``, with one entry per reference the stage's rules use.

A baseline's numbers come from one of two sources (:data:`RECORDED`, :data:`RESCORED`): the
predictions gated when it was registered, or, for rules that say ``rescore: true``, the
baseline model's own predictions of the rows the gate's ``predictions`` are of. A champion that
does not exist yet (or an entry registered without recorded predictions, for rules that read
them) is a missing baseline, and the rule follows its ``on_missing_baseline``; a model that
could not be re-scored is no missing baseline but a check that cannot run.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

CHAMPION = "champion"
#: Where a baseline's numbers come from: its recorded predictions, or its model re-scored.
RECORDED, RESCORED = "recorded", "rescored"


@dataclass(frozen=True)
class Baseline:
    """A registered model to compare with: its identity and predictions, or why there are none.

    Attributes
    ----------
    reference : ``champion`` or ``version N``, as the rule asked (:func:`reference_key`)
    model : the registered model name it was looked up under
    version : the registered version found (``None`` when there is none)
    predictions : its recorded ``Predictions``, gated when it was registered (``None`` if absent)
    missing : why there is no baseline, or no recorded predictions (``None`` when there are)
    model_sha256 : the SHA-256 of its model file, as its signed manifest names it
    rescored : the baseline model's predictions of the current gate's rows (rules with ``rescore``)
    rescore_problem : why it could not be re-scored, when a rule asked for it
    """

    reference: str
    model: str
    version: int | None = None
    predictions: Any = None
    missing: str | None = None
    model_sha256: str | None = None
    rescored: Any = None
    rescore_problem: str | None = None

    @property
    def label(self) -> str:
        """``credit v3`` (or ``credit`` when nothing was found)."""
        return f"{self.model} v{self.version}" if self.version is not None else self.model

    def identity(self) -> dict[str, Any]:
        """``{relative_to, model, version, model_sha256}``: which model the numbers are of."""
        return {"relative_to": self.reference, "model": self.model, "version": self.version,
                "model_sha256": self.model_sha256}

    def numbers(self, rescore: bool) -> tuple[Any, str | None]:
        """``(predictions, None)`` from the source a rule asks for, or ``(None, why missing)``.

        Raises
        ------
        ValueError
            ``rescore`` is asked for and the model could not be re-scored (the check cannot run).
        """
        if self.version is None:
            return None, self.missing or f"no {self.reference} to compare with"
        if not rescore:
            return (self.predictions, None) if self.predictions is not None else (
                None, self.missing or f"{self.label} has no recorded predictions")
        if self.rescored is None:
            raise ValueError(f"rescore: {self.label} could not be re-scored on the current evaluation rows: "
                             f"{self.rescore_problem or 'no re-scored predictions were handed to the gate'}")
        return self.rescored, None


@dataclass(frozen=True)
class Reference:
    """A baseline the rules of a gate compare with: the first rule naming it, and whether any re-scores."""

    rule_id: str
    relative_to: Any
    rescore: bool
    location: tuple[str, int, int] | None = None

    @property
    def where(self) -> str:
        """``policy.yaml:12:5: rule 'vs-v2'``: the rule in its file, for one-line errors."""
        place = f"{self.location[0]}:{self.location[1]}:{self.location[2]}: " if self.location else ""
        return f"{place}rule '{self.rule_id}'"


def reference_key(relative_to: Any) -> str:
    """``champion`` or ``version N`` for a rule's ``relative_to`` (the text, a mapping or a model)."""
    if relative_to == CHAMPION:
        return CHAMPION
    version = relative_to.get("version") if isinstance(relative_to, dict) else getattr(relative_to, "version", None)
    return f"version {version}"


def rule_references(rules: Iterable[Any]) -> dict[str, Reference]:
    """``{reference_key: Reference}`` of the rules that compare with a baseline."""
    found: dict[str, Reference] = {}
    for rule in rules:
        relative_to, rescore = _setting(rule, "relative_to"), _setting(rule, "rescore") is True
        if relative_to is None:
            continue
        key = reference_key(relative_to)
        first = found.get(key) or Reference(rule.id, relative_to, False, getattr(rule, "location", None))
        found[key] = Reference(first.rule_id, first.relative_to, first.rescore or rescore, first.location)
    return found


def _setting(rule: Any, name: str) -> Any:
    """A parameter of ``rule``: validated when the loader could, else as written."""
    if rule.validated is not None:
        return getattr(rule.validated, name, None)
    return (rule.params or {}).get(name)
