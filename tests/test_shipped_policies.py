"""Every shipped policy lints clean and passes its tests, and the examples exercise every check."""

from pathlib import Path

import pytest

from governance.checks.base import load_all
from governance.policy.loader import lint_policy, load_policy

ROOT = Path(__file__).resolve().parents[1] / "policies"
# policies/tests/ holds the packs' tests and their fixtures, not policies.
SHIPPED = sorted(p for p in ROOT.rglob("*.yaml") if p.relative_to(ROOT).parts[0] != "tests")


def test_policies_are_shipped():
    names = {p.relative_to(ROOT).as_posix() for p in SHIPPED}
    assert {"default.yaml", "eu-ai-act-high-risk.yaml"} <= names
    assert any(n.startswith("examples/") for n in names)


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_shipped_policy_lints_clean(path):
    assert [str(e) for e in lint_policy(path)] == []


def test_examples_cover_every_registered_check():
    used = {rule.check for path in (ROOT / "examples").glob("*.yaml") for rule in load_policy(path).rules}
    assert set(load_all()) - used == set()


def test_high_risk_policy_maps_every_rule_to_a_clause():
    policy = load_policy(ROOT / "eu-ai-act-high-risk.yaml")
    assert policy.rules and all(rule.maps_to for rule in policy.rules)
    assert any(r.check == "accountability.approvals" for r in policy.rules)


def test_the_shipped_policies_pass_their_policy_tests(rai):
    code, out, err = rai("policy", "test", str(ROOT / "tests"))
    assert code == 0, out + err
    assert "0 failed" in out.splitlines()[-1]
