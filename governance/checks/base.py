"""The check registry: a check declares itself with :func:`register`; nobody keeps a list.

A check is a small class: a docstring that says what must hold, a pydantic ``Params`` model
validating its YAML ``params``, the ``stages`` it may run at, and ``evaluate`` returning an
:class:`Outcome`. The engine turns the outcome into a :class:`~governance.findings.Finding`
with the rule's id, severity and waiver applied.
"""

from __future__ import annotations

import difflib
import math
from dataclasses import dataclass, field
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, field_validator

from governance.evidence import Evidence
from governance.yamlvalidate import describe_value

STAGES = ("ingest", "train", "evaluate", "optimize", "deploy", "monitor")


# The largest integer every JSON reader keeps exactly; a count or size beyond it means nothing.
MAX_INT = 2**53 - 1
TOO_LARGE_INT = "must be an integer of at most {max} (2**53 - 1), got {got}"
NOT_FINITE = "must be a finite number, got {got}"


class CheckParams(BaseModel):
    """Base of every check's ``Params``: unknown keys are errors, values are validated strictly.

    Strict: a number is never read from a string (``'0.8'``) or a boolean (``true``), and a
    float is never rounded to an integer. Every number is finite (no NaN or infinity, also
    inside lists and mappings) and every integer is at most :data:`MAX_INT` in size, so a
    threshold always compares the way it reads.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, allow_inf_nan=False)

    @field_validator("*", mode="after")
    @classmethod
    def _finite_and_bounded(cls, value: Any) -> Any:
        problem = number_problem(value)
        if problem:
            raise ValueError(problem)
        return value


def number_problem(value: Any) -> str | None:
    """Why ``value`` (or a number inside it) is no usable number: NaN, infinite or a huge integer."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        if abs(value) <= MAX_INT:
            return None
        return TOO_LARGE_INT.format(max=MAX_INT, got=describe_value(value))
    if isinstance(value, float):
        return None if math.isfinite(value) else NOT_FINITE.format(got=describe_value(value))
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, (list, tuple, set, frozenset)):
        return next((p for p in map(number_problem, value) if p), None)
    return None


@dataclass
class Outcome:
    """What a check found: whether it holds, the numbers compared and the evidence."""

    ok: bool | None  # None: skipped (nothing to check), with ``message`` saying why
    message: str
    observed: Any = None
    threshold: Any = None
    evidence: dict[str, Any] = field(default_factory=dict)
    # The confidence interval neither clears the threshold nor lies beyond it (``ok`` is False).
    inconclusive: bool = False
    # Whether a failed or inconclusive outcome blocks, as the rule says (``on_inconclusive``,
    # ``on_missing_baseline``); None: the rule's severity against the policy's ``fail_on``.
    blocks: bool | None = None


class Check:
    """Base class of every check. Subclasses set ``name`` via :func:`register`."""

    name: ClassVar[str] = ""
    stages: ClassVar[tuple[str, ...]] = ()
    Params: ClassVar[type[CheckParams]] = CheckParams

    def evaluate(self, evidence: Evidence, params: Any) -> Outcome:  # pragma: no cover
        raise NotImplementedError

    @classmethod
    def doc(cls) -> str:
        return (cls.__doc__ or "").strip()


REGISTRY: dict[str, type[Check]] = {}


def register(name: str):
    """Class decorator registering a check under ``name`` (e.g. ``fairness.demographic_parity_difference``)."""

    def deco(cls: type[Check]) -> type[Check]:
        if name in REGISTRY and REGISTRY[name] is not cls:
            raise RuntimeError(f"check '{name}' registered twice")
        bad = set(cls.stages) - set(STAGES)
        if bad or not cls.stages:
            raise RuntimeError(f"check '{name}' declares invalid stages {sorted(bad) or '()'}")
        cls.name = name
        REGISTRY[name] = cls
        return cls

    return deco


_FAMILIES_LOADED = False


def load_all() -> dict[str, type[Check]]:
    """Import every check family so that they register; return the registry.

    Families are the modules beside this one (``fairness.py``, ``drift.py``, ...), discovered by
    name and imported by name: adding a family means adding a file, and this module never
    imports its families statically (they import it).
    """
    global _FAMILIES_LOADED
    if not _FAMILIES_LOADED:
        import importlib
        import pkgutil
        from pathlib import Path

        package = __name__.rsplit(".", 1)[0]
        for module in sorted(pkgutil.iter_modules([str(Path(__file__).parent)]), key=lambda m: m.name):
            if module.name != "base" and not module.name.startswith("_"):
                importlib.import_module(f"{package}.{module.name}")
        _FAMILIES_LOADED = True
    return REGISTRY


def get_check(name: str) -> type[Check]:
    """The check class registered as ``name``; ``KeyError`` with close names otherwise."""
    load_all()
    try:
        return REGISTRY[name]
    except KeyError:
        raise KeyError(unknown_check_message(name)) from None


def unknown_check_message(name: str) -> str:
    close = difflib.get_close_matches(name, REGISTRY, n=3, cutoff=0.5)
    hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    return f"unknown check '{name}'{hint} (see `rai checks`)"
