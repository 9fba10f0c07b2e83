"""The baseline a rule compares with: a registered model's recorded predictions.

A rule with ``relative_to: champion`` (or ``relative_to: {version: N}``) compares the model at
the gate with a registered one. Checks never look models up: the lifecycle finds the baseline
in the registry (``lifecycle/baseline.py``) and hands the gate a ``baselines`` evidence piece,
``{reference_key(relative_to): Baseline}``, with one entry per reference the stage's rules use.
A champion that does not exist yet is a :class:`Baseline` with ``missing`` saying why; the rule
then follows its ``on_missing_baseline``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

CHAMPION = "champion"


@dataclass(frozen=True)
class Baseline:
    """A registered model's recorded predictions, or why there are none.

    Attributes
    ----------
    reference : ``champion`` or ``version N``, as the rule asked (:func:`reference_key`)
    model : the registered model name it was looked up under
    version : the registered version found (``None`` when missing)
    predictions : its recorded ``Predictions`` (or ``RegressionPredictions``); ``None`` when missing
    missing : why there is no baseline (``None`` when there is one)
    """

    reference: str
    model: str
    version: int | None = None
    predictions: Any = None
    missing: str | None = None

    @property
    def label(self) -> str:
        """``credit v3`` (or ``credit`` when nothing was found)."""
        return f"{self.model} v{self.version}" if self.version is not None else self.model


def reference_key(relative_to: Any) -> str:
    """``champion`` or ``version N`` for a rule's ``relative_to`` (the text, a mapping or a model)."""
    if relative_to == CHAMPION:
        return CHAMPION
    version = relative_to.get("version") if isinstance(relative_to, dict) else getattr(relative_to, "version", None)
    return f"version {version}"


def rule_references(rules: Iterable[Any]) -> dict[str, Any]:
    """``{reference_key: (rule id, relative_to)}`` of the rules that compare with a baseline."""
    found: dict[str, Any] = {}
    for rule in rules:
        relative_to = getattr(rule.validated, "relative_to", None) if rule.validated is not None else None
        if relative_to is None:
            relative_to = (rule.params or {}).get("relative_to")
        if relative_to is not None:
            found.setdefault(reference_key(relative_to), (rule.id, relative_to))
    return found
