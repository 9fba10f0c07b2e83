"""The policy document model.

These pydantic models describe a *validated* policy. The strict YAML loader
(:mod:`governance.policy.loader`) builds them and reports every problem as
``FILE:LINE:COL: path: message``; each rule's ``params`` are then validated by the ``Params``
model of the check it names.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, field_validator, model_serializer

from governance.policy.roles import Role
from governance.provenance import utc_today
from governance.vocabulary import FRAMEWORKS, STAGES, Severity
from governance.yamlvalidate import ClosedModel, describe_value

Stage = Literal[STAGES]  # type: ignore[valid-type]  (the vocabulary's tuple, as Literal arguments)
Framework = Literal[FRAMEWORKS]  # type: ignore[valid-type]
#: What a rule that needs labels does on rows that have none (``on_missing_labels``); the first is the default.
MISSING_LABELS = ("skip", "warn", "block")

RULE_ID_PATTERN = r"^[a-z0-9][a-z0-9._-]{0,79}$"
CLAUSE_PATTERN = rf"^({'|'.join(FRAMEWORKS)}):[a-z0-9][a-z0-9.()_-]*$"
# A relative path to a sibling policy is short; anything longer is a mistake or an attack.
MAX_EXTENDS = 1024
DATE_MESSAGE = "must be an ISO date (YYYY-MM-DD), got {got}"
VERSION_MESSAGE = ("must be text or an integer, got {got}; put it in quotes "
                   "(unquoted, 1.10 would read as the number 1.1)")
PLUGIN_MESSAGE = "must be the path of a Python file (.py), relative to this file or absolute, got {got}"
_ISO_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def valid_extends(ref: Any) -> bool:
    """Whether ``ref`` can name a base policy at all (the schema says why when it cannot)."""
    return isinstance(ref, str) and 0 < len(ref) <= MAX_EXTENDS and not _CONTROL.search(ref)


def _plugin_ref(ref: str) -> str:
    if not ref.endswith(".py") or len(ref) > MAX_EXTENDS or _CONTROL.search(ref) or ref.startswith("rai:"):
        raise ValueError(PLUGIN_MESSAGE.format(got=describe_value(ref)))
    return ref


PluginRef = Annotated[str, AfterValidator(_plugin_ref)]


class Rule(ClosedModel):
    """A user-named binding of a registered check to a stage, a severity and parameters."""

    id: str = Field(pattern=RULE_ID_PATTERN, description="Unique rule id chosen by the user.")
    check: str = Field(description="A registered check name (see `rai checks`).")
    stage: Stage = Field(description="Lifecycle stage whose gate runs this rule.")
    severity: Severity = Field(description="low | medium | high | critical")
    params: dict[str, Any] = Field(default_factory=dict, description="Validated by the check.")
    description: str | None = None
    maps_to: list[str] = Field(
        default_factory=list,
        description="Clause references such as eu-ai-act:art-10 or nist-ai-rmf:measure-2.11.",
    )
    # The check's validated ``Params`` instance; filled in by the loader, not by YAML. None for a
    # rule that takes the run's sensitive features: the engine validates it at the gate.
    validated: Any = Field(default=None, exclude=True, repr=False)
    # (file, line, column) of the rule in the policy file that defines it; set by the loader.
    location: tuple[str, int, int] | None = Field(default=None, exclude=True, repr=False)


class Waiver(ClosedModel):
    """A time-limited, approved exception for one rule."""

    rule: str = Field(description="Id of the waived rule.")
    reason: str = Field(min_length=1)
    approved_by: str = Field(min_length=1)
    expires: dt.date = Field(description="ISO date: the last day (in UTC) the waiver holds.")

    @field_validator("reason", "approved_by")
    @classmethod
    def _not_blank(cls, text: str) -> str:
        if not text.strip():
            raise ValueError(f"must not be blank, got {describe_value(text)}")
        return text

    @field_validator("expires", mode="before")
    @classmethod
    def _a_date(cls, value: Any) -> Any:
        """A day, written as one: not a time (which day would it be where?), not a number."""
        if isinstance(value, dt.datetime) or isinstance(value, (bool, int, float)) or (
            isinstance(value, str) and not _ISO_DATE.match(value)
        ):
            raise ValueError(DATE_MESSAGE.format(got=describe_value(value)))
        return value

    def active(self, today: dt.date | None = None) -> bool:
        """Whether the waiver holds on ``today`` (default: today in UTC); it holds through ``expires``."""
        if isinstance(today, dt.datetime):
            today = (today.astimezone(dt.UTC) if today.tzinfo else today).date()
        return (today or utc_today()) <= self.expires


class Policy(ClosedModel):
    """A governance policy: rules bound to stages, a blocking threshold and waivers."""

    policy: str = Field(min_length=1, description="Policy name.")
    version: str = Field(min_length=1)
    owner: str = Field(min_length=1)
    description: str | None = None
    frameworks: list[Framework] = Field(default_factory=list)
    fail_on: Severity = Field(Severity.HIGH, description="Lowest severity that blocks.")
    on_missing_labels: Literal[MISSING_LABELS] = Field(  # type: ignore[valid-type]
        "skip",
        description="What a rule that needs labels does on rows without them (a live batch without the target "
                    "column, a prediction-log window without outcomes): skip, warn or block.",
    )
    extends: str | None = Field(
        None, min_length=1, max_length=MAX_EXTENDS,
        description="A base policy: a shipped pack (rai:default) or a path, relative to this file or absolute.",
    )
    sensitive_features: list[str] | None = Field(
        None, min_length=1,
        description="Sensitive features of the rules that do not name theirs (default: the run's).",
    )
    plugins: list[PluginRef] = Field(
        default_factory=list,
        description="Python files defining checks (run when the policy loads), relative to this file.",
    )
    rules: list[Rule] = Field(default_factory=list)
    waivers: list[Waiver] = Field(default_factory=list)
    roles: dict[str, Role] = Field(
        default_factory=dict,
        description="Who may decide: {role: {members: [name | {name, key}], min_approvals}} (docs/accountability.md).",
    )
    waiver_approvers: dict[str, list[str]] = Field(
        default_factory=dict,
        description="Roles whose members may approve waivers of rules of each severity, e.g. {critical: [ciso]}.",
    )

    # Set by the loader: where the policy came from and the SHA-256 of its canonical form.
    source: str | None = Field(default=None, exclude=True)
    sha256: str | None = Field(default=None, exclude=True)
    # Set by the loader: each plugin file of the policy and its bases, {file, path, sha256}.
    plugin_files: list[dict[str, str]] = Field(default_factory=list, exclude=True, repr=False)

    @model_serializer(mode="wrap")
    def _without_unused_keys(self, handler: Any) -> Any:
        """Keys added to the format later are left out while unused: older policies keep their hash."""
        data = handler(self)
        if isinstance(data, dict):
            for key in ("sensitive_features", "plugins", "roles", "waiver_approvers"):
                if key in data and not data[key]:
                    del data[key]
            if data.get("on_missing_labels") == MISSING_LABELS[0]:
                del data["on_missing_labels"]
        return data

    @field_validator("version", mode="before")
    @classmethod
    def _text_or_integer(cls, value: Any) -> Any:
        """``version: 1`` is clear; ``1.10`` is not (it reads as 1.1), so a float stays an error."""
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)
        if isinstance(value, (bool, float)):
            raise ValueError(VERSION_MESSAGE.format(got=describe_value(value)))
        return value

    @field_validator("sensitive_features")
    @classmethod
    def _feature_names(cls, names: list[str] | None) -> list[str] | None:
        if names is not None:
            if any(not name.strip() for name in names):
                raise ValueError("feature names must not be empty")
            if len(set(names)) != len(names):
                raise ValueError(f"features must not repeat, got {names}")
        return names


    @field_validator("extends")
    @classmethod
    def _plain_path(cls, ref: str | None) -> str | None:
        if ref is not None and _CONTROL.search(ref):
            code = ord(_CONTROL.search(ref).group())
            raise ValueError(f"must be a path without control characters, got U+{code:04X}")
        return ref

    def rules_for(self, stage: str) -> list[Rule]:
        return [r for r in self.rules if r.stage == stage]

    def waiver_for(self, rule_id: str) -> Waiver | None:
        """The latest-expiring waiver naming ``rule_id`` (active or not)."""
        ws = [w for w in self.waivers if w.rule == rule_id]
        return max(ws, key=lambda w: w.expires) if ws else None
