"""The gate engine's statuses and decision rules, as a table.

Small test-only checks are registered for the duration of this module and removed afterwards,
so registry-walking tests elsewhere never see them.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from pydantic import Field

from governance.checks.base import REGISTRY, STAGES, Check, CheckParams, Outcome, register
from governance.engine import evaluate
from governance.evidence import Evidence
from governance.policy.loader import load_policy
from governance.policy.schema import Policy, Rule
from governance.vocabulary import Status


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


# --- values no rule can be decided on ---------------------------------------------------------

NAN, INF = float("nan"), float("inf")
UNTRUSTED = {
    "nan observed, said to hold": (Outcome(True, "holds", observed=NAN, threshold=0.1), "observed"),
    "inf threshold, said to hold": (Outcome(True, "holds", observed=0.05, threshold=INF), "threshold"),
    "-inf threshold": (Outcome(True, "holds", observed=0.05, threshold=-INF), "threshold"),
    "nan min in a mapping threshold": (Outcome(True, "holds", observed=0.9, threshold={"min": NAN}), "threshold"),
    "inf in a mapping observed": (Outcome(True, "holds", observed={"age": 0.1, "sex": INF}, threshold={}),
                                  "observed"),
    "nan in a list": (Outcome(True, "holds", observed=[0.1, [0.2, NAN]], threshold=0.5), "observed"),
    "numpy nan": (Outcome(True, "holds", observed=np.float64("nan"), threshold=0.1), "observed"),
    "numpy float32 inf": (Outcome(True, "holds", observed=0.1, threshold=np.float32("inf")), "threshold"),
    "nan in a numpy array": (Outcome(True, "holds", observed=np.array([0.1, np.nan]), threshold=0.5), "observed"),
    "decimal nan": (Outcome(True, "holds", observed=0.1, threshold=Decimal("NaN")), "threshold"),
    "fraction beyond any float": (Outcome(True, "holds", observed=Fraction(10**400), threshold=1), "observed"),
    "nan observed, said to fail": (Outcome(False, "fails", observed=NAN, threshold=0.1), "observed"),
    "nan observed, said to be skipped": (Outcome(None, "nothing", observed=NAN, threshold=0.1), "observed"),
}


# Finite values of every shape the walk meets: decided as the check says.
TRUSTED = {
    "zero against 0.1": Outcome(True, "holds", observed=0.0, threshold=0.1),
    "a huge integer and a mapping": Outcome(True, "holds", observed=10**30, threshold={"min": 0.5, "max": 1.0}),
    "booleans": Outcome(True, "holds", observed=True, threshold=True),
    "text, null and an integer": Outcome(True, "holds", observed=["a", None], threshold={"col": 3}),
    "numpy scalars": Outcome(True, "holds", observed=np.float64(0.2), threshold=np.int64(1)),
    "a decimal and a fraction": Outcome(True, "holds", observed=Decimal("0.2"), threshold=Fraction(1, 3)),
}
OUTCOMES = {**{case: outcome for case, (outcome, _) in UNTRUSTED.items()}, **TRUSTED}


class Untrusted(Check):
    """Returns the outcome of the case its params name."""

    stages = STAGES

    class Params(CheckParams):
        case: str

    def evaluate(self, evidence, params):
        return OUTCOMES[params.case]


@pytest.fixture
def untrusted_check():
    register("test.untrusted")(Untrusted)
    yield "test.untrusted"
    REGISTRY.pop("test.untrusted", None)


@pytest.mark.parametrize("case", sorted(UNTRUSTED))
def test_a_non_finite_observed_value_or_threshold_is_an_error_that_blocks(tmp_path, untrusted_check, case):
    # Low severity under fail_on critical, with an active waiver: still blocks.
    path = policy_file(tmp_path, untrusted_check, severity="low", fail_on="critical", waiver=True)
    path.write_text(path.read_text().replace("    severity: low\n", f"    severity: low\n    params: {{case: '{case}'}}\n"))
    result = evaluate(load_policy(path), "evaluate", Evidence(), today=dt.date(2030, 1, 1))
    (finding,) = result.findings
    assert finding.status is Status.ERROR and result.blocked and result.blocking == [finding]
    assert finding.message.startswith(f"{UNTRUSTED[case][1]} is not a finite number, so the rule cannot be decided: ")
    assert finding.to_dict()["status"] == "error"


@pytest.mark.parametrize("case", sorted(TRUSTED))
def test_finite_values_of_any_shape_are_decided(tmp_path, untrusted_check, case):
    path = policy_file(tmp_path, untrusted_check)
    path.write_text(path.read_text() + f"    params: {{case: '{case}'}}\n")
    (finding,) = evaluate(load_policy(path), "evaluate", Evidence()).findings
    assert finding.status is Status.PASSED


@pytest.mark.parametrize("params", [{"max": NAN}, {"max": INF}, {"max": "0.1"}, {"min_group_size": True},
                                    {"min_group_size": 10**400}])
def test_params_given_in_python_are_as_strict_as_yaml(params):
    # A rule built without the loader is validated when it runs; a refusal is an error finding.
    rule = Rule(id="r", check="fairness.demographic_parity_difference", stage="evaluate", severity="low",
                params={"sensitive_features": ["sex"], **params})
    policy = Policy(policy="p", version="1", owner="o", fail_on="critical", rules=[rule])
    (finding,) = evaluate(policy, "evaluate", Evidence()).findings
    assert finding.status is Status.ERROR and finding.blocks
    assert "ValidationError" in finding.message
