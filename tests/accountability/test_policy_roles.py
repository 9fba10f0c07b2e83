"""`roles` and `waiver_approvers` in policies: every refusal of `rai policy lint`, merging and binding."""

from __future__ import annotations

import json

import pytest

from governance.policy.loader import lint_policy, load_policy, policy_json

HEAD = 'policy: p\nversion: "1"\nowner: o\n'
RULES = """\
rules:
  - {id: sign-off, check: accountability.approvals, stage: deploy, severity: critical, params: {roles: [model-risk]}}
  - {id: acc, check: performance.metric, stage: evaluate, severity: high, params: {metric: accuracy, min: 0.8}}
"""
ROLES = "roles:\n  model-risk: {members: [alice, bob]}\n  ciso: {members: [erin]}\n"
KEY = "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c"

# (case, policy text after the head, the one expected line without the file name)
BAD = [
    ("rule-role-undefined", RULES.replace("[model-risk]", "[model-risks]") + ROLES,
     "5:105: rules[0].params.roles[0]: rule 'sign-off' requires role 'model-risks', which the policy's roles do not "
     "define; did you mean 'model-risk'? (roles: model-risk, ciso)"),
    ("waiver-by-a-non-member", RULES + ROLES + "waiver_approvers: {high: [model-risk], critical: [ciso]}\n"
     "waivers:\n  - {rule: acc, reason: r, approved_by: mallory, expires: 2030-01-01}\n",
     "12:41: waivers[0].approved_by: 'mallory' may not waive rule 'acc' (severity high): waivers of high rules are "
     "approved by members of model-risk (members: alice, bob)"),
    ("waiver-by-a-near-miss", RULES + ROLES + "waiver_approvers: {high: [model-risk]}\n"
     "waivers:\n  - {rule: acc, reason: r, approved_by: alcie, expires: 2030-01-01}\n",
     "12:41: waivers[0].approved_by: 'alcie' may not waive rule 'acc' (severity high): waivers of high rules are "
     "approved by members of model-risk; did you mean 'alice'? (members: alice, bob)"),
    ("waiver-of-an-unlisted-severity", RULES + ROLES + "waiver_approvers: {high: [model-risk]}\n"
     "waivers:\n  - {rule: sign-off, reason: r, approved_by: alice, expires: 2030-01-01}\n",
     "12:46: waivers[0].approved_by: no role may waive a critical rule: waiver_approvers names roles for high only "
     "(add waiver_approvers.critical)"),
    ("approver-role-undefined", RULES + ROLES + "waiver_approvers: {critical: [cisso]}\n",
     "10:31: waiver_approvers.critical[0]: names role 'cisso', which the policy's roles do not define; did you mean "
     "'ciso'? (roles: model-risk, ciso)"),
    ("approvers-without-roles", RULES + "waiver_approvers: {critical: [ciso]}\n",
     "7:31: waiver_approvers.critical[0]: names role 'ciso', which the policy's roles do not define; the policy "
     "defines no roles"),
    ("approver-severity-unknown", RULES + ROLES + "waiver_approvers: {critcal: [ciso]}\n",
     "10:20: waiver_approvers.critcal: unknown severity 'critcal'; did you mean 'critical'? (severities: low, medium, high, critical)"),
    ("more-approvals-than-members", RULES + "roles:\n  model-risk: {members: [alice], min_approvals: 2}\n",
     "8:49: roles.model-risk.min_approvals: needs 2 approvals but model-risk has 1 member(s); add members or lower "
     "min_approvals"),
    ("member-twice", RULES + "roles:\n  model-risk: {members: [alice, alice]}\n",
     "8:25: roles.model-risk.members: members must not repeat, got 'alice' twice"),
    ("role-name", RULES + "roles:\n  model-risk: {members: [alice]}\n  Model Risk: {members: [alice]}\n",
     "9:3: roles['Model Risk']: role names are lowercase letters, digits, '.', '_' and '-', starting with a letter or "
     "digit, at most 80 characters, got 'Model Risk'"),
    ("member-key-not-hex", RULES + "roles:\n  model-risk: {members: [{name: alice, key: nothex}]}\n",
     "8:45: roles.model-risk.members[0].key: must match the pattern ^[0-9a-f]{64}$, got 'nothex'"),
    ("member-name-padded", RULES + "roles:\n  model-risk: {members: [' alice']}\n",
     "8:26: roles.model-risk.members[0].name: must be a name without surrounding spaces or control characters, "
     "got ' alice'"),
    ("member-two-keys", RULES + f"roles:\n  model-risk: {{members: [{{name: al, key: {KEY}}}]}}\n"
     f"  ciso: {{members: [{{name: al, key: {KEY[::-1]}}}]}}\n",
     "9:36: roles.ciso.members[0].key: al is listed with another key in role model-risk; a person signs with one key"),
    ("role-key-misspelt", RULES + "roles:\n  model-risk: {membres: [alice]}\n",
     "8:16: roles.model-risk.membres: unknown key 'membres'; did you mean 'members'?"),
    ("members-not-a-list", RULES + "roles:\n  model-risk: {members: alice}\n",
     "8:25: roles.model-risk.members: must be a list, got 'alice'"),
]


@pytest.mark.parametrize("case, text, line", BAD, ids=[b[0] for b in BAD])
def test_lint_refuses_with_one_located_line(case, text, line, tmp_path, rai):
    path = tmp_path / "p.yaml"
    path.write_text(HEAD + text)
    assert [e.format() for e in lint_policy(path)] == [f"{path}:{line}"]
    code, out, _ = rai("policy", "lint", str(path))
    assert code == 2 and out == f"{path}:{line}\n"


def test_an_extending_policy_staffs_and_overrides_the_bases_roles(tmp_path):
    (tmp_path / "base.yaml").write_text(HEAD + RULES + "roles:\n  model-risk: {members: []}\n  ciso: {members: [erin]}\n"
                                        "waiver_approvers: {critical: [ciso]}\n")
    (tmp_path / "p.yaml").write_text('policy: c\nversion: "1"\nowner: o\nextends: base.yaml\n'
                                     "roles:\n  model-risk: {members: [alice, bob], min_approvals: 2}\n"
                                     "waiver_approvers: {high: [model-risk]}\n"
                                     "waivers:\n  - {rule: acc, reason: r, approved_by: bob, expires: 2030-01-01}\n")
    policy = load_policy(tmp_path / "p.yaml")
    assert {name: role.member_names() for name, role in policy.roles.items()} == {"model-risk": ["alice", "bob"],
                                                                                  "ciso": ["erin"]}
    assert policy.waiver_approvers == {"critical": ["ciso"], "high": ["model-risk"]}
    (rule,) = [r for r in policy.rules if r.id == "sign-off"]
    assert rule.validated.policy_roles["model-risk"] == {"members": ["alice", "bob"], "min_approvals": 2, "keys": {}}


def test_an_inherited_waiver_the_child_no_longer_allows_is_refused_at_the_child(tmp_path):
    (tmp_path / "base.yaml").write_text(HEAD + RULES + ROLES + "waiver_approvers: {high: [model-risk]}\n"
                                        "waivers:\n  - {rule: acc, reason: r, approved_by: bob, expires: 2030-01-01}\n")
    (tmp_path / "p.yaml").write_text('policy: c\nversion: "1"\nowner: o\nextends: base.yaml\n'
                                     "roles:\n  model-risk: {members: [alice]}\n")
    (error,) = lint_policy(tmp_path / "p.yaml")
    assert error.format() == (f"{tmp_path / 'p.yaml'}:1:1: waiver_approvers: inherited waiver of 'acc': 'bob' may not "
                              "waive rule 'acc' (severity high): waivers of high rules are approved by members of "
                              "model-risk (members: alice)")


def test_a_policy_without_roles_keeps_its_hash(tmp_path):
    path = tmp_path / "p.yaml"
    path.write_text(HEAD + RULES)
    data = json.loads(policy_json(load_policy(path)))
    assert "roles" not in data and "waiver_approvers" not in data


def test_the_eu_pack_names_its_roles_and_who_waives_what():
    policy = load_policy("rai:eu-ai-act-high-risk")
    assert {name: role.member_names() for name, role in policy.roles.items()} == {"risk-officer": [],
                                                                                  "compliance-officer": []}
    assert policy.waiver_approvers == {
        "critical": ["compliance-officer"], "high": ["compliance-officer"], "medium": ["risk-officer"],
        "low": ["risk-officer"]}
    (rule,) = [r for r in policy.rules if r.check == "accountability.approvals"]
    assert rule.params["roles"] == ["risk-officer", "compliance-officer"]
