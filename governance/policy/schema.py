"""The policy document model.

These pydantic models describe a *validated* policy. The strict YAML loader
(:mod:`governance.policy.loader`) builds them and reports every problem as
``FILE:LINE:COL: path: message``; each rule's ``params`` are then validated by the ``Params``
model of the check it names.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from governance.findings import Severity

Stage = Literal["ingest", "train", "evaluate", "optimize", "deploy", "monitor"]
Framework = Literal["eu-ai-act", "nist-ai-rmf", "iso-42001"]

RULE_ID_PATTERN = r"^[a-z0-9][a-z0-9._-]{0,79}$"
CLAUSE_PATTERN = r"^(eu-ai-act|nist-ai-rmf|iso-42001):[a-z0-9][a-z0-9.()_-]*$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Rule(_Strict):
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
    # The check's validated ``Params`` instance; filled in by the loader, not by YAML.
    validated: Any = Field(default=None, exclude=True, repr=False)


class Waiver(_Strict):
    """A time-limited, approved exception for one rule."""

    rule: str = Field(description="Id of the waived rule.")
    reason: str = Field(min_length=1)
    approved_by: str = Field(min_length=1)
    expires: dt.date = Field(description="ISO date; the waiver is ignored from the day after.")

    def active(self, today: dt.date | None = None) -> bool:
        return (today or dt.date.today()) <= self.expires


class Policy(_Strict):
    """A governance policy: rules bound to stages, a blocking threshold and waivers."""

    policy: str = Field(min_length=1, description="Policy name.")
    version: str = Field(min_length=1)
    owner: str = Field(min_length=1)
    description: str | None = None
    frameworks: list[Framework] = Field(default_factory=list)
    fail_on: Severity = Field(Severity.HIGH, description="Lowest severity that blocks.")
    extends: str | None = Field(None, description="Relative path to a base policy.")
    rules: list[Rule] = Field(default_factory=list)
    waivers: list[Waiver] = Field(default_factory=list)

    # Set by the loader: where the policy came from and the SHA-256 of its canonical form.
    source: str | None = Field(default=None, exclude=True)
    sha256: str | None = Field(default=None, exclude=True)

    def rules_for(self, stage: str) -> list[Rule]:
        return [r for r in self.rules if r.stage == stage]

    def waiver_for(self, rule_id: str) -> Waiver | None:
        """The latest-expiring waiver naming ``rule_id`` (active or not)."""
        ws = [w for w in self.waivers if w.rule == rule_id]
        return max(ws, key=lambda w: w.expires) if ws else None
