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

from governance.checks import _plugins
from governance.evidence import Evidence
from governance.vocabulary import STAGES
from governance.yamlvalidate import describe_value

#: The parameter a rule may leave out to take the run's sensitive features.
RUN_FEATURES = "sensitive_features"


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
    # The `rai audit` commands (``fairness``, ``drift``) whose evidence this check needs no more
    # than, for checks outside those families (plugins): their rules then run in that audit.
    audits: ClassVar[tuple[str, ...]] = ()
    # Whether the check reads the model's outputs only (selection rates, score levels), never the
    # labels: its rules run on rows whose outcomes are not known yet (a live batch, a window of the
    # prediction log). Other checks never see such rows' predictions; see runs_without_labels.
    label_free: ClassVar[bool] = False

    def evaluate(self, evidence: Evidence, params: Any) -> Outcome:  # pragma: no cover
        raise NotImplementedError

    @classmethod
    def runs_without_labels(cls, params: Any) -> bool:
        """Whether a rule of this check with ``params`` is decided on rows without labels.

        When not, the engine hands it no ``predictions`` (nor ``target``) on such rows; a rule
        that then asks for them is recorded as needing labels, as the policy's
        ``on_missing_labels`` says. Checks whose need depends on a parameter (the metric) say so
        here.
        """
        return cls.label_free

    @classmethod
    def doc(cls) -> str:
        return (cls.__doc__ or "").strip()

    @classmethod
    def cases(cls) -> list[tuple[str, Any, dict[str, Any], bool]]:
        """Test cases ``(case_id, evidence_factory, params, expected_ok)`` the check ships itself.

        rai's own checks keep theirs in the test suite's table; a plugin's check returns its own
        here, and the completeness test (and :func:`governance.checks.testing.check_cases`)
        requires at least one passing and one failing case, like for every built-in check.
        """
        return []


REGISTRY: dict[str, type[Check]] = {}
#: Where each registered check comes from: ``built-in`` or the plugin that registered it.
ORIGINS: dict[str, str] = {}


def register(name: str):
    """Class decorator registering a check under ``name`` (e.g. ``fairness.demographic_parity_difference``)."""

    def deco(cls: type[Check]) -> type[Check]:
        if name in REGISTRY and REGISTRY[name] is not cls:
            raise RuntimeError(f"check '{name}' is registered twice (first by {ORIGINS.get(name)})")
        bad = set(cls.stages) - set(STAGES)
        if bad or not cls.stages:
            raise RuntimeError(f"check '{name}' declares invalid stages {sorted(bad) or '()'}")
        cls.name = name
        REGISTRY[name] = cls
        ORIGINS.setdefault(name, _plugins.module_origin(cls.__module__))
        return cls

    return deco


_FAMILIES_LOADED = False
_ENTRY_POINTS_LOADED: set[str] = set()


def load_all() -> dict[str, type[Check]]:
    """Import every check family and installed plugin so that they register; return the registry.

    Families are the modules beside this one (``fairness.py``, ``drift.py``, ...), discovered by
    name and imported by name: adding a family means adding a file, and this module never
    imports its families statically (they import it). Installed packages add checks through the
    ``rai.checks`` entry points (:func:`load_installed_plugins`).

    Raises
    ------
    PluginError
        An installed plugin fails to load (one line naming it).
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
        load_installed_plugins()
    return REGISTRY


def load_installed_plugins() -> None:
    """Import the installed ``rai.checks`` entry points not loaded yet (see ``checks/_plugins.py``)."""
    _plugins.load_entry_points(REGISTRY, ORIGINS, _ENTRY_POINTS_LOADED)


def load_plugin(origin: str, load: Any, where: str | None = None) -> list[str]:
    """Run ``load`` (a plugin's import) all or nothing; the check names it registered.

    Raises
    ------
    PluginError
        One line: ``where`` (default ``origin``), then why the plugin did not load.
    """
    return _plugins.load_guarded(REGISTRY, ORIGINS, origin, load, where)


def origin_of(name: str) -> str:
    """Where check ``name`` comes from: ``built-in``, or the plugin that registered it."""
    return ORIGINS.get(name, _plugins.BUILT_IN)


def takes_run_features(check: type[Check], params: Any) -> bool:
    """Whether a rule of ``check`` with ``params`` takes the run's sensitive features.

    True when the check requires ``sensitive_features`` and the rule does not give them: the
    policy's ``sensitive_features``, else the run's (the spec's, ``--sensitive``, the sensitive
    columns of ``rai.Predictions``) are used.
    """
    field_ = check.Params.model_fields.get(RUN_FEATURES)
    return field_ is not None and field_.is_required() and isinstance(params, dict) and RUN_FEATURES not in params


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
