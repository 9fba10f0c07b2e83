"""Framework mapping: which clauses a run's rules and records bear on, and what they leave open."""

from __future__ import annotations

import pytest

from governance.policy.schema import CLAUSE_PATTERN
from governance.report.frameworks import FRAMEWORKS, NOT_COVERED, RECORDS, clause_matches
from governance.report.mapping import framework_mapping, rule_statuses

from .synthetic import BLOCKED_RUN, PASSED_RUN


@pytest.mark.parametrize("ref,clause,expected", [
    ("eu-ai-act:art-10", "eu-ai-act:art-10", True),
    ("eu-ai-act:art-10(2)(f)", "eu-ai-act:art-10", True),
    ("eu-ai-act:art-10.3", "eu-ai-act:art-10", True),
    ("eu-ai-act:art-100", "eu-ai-act:art-10", False),
    ("eu-ai-act:art-1", "eu-ai-act:art-10", False),
    ("nist-ai-rmf:measure-2.11", "nist-ai-rmf:measure-2.1", False),
    ("nist-ai-rmf:MEASURE-2.11", "nist-ai-rmf:measure-2.11", True),
    ("iso-42001:a.6.2.8", "iso-42001:a.6.2.8", True),
    ("iso-42001:a.6.2.8", "eu-ai-act:art-12", False),
])
def test_clause_references(ref, clause, expected):
    assert clause_matches(ref, clause) is expected


def test_tables_are_well_formed():
    import re

    ids = [c.id for fw in FRAMEWORKS for c in fw.clauses]
    assert len(ids) == len(set(ids))
    assert {fw.id for fw in FRAMEWORKS} == {"eu-ai-act", "nist-ai-rmf", "iso-42001"}
    for fw in FRAMEWORKS:
        for c in fw.clauses:
            assert re.match(CLAUSE_PATTERN, c.id) and c.id.startswith(fw.id + ":"), c.id
            assert c.gap, f"{c.id} must say what automated evidence does not cover"
            assert set(c.records) <= set(RECORDS), c.id
    eu = {c.id for c in FRAMEWORKS[0].clauses}
    for article in (9, 10, 12, 13, 14, 15):
        assert f"eu-ai-act:art-{article}" in eu
    assert sum(c.startswith("eu-ai-act:annex-iv(") for c in eu) == 9
    assert len(NOT_COVERED) >= 5


def _clause(mapping, clause_id):
    return next(c for fw in mapping["frameworks"] for c in fw["clauses"] if c["id"] == clause_id)


def test_passed_run_mapping(reports):
    m = reports[PASSED_RUN]["frameworks"]
    art10 = _clause(m, "eu-ai-act:art-10")
    assert art10["status"] == "supported"
    assert {"id": "equal-opportunity-sex", "check": "fairness.equal_opportunity_difference", "via": "maps_to",
            "status": "passed"} in art10["rules"]
    assert {r["name"] for r in art10["records"]} == {"lineage", "drift"}
    # The only failure (dynamic_range's accuracy drop) is at a non-binding gate: not a failing clause.
    assert _clause(m, "eu-ai-act:art-15")["status"] == "supported"
    assert _clause(m, "eu-ai-act:art-14")["rules"] == [
        {"id": "human-approval", "check": "accountability.approvals", "via": "maps_to", "status": "passed"}]
    assert _clause(m, "eu-ai-act:annex-iv(4)")["status"] == "records"
    assert _clause(m, "nist-ai-rmf:measure-2.7")["status"] == "none"
    # Training-time drift is not evidence about operation after deployment.
    assert _clause(m, "iso-42001:a.6.2.6")["rules"] == []
    assert m["other_references"] == [{"ref": "eu-ai-act:art-17", "rules": ["custom-clause"]}]
    assert m["not_covered"] == list(NOT_COVERED)


def test_blocked_run_marks_the_clauses_of_the_failed_rule(reports):
    m = reports[BLOCKED_RUN]["frameworks"]
    for clause in ("eu-ai-act:art-10", "nist-ai-rmf:measure-2.11", "iso-42001:a.5.4"):
        assert _clause(m, clause)["status"] == "failing", clause
    # Rules of stages that never ran are listed as not evaluated; records of them are absent.
    art14 = _clause(m, "eu-ai-act:art-14")
    assert art14["rules"][0]["status"] == "not evaluated" and art14["status"] == "none"


def test_rule_status_is_the_worst_at_binding_gates():
    gates = [
        {"binding": True, "findings": [{"rule_id": "a", "status": "passed"}, {"rule_id": "b", "status": "warning"}]},
        {"binding": True, "findings": [{"rule_id": "a", "status": "failed"}]},
        {"binding": False, "findings": [{"rule_id": "b", "status": "error"}, {"rule_id": "c", "status": "failed"}]},
    ]
    assert rule_statuses(gates) == {"a": "failed", "b": "warning", "c": "failed"}


def test_mapping_is_computed_from_the_document_alone(reports):
    doc = reports[PASSED_RUN]
    assert framework_mapping(doc) == doc["frameworks"]
