"""Accountability checks: model-card metadata, human approvals and data/model lineage.

These checks read what people and the pipeline recorded (``metadata``, ``approvals``,
``lineage``; see :mod:`governance.evidence`) and compute nothing: they make sure the record a
reviewer or regulator will ask for exists before the model moves on.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import Field, PrivateAttr

from governance.checks.base import Check, CheckParams, Outcome, register
from governance.evidence import Evidence
from governance.trail.accountability import APPROVED, Requirement, assess

SHA256_HEX = re.compile(r"[0-9a-fA-F]{64}")


def _is_blank(value: Any) -> bool:
    """Absent, ``None``, whitespace-only text and empty collections all count as missing."""
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, (list, tuple, set, dict)):
        return len(value) == 0 or all(_is_blank(v) for v in value)
    return False


@register("accountability.metadata_present")
class MetadataPresent(Check):
    """The model card's required fields (owner, intended use, limitations, ...) are filled in."""

    stages = ("ingest", "train", "evaluate", "deploy")

    class Params(CheckParams):
        # A plain default (pydantic copies it per instance) so `rai checks` and the schema show it.
        fields: list[str] = Field(["owner", "intended_use", "limitations"], min_length=1)

    def evaluate(self, evidence: Evidence, params: Params) -> Outcome:
        metadata = evidence.require("metadata")
        missing = [f for f in params.fields if _is_blank(metadata.get(f))]
        message = (
            f"model-card fields missing or empty: {', '.join(missing)}" if missing
            else f"model-card fields present: {', '.join(params.fields)}"
        )
        return Outcome(
            not missing, message, observed=missing, threshold=list(params.fields),
            evidence={"required": list(params.fields), "missing": missing},
        )


@register("accountability.approvals")
class Approvals(Check):
    """Each required role approved by enough distinct members, none rejected, duties separated.

    With the policy's ``roles``, only members of a role count for it; the separation of duties
    (one role per person in a run, no approval by the person who started it) holds unless the
    rule turns it off. What counts is :mod:`governance.trail.accountability`'s, the same rules
    ``rai approve`` refuses decisions by.
    """

    stages = ("deploy",)

    class Params(CheckParams):
        roles: list[str] = Field(min_length=1)
        min_approvals: int = Field(1, ge=1)
        one_role_per_person: bool = Field(
            True, description="Separation of duties: a person decides for one role per run.")
        starter_may_approve: bool = Field(
            False, description="Whether the person who started the run may approve it.")
        # The policy's roles ({role: {members, min_approvals, keys}}), bound by the loader.
        _policy_roles: dict[str, Any] | None = PrivateAttr(None)

        def with_policy_roles(self, roles: dict[str, Any] | None) -> Approvals.Params:
            """A copy of these parameters knowing the policy's roles (``None``: it defines none)."""
            bound = self.model_copy()
            bound._policy_roles = roles
            return bound

        @property
        def policy_roles(self) -> dict[str, Any] | None:
            return self._policy_roles

    def evaluate(self, evidence: Evidence, params: Params) -> Outcome:
        approvals = evidence.require("approvals")
        req = Requirement.for_rule(params.policy_roles, params.roles, params.min_approvals,
                                   params.one_role_per_person, params.starter_may_approve)
        for role in params.roles:
            if req.roles is not None and role not in req.roles:
                raise ValueError(f"role {role!r} is not defined in the policy's roles")
            if req.roles is not None and not req.roles[role]["members"]:
                raise ValueError(f"role {role!r} has no members: name them in the policy's roles.{role}.members")
        result = assess(req, list(approvals))
        if result.invalid:
            bad = result.invalid[0]
            raise ValueError(f"{bad['actor']}'s {bad['decision']} as {bad['role']} (trail entry #{bad['seq']}): "
                             f"{bad['why']}; run `rai trail verify`")
        problems = result.missing()
        counts = {role: len(s["approved_by"]) for role, s in result.roles.items()}
        message = "; ".join(problems) if problems else (
            "approved by " + ", ".join(f"{role} ({n})" for role, n in counts.items()))
        if result.ignored:
            message += "; not counted: " + "; ".join(f"{i['actor']} as {i['role']}: {i['why']}" for i in result.ignored)
        return Outcome(result.state == APPROVED, message, observed=counts, threshold=params.min_approvals,
                       evidence=result.to_dict())


@register("accountability.lineage_recorded")
class LineageRecorded(Check):
    """The SHA-256 content hashes of the training data and/or the model are recorded."""

    stages = ("train", "evaluate", "deploy")

    class Params(CheckParams):
        require: list[Literal["datasets", "model"]] = Field(["datasets", "model"], min_length=1)

    def evaluate(self, evidence: Evidence, params: Params) -> Outcome:
        lineage = evidence.require("lineage")
        problems = []
        if "datasets" in params.require:
            datasets = lineage.get("datasets") or {}
            if not datasets:
                problems.append("no dataset hashes recorded")
            problems += [
                f"dataset '{name}' hash is not a SHA-256 hex digest: {digest!r}"
                for name, digest in datasets.items() if not _is_sha256(digest)
            ]
        if "model" in params.require and not _is_sha256(lineage.get("model")):
            problems.append(f"model hash is not a SHA-256 hex digest: {lineage.get('model')!r}")
        message = "; ".join(problems) if problems else f"lineage recorded: {', '.join(params.require)}"
        recorded = {"datasets": lineage.get("datasets") or {}, "model": lineage.get("model")}
        return Outcome(not problems, message, observed=problems, threshold=list(params.require),
                       evidence={"lineage": recorded, "problems": problems})


def _is_sha256(value: Any) -> bool:
    return isinstance(value, str) and SHA256_HEX.fullmatch(value) is not None
