"""Loading valid policies: bound params, extends, the canonical hash."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from governance.errors import LocatedError
from governance.policy.loader import lint_policy, load_policy, policy_json
from governance.vocabulary import Severity

HEAD = "policy: credit\nversion: '1.0'\nowner: risk@example.org\n"
FAIR = (
    "  - id: fair-selection\n    check: fairness.demographic_parity_difference\n    stage: evaluate\n"
    "    severity: {severity}\n    params: {{sensitive_features: [sex]{extra}}}\n"
)
DP = "  - id: dp-budget\n    check: privacy.epsilon_budget\n    stage: train\n    severity: high\n    params: {max_epsilon: 3}\n"


def fair(severity: str = "high", extra: str = "") -> str:
    return FAIR.format(severity=severity, extra=extra)


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_a_valid_policy_binds_each_rule_to_its_validated_params(tmp_path):
    path = write(tmp_path, "p.yaml", HEAD + "fail_on: medium\nrules:\n" + fair() + DP)
    policy = load_policy(path)
    assert [r.id for r in policy.rules] == ["fair-selection", "dp-budget"]
    assert policy.fail_on is Severity.MEDIUM
    params = policy.rules[0].validated
    assert params.sensitive_features == ["sex"] and params.max == 0.1 and params.min_group_size == 30
    assert policy.rules[1].validated.max_epsilon == 3.0
    assert policy.source == str(path)
    assert lint_policy(path) == []


def test_the_hash_covers_content_not_formatting(tmp_path):
    plain = load_policy(write(tmp_path, "a.yaml", HEAD + "rules:\n" + fair()))
    commented = load_policy(write(tmp_path, "b.yaml", "# reviewed\n" + HEAD + "\n\nrules:\n" + fair()))
    stricter = load_policy(write(tmp_path, "c.yaml", HEAD + "rules:\n" + fair(extra=", max: 0.05")))
    assert plain.sha256 == commented.sha256 != stricter.sha256
    assert len(plain.sha256) == 64
    assert '"validated"' not in policy_json(plain) and '"source"' not in policy_json(plain)


def test_waiver_dates_are_parsed(tmp_path):
    waiver = "waivers:\n  - {rule: fair-selection, reason: r, approved_by: cro, expires: 2031-06-30}\n"
    policy = load_policy(write(tmp_path, "p.yaml", HEAD + "rules:\n" + fair() + waiver))
    assert policy.waivers[0].expires == dt.date(2031, 6, 30)


def test_extends_inherits_and_overrides_rules_by_id_in_place(tmp_path):
    write(
        tmp_path, "base/base.yaml", HEAD + "fail_on: medium\nframeworks: [eu-ai-act]\nrules:\n" + fair() + DP
    )
    child = write(
        tmp_path,
        "teams/child.yaml",
        HEAD
        + "extends: ../base/base.yaml\nrules:\n"
        + fair(severity="low", extra=", max: 0.2")
        + "  - id: recall\n    check: performance.metric\n    stage: evaluate\n    severity: medium\n"
        "    params: {metric: recall, min: 0.5}\n",
    )
    policy = load_policy(child)
    assert [r.id for r in policy.rules] == ["fair-selection", "dp-budget", "recall"]
    assert policy.rules[0].severity is Severity.LOW and policy.rules[0].validated.max == 0.2
    assert policy.fail_on is Severity.MEDIUM and policy.frameworks == ["eu-ai-act"]


def test_a_child_may_set_what_it_would_inherit(tmp_path):
    write(tmp_path, "base.yaml", HEAD + "fail_on: medium\nrules:\n" + fair())
    policy = load_policy(write(tmp_path, "child.yaml", HEAD + "extends: base.yaml\nfail_on: critical\n"))
    assert policy.fail_on is Severity.CRITICAL


def test_a_waiver_may_name_an_inherited_rule(tmp_path):
    write(tmp_path, "base.yaml", HEAD + "rules:\n" + DP)
    text = (
        HEAD
        + "extends: base.yaml\nwaivers:\n  - {rule: dp-budget, reason: r, approved_by: cro, expires: 2031-01-01}\n"
    )
    policy = load_policy(write(tmp_path, "child.yaml", text))
    assert policy.waiver_for("dp-budget").approved_by == "cro"


def test_a_three_file_cycle_names_every_file(tmp_path):
    for name, base in (("a", "b"), ("b", "c"), ("c", "a")):
        write(tmp_path, f"{name}.yaml", HEAD + f"extends: {base}.yaml\n")
    with pytest.raises(LocatedError) as info:
        load_policy(tmp_path / "a.yaml")
    assert str(info.value).endswith(
        "c.yaml:4:10: extends: circular extends: " + " -> ".join(str(tmp_path / f"{n}.yaml") for n in "abca")
    )


def test_a_diamond_is_not_a_cycle(tmp_path):
    write(tmp_path, "root.yaml", HEAD + "rules:\n" + DP)
    write(tmp_path, "mid.yaml", HEAD + "extends: root.yaml\n")
    policy = load_policy(write(tmp_path, "top.yaml", HEAD + "extends: mid.yaml\nrules:\n" + fair()))
    assert [r.id for r in policy.rules] == ["dp-budget", "fair-selection"]


BASE_WAIVER = "waivers:\n  - {rule: fair-selection, reason: r, approved_by: base-cro, expires: 2031-01-01}\n"


@pytest.mark.parametrize("override, covered", [
    (fair(severity="high"), True),  # the same rule, restated
    (fair(severity="medium", extra=", max: 0.2"), True),  # milder: still the risk the waiver accepted
    (fair(severity="critical"), False),  # graver than what was waived
    (FAIR.replace("fairness.demographic_parity_difference", "fairness.equal_opportunity_difference")
     .format(severity="high", extra=""), False),  # another check under the same id
])
def test_a_base_waiver_covers_an_override_only_if_it_is_no_graver(tmp_path, override, covered):
    write(tmp_path, "base.yaml", HEAD + "rules:\n" + fair(severity="high") + BASE_WAIVER)
    policy = load_policy(write(tmp_path, "child.yaml", HEAD + "extends: base.yaml\nrules:\n" + override))
    assert (policy.waiver_for("fair-selection") is not None) is covered


def test_a_child_may_waive_its_own_graver_override(tmp_path):
    write(tmp_path, "base.yaml", HEAD + "rules:\n" + fair(severity="low") + BASE_WAIVER)
    own = "waivers:\n  - {rule: fair-selection, reason: r, approved_by: child-cro, expires: 2030-01-01}\n"
    policy = load_policy(write(tmp_path, "child.yaml", HEAD + "extends: base.yaml\nrules:\n" + fair("critical") + own))
    assert [w.approved_by for w in policy.waivers] == ["child-cro"]


def test_a_grandparent_waiver_does_not_survive_a_graver_override_in_between(tmp_path):
    write(tmp_path, "root.yaml", HEAD + "rules:\n" + fair(severity="low") + BASE_WAIVER)
    write(tmp_path, "mid.yaml", HEAD + "extends: root.yaml\nrules:\n" + fair(severity="high"))
    policy = load_policy(write(tmp_path, "top.yaml", HEAD + "extends: mid.yaml\nrules:\n" + fair(severity="low")))
    assert policy.waivers == []
