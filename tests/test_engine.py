"""The gate engine's statuses and decision rules, as a table.

Small test-only checks are registered for the duration of this module and removed afterwards,
so registry-walking tests elsewhere never see them.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from pydantic import Field

from governance.checks.base import REGISTRY, STAGES, Check, CheckParams, Outcome, register
from governance.engine import evaluate
from governance.evidence import Evidence
from governance.findings import Status
from governance.policy.loader import load_policy


class AlwaysFail(Check):
    """Never holds; reports ``observed`` against a threshold of 0."""

    stages = STAGES

    class Params(CheckParams):
        observed: float = Field(1.0)

    def evaluate(self, evidence, params):
        return Outcome(False, f"observed {params.observed} > 0", observed=params.observed, threshold=0)


class AlwaysPass(Check):
    """Always holds."""

    stages = STAGES

    def evaluate(self, evidence, params):
        return Outcome(True, "holds", observed=0, threshold=0)


class Raises(Check):
    """Crashes while computing."""

    stages = STAGES

    def evaluate(self, evidence, params):
        raise RuntimeError("boom")


class NeedsPredictions(Check):
    """Needs the ``predictions`` evidence."""

    stages = STAGES

    def evaluate(self, evidence, params):
        evidence.require("predictions")
        return Outcome(True, "holds")


class NothingToCheck(Check):
    """Has nothing to look at."""

    stages = STAGES

    def evaluate(self, evidence, params):
        return Outcome(None, "no sensitive groups to compare")


TEST_CHECKS = {
    "test.always_fail": AlwaysFail,
    "test.always_pass": AlwaysPass,
    "test.raises": Raises,
    "test.needs_predictions": NeedsPredictions,
    "test.nothing_to_check": NothingToCheck,
}


@pytest.fixture(autouse=True, scope="module")
def test_checks():
    for name, cls in TEST_CHECKS.items():
        register(name)(cls)
    yield
    for name in TEST_CHECKS:
        REGISTRY.pop(name, None)


EXPIRES = dt.date(2030, 6, 30)
HEAD = "policy: gate-test\nversion: '1'\nowner: qa@example.org\nfail_on: {fail_on}\nrules:\n"
RULE = "  - id: {id}\n    check: {check}\n    stage: evaluate\n    severity: {severity}\n"
WAIVER = "waivers:\n  - {{rule: r, reason: fix pending, approved_by: cro@example.org, expires: {expires}}}\n"


def policy_file(tmp_path: Path, check: str, severity: str = "high", fail_on: str = "high", waiver: bool = False) -> Path:
    text = HEAD.format(fail_on=fail_on) + RULE.format(id="r", check=check, severity=severity)
    if waiver:
        text += WAIVER.format(expires=EXPIRES.isoformat())
    path = tmp_path / "policy.yaml"
    path.write_text(text)
    return path


# (case, check, severity, fail_on, waiver, today, status, gate blocks, words in the message)
TABLE = [
    ("pass", "test.always_pass", "high", "high", False, None, Status.PASSED, False, "holds"),
    ("low failure below fail_on warns", "test.always_fail", "low", "high", False, None, Status.WARNING, False, "> 0"),
    ("medium failure below fail_on warns", "test.always_fail", "medium", "high", False, None, Status.WARNING, False, ""),
    ("failure at fail_on blocks", "test.always_fail", "high", "high", False, None, Status.FAILED, True, "> 0"),
    ("failure above fail_on blocks", "test.always_fail", "critical", "high", False, None, Status.FAILED, True, ""),
    ("fail_on low blocks a low failure", "test.always_fail", "low", "low", False, None, Status.FAILED, True, ""),
    ("critical fail_on lets high warn", "test.always_fail", "high", "critical", False, None, Status.WARNING, False, ""),
    ("a raising check is an error and blocks", "test.raises", "low", "critical", False, None, Status.ERROR, True,
     "check raised RuntimeError: boom"),
    ("missing evidence is an error and blocks", "test.needs_predictions", "low", "critical", False, None,
     Status.ERROR, True, "missing evidence 'predictions' at stage 'evaluate'"),
    ("nothing to check is skipped", "test.nothing_to_check", "high", "high", False, None, Status.SKIPPED, False,
     "no sensitive groups"),
    ("active waiver waives", "test.always_fail", "critical", "high", True, dt.date(2030, 1, 1), Status.WAIVED, False,
     "waived by cro@example.org until 2030-06-30: fix pending"),
    ("a waiver holds through its expiry day", "test.always_fail", "high", "high", True, EXPIRES, Status.WAIVED,
     False, "waived by"),
    ("expired waiver is ignored and says so", "test.always_fail", "high", "high", True, dt.date(2030, 7, 1),
     Status.FAILED, True, "waiver by cro@example.org expired on 2030-06-30; ignored"),
    ("a waiver never covers an error", "test.raises", "high", "high", True, dt.date(2030, 1, 1), Status.ERROR,
     True, "boom"),
    ("a waiver on a passing rule changes nothing", "test.always_pass", "high", "high", True, dt.date(2030, 1, 1),
     Status.PASSED, False, "holds"),
]


@pytest.mark.parametrize(
    "check, severity, fail_on, waiver, today, status, blocks, words",
    [row[1:] for row in TABLE],
    ids=[row[0] for row in TABLE],
)
def test_gate_statuses_and_decisions(tmp_path, check, severity, fail_on, waiver, today, status, blocks, words):
    policy = load_policy(policy_file(tmp_path, check, severity, fail_on, waiver))
    result = evaluate(policy, "evaluate", Evidence(), today=today)
    (finding,) = result.findings
    assert finding.status is status
    assert result.blocked is blocks
    assert result.decision == ("blocked" if blocks else "passed")
    assert words in finding.message
    assert finding.rule_id == "r" and finding.check == check and finding.stage == "evaluate"


def test_a_waived_finding_records_its_waiver(tmp_path):
    policy = load_policy(policy_file(tmp_path, "test.always_fail", waiver=True))
    (finding,) = evaluate(policy, "evaluate", Evidence(), today=dt.date(2030, 1, 1)).findings
    assert finding.waiver == {"rule": "r", "reason": "fix pending", "approved_by": "cro@example.org",
                              "expires": "2030-06-30"}


def test_only_the_rules_of_the_stage_run(tmp_path):
    path = tmp_path / "policy.yaml"
    path.write_text(
        HEAD.format(fail_on="high")
        + RULE.format(id="at-evaluate", check="test.always_pass", severity="high")
        + RULE.format(id="at-train", check="test.always_fail", severity="high").replace("evaluate", "train")
    )
    policy = load_policy(path)
    assert [f.rule_id for f in evaluate(policy, "evaluate", Evidence()).findings] == ["at-evaluate"]
    assert evaluate(policy, "train", Evidence()).blocked
    assert evaluate(policy, "deploy", Evidence()).findings == []


def test_validated_params_reach_the_check(tmp_path):
    path = policy_file(tmp_path, "test.always_fail")
    path.write_text(path.read_text() + "    params: {observed: 0.25}\n")
    (finding,) = evaluate(load_policy(path), "evaluate", Evidence()).findings
    assert finding.observed == 0.25 and finding.threshold == 0


def test_extends_overrides_a_rule_by_id(tmp_path):
    (tmp_path / "base.yaml").write_text(
        HEAD.format(fail_on="medium")
        + RULE.format(id="gate", check="test.always_fail", severity="critical")
        + RULE.format(id="kept", check="test.always_pass", severity="high")
    )
    (tmp_path / "child.yaml").write_text(
        "policy: child\nversion: '2'\nowner: team@example.org\nextends: base.yaml\nrules:\n"
        + RULE.format(id="gate", check="test.always_fail", severity="low")
    )
    base = evaluate(load_policy(tmp_path / "base.yaml"), "evaluate", Evidence())
    child = evaluate(load_policy(tmp_path / "child.yaml"), "evaluate", Evidence())
    assert [(f.rule_id, f.status) for f in base.findings] == [("gate", Status.FAILED), ("kept", Status.PASSED)]
    # The override is low; the inherited fail_on (medium) turns its failure into a warning.
    assert [(f.rule_id, f.status) for f in child.findings] == [("gate", Status.WARNING), ("kept", Status.PASSED)]
    assert base.blocked and not child.blocked


def test_one_error_blocks_a_gate_of_passes(tmp_path):
    path = tmp_path / "policy.yaml"
    path.write_text(
        HEAD.format(fail_on="critical")
        + RULE.format(id="fine", check="test.always_pass", severity="low")
        + RULE.format(id="broken", check="test.raises", severity="low")
    )
    result = evaluate(load_policy(path), "evaluate", Evidence())
    assert result.blocked
    assert [f.rule_id for f in result.blocking] == ["broken"]
