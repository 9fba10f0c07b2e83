"""Every registered check has at least one passing and one failing case, and every case holds.

The table is :data:`tests.checks.cases.CASES`; each family adds its cases there. A new check
without both kinds of case fails here, by name.
"""

from __future__ import annotations

import pytest

from governance.checks.base import Outcome, load_all

from .cases import CASES

REGISTRY = load_all()
ALL_CASES = [
    pytest.param(name, factory, params, expected, id=f"{name}:{case_id}")
    for name, cases in sorted(CASES.items())
    for case_id, factory, params, expected in cases
]


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_every_check_has_a_passing_and_a_failing_case(name):
    outcomes = {expected for _, _, _, expected in CASES.get(name, [])}
    assert outcomes >= {True, False}, (
        f"check '{name}' needs at least one passing and one failing case in tests/checks/cases.py "
        f"(has: {sorted(outcomes) or 'none'})"
    )


def test_cases_name_registered_checks():
    unknown = sorted(set(CASES) - set(REGISTRY))
    assert not unknown, f"cases for checks that are not registered: {unknown}"


@pytest.mark.parametrize("name, factory, params, expected", ALL_CASES)
def test_case(name, factory, params, expected):
    check = REGISTRY[name]
    outcome = check().evaluate(factory(), check.Params(**params))
    assert isinstance(outcome, Outcome)
    assert outcome.ok is expected, outcome.message
    assert outcome.message
