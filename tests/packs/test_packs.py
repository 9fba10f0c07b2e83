"""Shipped packs by name (``rai:default``), absolute ``extends``, integer versions, stable hashes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from governance.errors import LocatedError
from governance.packs import UnknownPack, pack_names, pack_path
from governance.policy.loader import load_policy, policy_json

ROOT = Path(__file__).resolve().parents[2]


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_every_top_level_policy_is_a_pack_by_its_file_name():
    files = sorted(p.stem for p in (ROOT / "policies").glob("*.yaml"))
    assert pack_names() == [f"rai:{name}" for name in files]
    assert {"rai:default", "rai:eu-ai-act-high-risk"} <= set(pack_names())


@pytest.mark.parametrize("name", ["rai:default", "rai:eu-ai-act-high-risk"])
def test_a_pack_loads_by_name_with_the_same_rules_as_its_file(name):
    by_name = load_policy(name)
    by_file = load_policy(ROOT / "policies" / f"{name[4:]}.yaml")
    assert [r.id for r in by_name.rules] == [r.id for r in by_file.rules]
    assert by_name.sha256 == by_file.sha256 and by_name.source == name


def test_extends_a_pack_by_name_inherits_and_overrides(tmp_path):
    policy = load_policy(write(tmp_path / "team.yaml", """\
policy: team
version: 3
owner: risk@example.org
extends: rai:default
fail_on: medium
rules:
  - {id: accuracy-floor, check: performance.metric, stage: evaluate, severity: critical,
     params: {metric: balanced_accuracy, min: 0.75}}
"""))
    base = load_policy("rai:default")
    assert [r.id for r in policy.rules] == [r.id for r in base.rules]
    floor = next(r for r in policy.rules if r.id == "accuracy-floor")
    assert floor.severity.value == "critical" and floor.validated.metric == "balanced_accuracy"
    assert policy.version == "3" and policy.fail_on.value == "medium"
    # Rules from the pack are located at this file's `extends` line (the pack lies inside rai).
    inherited = next(r for r in policy.rules if r.id == "equal-opportunity")
    assert inherited.location == (str(tmp_path / "team.yaml"), 4, 10)
    assert floor.location == (str(tmp_path / "team.yaml"), 7, 5)


def test_an_unknown_pack_lists_the_packs(tmp_path):
    path = write(tmp_path / "p.yaml", "policy: p\nversion: 1\nowner: o\nextends: rai:eu-ai-act\n")
    with pytest.raises(LocatedError) as info:
        load_policy(path)
    assert str(info.value) == (f"{path}:4:10: extends: unknown pack 'rai:eu-ai-act'; did you mean "
                               "'rai:eu-ai-act-high-risk'? (packs: rai:default, rai:eu-ai-act-high-risk)")
    with pytest.raises(UnknownPack, match=r"unknown pack 'rai:nothing-like-it' \(packs: rai:default"):
        pack_path("rai:nothing-like-it")


def test_an_unknown_pack_on_the_command_line_is_one_line(rai):
    code, out, err = rai("policy", "lint", "rai:defualt")
    assert code == 2
    assert out.splitlines() == ["rai:defualt: unknown pack 'rai:defualt'; did you mean 'rai:default'? "
                                "(packs: rai:default, rai:eu-ai-act-high-risk)"]


def test_extends_accepts_an_absolute_path(tmp_path):
    (tmp_path / "base").mkdir()
    base = write(tmp_path / "base" / "base.yaml", """\
policy: base
version: "1.0"
owner: o
rules:
  - {id: rows, check: performance.metric, stage: evaluate, severity: high, params: {metric: accuracy, min: 0.5}}
""")
    child = write(tmp_path / "child.yaml", f"policy: child\nversion: 1\nowner: o\nextends: {base}\n")
    policy = load_policy(child)
    assert [r.id for r in policy.rules] == ["rows"]
    assert policy.rules[0].location == (str(base), 5, 5)


@pytest.mark.parametrize("text, shown", [("1.10", "1.1"), ("2.0", "2.0"), ("true", "true")])
def test_version_numbers_other_than_integers_stay_errors(tmp_path, text, shown):
    path = write(tmp_path / "p.yaml", f"policy: p\nversion: {text}\nowner: o\n")
    with pytest.raises(LocatedError) as info:
        load_policy(path)
    assert str(info.value) == (f"{path}:2:10: version: must be text or an integer, got {shown}; put it in quotes "
                               "(unquoted, 1.10 would read as the number 1.1)")


def test_an_integer_version_is_its_text(tmp_path):
    as_int = load_policy(write(tmp_path / "a.yaml", "policy: p\nversion: 7\nowner: o\n"))
    as_text = load_policy(write(tmp_path / "b.yaml", "policy: p\nversion: '7'\nowner: o\n"))
    assert as_int.version == "7" and as_int.sha256 == as_text.sha256


def test_new_keys_leave_the_hash_of_a_policy_that_does_not_use_them_unchanged(tmp_path):
    policy = load_policy(ROOT / "policies" / "examples" / "fairness.yaml")
    data = json.loads(policy_json(policy))
    assert "plugins" not in data and "sensitive_features" not in data
    named = load_policy(write(tmp_path / "p.yaml", "policy: p\nversion: 1\nowner: o\nsensitive_features: [sex]\n"))
    assert json.loads(policy_json(named))["sensitive_features"] == ["sex"]


def test_the_editor_schema_accepts_an_integer_version_and_not_a_float(tmp_path):
    import jsonschema

    from governance.policy.jsonschema import policy_json_schema

    validator = jsonschema.Draft202012Validator(policy_json_schema())
    assert validator.is_valid({"policy": "p", "version": 1, "owner": "o"})
    assert not validator.is_valid({"policy": "p", "version": 1.1, "owner": "o"})
    assert validator.is_valid({"policy": "p", "version": "1.1", "owner": "o", "extends": "rai:default",
                               "sensitive_features": ["sex"], "plugins": ["checks.py"]})
