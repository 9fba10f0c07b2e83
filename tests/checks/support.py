"""Helpers for the check-family tests: run one rule through the real engine, pick table rows."""

from __future__ import annotations

from typing import Any

import pytest

from governance.checks.base import get_check
from governance.engine import evaluate
from governance.evidence import Evidence
from governance.findings import Finding
from governance.policy.schema import Policy, Rule

from .cases import CASES


def run_rule(check: str, evidence: Evidence, params: dict[str, Any] | None = None,
             stage: str | None = None, severity: str = "high") -> Finding:
    """The finding of a one-rule policy binding ``check`` at ``stage`` (default: its first stage)."""
    stage = stage or get_check(check).stages[0]
    rule = Rule(id="rule-under-test", check=check, stage=stage, severity=severity, params=params or {})
    policy = Policy(policy="test", version="1", owner="tests", rules=[rule])
    (finding,) = evaluate(policy, stage, evidence).findings
    return finding


def family_cases(family: str) -> list[Any]:
    """The rows of :data:`CASES` for checks named ``family.*``, as pytest params."""
    return [
        pytest.param(name, factory, params, expected, id=f"{name}:{case_id}")
        for name, cases in sorted(CASES.items()) if name.startswith(f"{family}.")
        for case_id, factory, params, expected in cases
    ]
