"""Who may decide: the policy's ``roles`` and ``waiver_approvers`` (the file format).

```yaml
roles:
  model-risk: {members: [alice, bob], min_approvals: 1}
  compliance:
    members:
      - carol
      - {name: dave, key: 3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c}
waiver_approvers: {critical: [compliance], high: [model-risk]}
```

A member is a name (the ``--actor`` of ``rai approve``, or the mapped sign-in of the dashboard)
or ``{name, key}`` with the member's Ed25519 public key (64 hex characters): a key named here is
the only one that may sign that member's decisions on runs under this policy. Checking the roles
against the rules and the waivers is :mod:`governance.policy.accountability`'s; what they mean
for a run is :mod:`governance.trail.accountability`'s.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, field_validator

from governance.yamlvalidate import ClosedModel, describe_value

ROLE_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]{0,79}$")
ROLE_MESSAGE = ("role names are lowercase letters, digits, '.', '_' and '-', starting with a letter or "
                "digit, at most 80 characters, got {got}")
KEY_PATTERN = r"^[0-9a-f]{64}$"
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
MAX_NAME = 128


class Member(ClosedModel):
    """A person who may decide for a role, and optionally the public key that signs for them."""

    name: str = Field(min_length=1, max_length=MAX_NAME, description="The actor name the person decides as.")
    key: str | None = Field(None, pattern=KEY_PATTERN,
                            description="Ed25519 public key, 64 lowercase hex characters (`rai keys list`).")

    @field_validator("name")
    @classmethod
    def _plain_name(cls, name: str) -> str:
        if name != name.strip() or _CONTROL.search(name):
            raise ValueError(f"must be a name without surrounding spaces or control characters, got {describe_value(name)}")
        return name


def _member_from_text(value: Any) -> Any:
    """``alice`` is short for ``{name: alice}``."""
    return {"name": value} if isinstance(value, str) else value


MemberRef = Annotated[Member, BeforeValidator(_member_from_text)]


class Role(ClosedModel):
    """A role of the policy: its members and how many of them must approve a run."""

    members: list[MemberRef] = Field(
        default_factory=list,
        description="Who holds the role; empty in a shared pack, named by the policy that extends it.")
    min_approvals: int = Field(1, ge=1, le=100, description="Distinct members who must approve a run.")
    description: str | None = None

    @field_validator("members")
    @classmethod
    def _distinct(cls, members: list[Member]) -> list[Member]:
        names = [m.name for m in members]
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise ValueError(f"members must not repeat, got {', '.join(repr(n) for n in repeated)} twice")
        return members

    def member_names(self) -> list[str]:
        return [m.name for m in self.members]

    def to_record(self) -> dict[str, Any]:
        """The plain form the trail records and readers use: ``{members, min_approvals, keys}``."""
        return {"members": self.member_names(), "min_approvals": self.min_approvals,
                "keys": {m.name: m.key for m in self.members if m.key}}


def roles_record(roles: dict[str, Role]) -> dict[str, dict[str, Any]] | None:
    """``{role: {members, min_approvals, keys}}`` of a policy, or ``None`` when it defines no roles."""
    return {name: role.to_record() for name, role in roles.items()} if roles else None
