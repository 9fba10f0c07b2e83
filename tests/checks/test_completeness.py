"""Every registered check has at least one passing and one failing case, and every case holds.

The table is :data:`tests.checks.cases.CASES`; each family adds its cases there. A new check
without both kinds of case fails here, by name.
"""

from __future__ import annotations

from collections.abc import Iterable

import pytest

from governance.checks.base import Outcome, load_all

from .cases import CASES

REGISTRY = load_all()
# rai's table, plus the cases that checks ship themselves (plugins installed here included).
WITH_OWN_CASES = {name: CASES.get(name, []) + list(cls.cases()) for name, cls in REGISTRY.items()}
ALL_CASES = [
    pytest.param(name, factory, params, expected, id=f"{name}:{case_id}")
    for name, cases in sorted(WITH_OWN_CASES.items())
    for case_id, factory, params, expected in cases
]


def uncovered(check_names: Iterable[str], cases: dict) -> list[str]:
    """The checks that lack a passing or a failing case."""
    return sorted(
        name for name in check_names
        if not {expected for *_, expected in cases.get(name, [])} >= {True, False}
    )


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_every_check_has_a_passing_and_a_failing_case(name):
    assert not uncovered([name], WITH_OWN_CASES), (
        f"check '{name}' needs at least one passing and one failing case in tests/checks/cases.py"
    )


def test_a_check_without_both_kinds_of_case_is_caught():
    only_passing = {"x.only_passing": [("ok", None, {}, True)]}
    assert uncovered(["x.new_check", "x.only_passing"], only_passing) == ["x.new_check", "x.only_passing"]


def test_cases_name_registered_checks():
    unknown = sorted(set(CASES) - set(REGISTRY))
    assert not unknown, f"cases for checks that are not registered: {unknown}"


def test_case_ids_are_unique_per_check():
    for name, cases in CASES.items():
        ids = [case_id for case_id, *_ in cases]
        assert len(ids) == len(set(ids)), f"{name}: repeated case ids"


@pytest.mark.parametrize("name, factory, params, expected", ALL_CASES)
def test_case(name, factory, params, expected):
    check = REGISTRY[name]
    outcome = check().evaluate(factory(), check.Params(**params))
    assert isinstance(outcome, Outcome)
    assert outcome.ok is expected, outcome.message
    assert outcome.message
