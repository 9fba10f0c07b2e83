"""The completeness test, for any check: rai's own suite runs it on every registered check, and
a plugin's author runs it on theirs (``assert check_cases(MyCheck) == []``).

A check's cases are ``(case_id, evidence_factory, params, expected_ok)``: the evidence factory
returns a fresh :class:`~governance.evidence.Evidence`, ``params`` are a rule's ``params`` as a
policy writes them, ``expected_ok`` is whether the check holds. A check needs at least one case
where it holds and one where it does not.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from governance.checks.base import Check, Outcome


def check_cases(check: type[Check], cases: Iterable[tuple[str, Any, dict[str, Any], bool]] | None = None) -> list[str]:
    """Every problem of ``check``'s cases (default: its own :meth:`Check.cases`); empty when none.

    Each case runs through the check's ``Params`` and ``evaluate`` as a rule would; a case that
    raises, returns no :class:`Outcome`, has no message or holds when it should not is a problem.
    """
    cases = list(check.cases() if cases is None else cases)
    problems = []
    kinds = {expected for *_, expected in cases}
    if not {True, False} <= kinds:
        problems.append(f"check '{check.name}' needs at least one passing and one failing case")
    for case_id, factory, params, expected in cases:
        try:
            outcome = check().evaluate(factory(), check.Params(**params))
        except Exception as err:  # noqa: BLE001  (reported, not raised: every case is checked)
            problems.append(f"{check.name}:{case_id}: raised {type(err).__name__}: {err}")
            continue
        if not isinstance(outcome, Outcome) or not outcome.message:
            problems.append(f"{check.name}:{case_id}: returned no Outcome with a message")
        elif outcome.ok is not expected:
            problems.append(f"{check.name}:{case_id}: expected ok={expected}, got {outcome.ok} ({outcome.message})")
    return problems
