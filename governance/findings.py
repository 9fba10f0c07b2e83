"""Findings and gate decisions: the values every check and gate returns."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from enum import Enum
from typing import Any

from governance.vocabulary import Decision, Severity, Status, status_blocks


def jsonable(value: Any) -> Any:
    """Turn numpy scalars/arrays, NaN and enums into plain JSON values (NaN/inf become None)."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if hasattr(value, "tolist") and not isinstance(value, (str, bytes)):
        return jsonable(value.tolist())
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, (str, int, bool)) or value is None:
        return value
    return str(value)


@dataclass
class Finding:
    """What one rule found at one stage.

    ``observed`` and ``threshold`` are the numbers a reviewer compares; ``evidence`` is a
    JSON-able dict (per-group tables, per-column drift rows, ...) that the trail stores.
    """

    rule_id: str
    check: str
    stage: str
    severity: Severity
    status: Status
    message: str
    observed: Any = None
    threshold: Any = None
    evidence: dict[str, Any] = field(default_factory=dict)
    maps_to: list[str] = field(default_factory=list)
    waiver: dict[str, Any] | None = None
    subject: str | None = None  # e.g. the LiteRT variant a finding is about
    on_inconclusive: str | None = None  # "warn" or "block": what an inconclusive finding does

    @property
    def blocks(self) -> bool:
        return status_blocks(Status(self.status).value, self.on_inconclusive)

    def to_dict(self) -> dict[str, Any]:
        out = jsonable(asdict(self))
        if self.on_inconclusive is None:  # only inconclusive findings carry it: older records read the same
            del out["on_inconclusive"]
        return out


@dataclass
class GateResult:
    """The decision of a gate: the findings of one stage and whether they block."""

    stage: str
    findings: list[Finding]
    subject: str | None = None

    @property
    def blocked(self) -> bool:
        return any(f.blocks for f in self.findings)

    @property
    def decision(self) -> str:
        """``"blocked"`` or ``"passed"`` (:class:`~governance.vocabulary.Decision` values)."""
        return (Decision.BLOCKED if self.blocked else Decision.PASSED).value

    @property
    def blocking(self) -> list[Finding]:
        return [f for f in self.findings if f.blocks]

    def raise_if_blocked(self) -> GateResult:
        """Raise :class:`~governance.errors.GateBlocked` when the gate blocks; return ``self`` otherwise."""
        from governance.errors import GateBlocked

        if self.blocked:
            raise GateBlocked(self)
        return self

    def to_dict(self) -> dict[str, Any]:
        return {
            "stage": self.stage,
            "subject": self.subject,
            "decision": self.decision,
            "findings": [f.to_dict() for f in self.findings],
        }
