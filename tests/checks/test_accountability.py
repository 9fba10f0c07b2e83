"""Accountability checks: model-card metadata, approvals, lineage."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from governance.checks.base import get_check
from governance.evidence import Evidence
from governance.vocabulary import Status

from .cases import CARD, SHA_A, SHA_B
from .support import family_cases, run_rule


@pytest.mark.parametrize("name, factory, params, expected", family_cases("accountability"))
def test_table_through_the_engine(name, factory, params, expected):
    finding = run_rule(name, factory(), params)
    assert finding.status is (Status.PASSED if expected else Status.FAILED), finding.message


@pytest.mark.parametrize("check, piece, params", [
    ("accountability.metadata_present", "metadata", {}),
    ("accountability.approvals", "approvals", {"roles": ["owner"]}),
    ("accountability.lineage_recorded", "lineage", {}),
])
def test_missing_evidence_is_an_error(check, piece, params):
    finding = run_rule(check, Evidence(), params, stage="deploy")
    assert finding.status is Status.ERROR
    assert finding.message == f"missing evidence '{piece}' at stage 'deploy'"


# --- metadata ---------------------------------------------------------------------------------


@pytest.mark.parametrize("value, missing", [
    (None, True), ("", True), ("   ", True), ([], True), ([""], True), ({}, True),
    ("x", False), (["one limitation"], False), (0, False), (False, False),
])
def test_what_counts_as_missing(value, missing):
    finding = run_rule("accountability.metadata_present", Evidence(metadata={**CARD, "limitations": value}))
    assert finding.observed == (["limitations"] if missing else [])
    assert finding.status is (Status.FAILED if missing else Status.PASSED)


def test_metadata_message_names_every_missing_field():
    finding = run_rule("accountability.metadata_present", Evidence(metadata={"owner": "x"}),
                       {"fields": ["owner", "intended_use", "out_of_scope_uses"]})
    assert finding.message == "model-card fields missing or empty: intended_use, out_of_scope_uses"
    assert finding.evidence == {"required": ["owner", "intended_use", "out_of_scope_uses"],
                                "missing": ["intended_use", "out_of_scope_uses"]}


# --- approvals --------------------------------------------------------------------------------


def _entry(role, decision, actor):
    return {"role": role, "decision": decision, "actor": actor, "time": "2025-03-01T12:00:00Z", "comment": ""}


def test_rejection_fails_and_names_who_even_with_enough_approvals():
    approvals = [_entry("risk-officer", "approve", "ana"), _entry("risk-officer", "approve", "bo"),
                 _entry("risk-officer", "reject", "cy"), _entry("owner", "approve", "dee")]
    finding = run_rule("accountability.approvals", Evidence(approvals=approvals),
                       {"roles": ["owner", "risk-officer"], "min_approvals": 2})
    assert finding.status is Status.FAILED
    assert finding.message == "owner has 1 of 2 approvals; risk-officer rejected by cy"
    assert finding.evidence["roles"]["risk-officer"] == {"needed": 2, "members": None, "approved_by": ["ana", "bo"],
                                                         "signed_by": [], "rejected_by": ["cy"]}
    assert finding.evidence["state"] == "rejected" and finding.evidence["roles_defined"] is False


def test_rejection_in_a_role_not_required_does_not_count():
    approvals = [_entry("owner", "approve", "ana"), _entry("marketing", "reject", "zed")]
    finding = run_rule("accountability.approvals", Evidence(approvals=approvals), {"roles": ["owner"]})
    assert finding.status is Status.PASSED
    assert finding.observed == {"owner": 1}


def test_approvers_are_distinct_people_after_trimming():
    approvals = [_entry("owner", "approve", "ana"), _entry("owner", "approve", " ana ")]
    finding = run_rule("accountability.approvals", Evidence(approvals=approvals),
                       {"roles": ["owner"], "min_approvals": 2})
    assert finding.status is Status.FAILED and finding.message == "owner has 1 of 2 approvals"


@pytest.mark.parametrize("entry, message", [
    (_entry("owner", "maybe", "ana"), "approvals[0]: needs an actor and a decision in approve|reject"),
    (_entry("owner", "approve", ""), "approvals[0]: needs an actor"),
])
def test_malformed_approval_is_an_error(entry, message):
    finding = run_rule("accountability.approvals", Evidence(approvals=[entry]), {"roles": ["owner"]})
    assert finding.status is Status.ERROR and message in finding.message


@pytest.mark.parametrize("params", [{}, {"roles": []}, {"roles": ["owner"], "min_approvals": 0}])
def test_approval_params_are_validated(params):
    with pytest.raises(ValidationError):
        get_check("accountability.approvals").Params(**params)


# --- lineage ----------------------------------------------------------------------------------


def test_lineage_accepts_uppercase_hex_and_lists_every_bad_hash():
    good = run_rule("accountability.lineage_recorded",
                    Evidence(lineage={"datasets": {"train": SHA_A.upper()}, "model": SHA_B}))
    assert good.status is Status.PASSED
    bad = run_rule("accountability.lineage_recorded",
                   Evidence(lineage={"datasets": {"train": SHA_A, "test": "g" * 64}, "model": 42}))
    assert bad.status is Status.FAILED
    assert bad.observed == [
        f"dataset 'test' hash is not a SHA-256 hex digest: '{'g' * 64}'",
        "model hash is not a SHA-256 hex digest: 42",
    ]


def test_lineage_require_is_validated():
    with pytest.raises(ValidationError, match="'datasets' or 'model'"):
        get_check("accountability.lineage_recorded").Params(require=["code"])
    with pytest.raises(ValidationError):
        get_check("accountability.lineage_recorded").Params(require=[])
