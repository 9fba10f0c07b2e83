"""`rai policy lint`, `rai policy schema` and `rai checks`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from governance.checks.base import load_all

VALID = (
    "policy: credit\nversion: '1.0'\nowner: risk@example.org\nrules:\n"
    "  - id: fair-selection\n    check: fairness.demographic_parity_difference\n    stage: evaluate\n"
    "    severity: high\n    params: {sensitive_features: [sex]}\n"
)


@pytest.fixture
def files(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("good.yaml").write_text(VALID)
    Path("bad.yaml").write_text(VALID.replace("severity: high", "severity: hihg"))
    return tmp_path


def test_lint_says_ok_and_exits_0_for_valid_files(files, rai):
    code, out, err = rai("policy", "lint", "good.yaml", "good.yaml")
    assert code == 0
    assert out.splitlines() == ["good.yaml: ok (1 rules, fail_on high)"] * 2


def test_lint_exits_2_if_any_file_is_invalid(files, rai):
    code, out, _ = rai("policy", "lint", "good.yaml", "bad.yaml")
    assert code == 2
    assert out.splitlines() == [
        "good.yaml: ok (1 rules, fail_on high)",
        "bad.yaml:8:15: rules[0].severity: must be one of low, medium, high, critical, got 'hihg'",
    ]


def test_lint_json_gives_each_error_as_fields(files, rai):
    code, out, _ = rai("policy", "lint", "--json", "good.yaml", "bad.yaml")
    assert code == 2
    report = json.loads(out)
    assert report["valid"] is False
    good, bad = report["files"]
    assert good["valid"] and good["rules"] == 1 and len(good["sha256"]) == 64
    assert bad["errors"] == [
        {
            "file": "bad.yaml",
            "line": 8,
            "col": 15,
            "path": "rules[0].severity",
            "message": "must be one of low, medium, high, critical, got 'hihg'",
            "text": "bad.yaml:8:15: rules[0].severity: must be one of low, medium, high, critical, got 'hihg'",
        }
    ]


def test_lint_needs_a_file(rai):
    code, out, err = rai("policy", "lint")
    assert code == 2 and "Missing argument" in err and "Traceback" not in err


def test_the_schema_validates_policies_like_the_loader(files, rai):
    jsonschema = pytest.importorskip("jsonschema")
    import yaml

    code, out, _ = rai("policy", "schema")
    assert code == 0
    schema = json.loads(out)
    jsonschema.Draft202012Validator.check_schema(schema)
    assert "source" not in schema["properties"] and "validated" not in schema["$defs"]["Rule"]["properties"]
    validator = jsonschema.Draft202012Validator(schema)
    good = yaml.safe_load(VALID)
    assert list(validator.iter_errors(good)) == []
    for bad_params in (
        {"sensitive_features": ["sex"], "max": 1.5},
        {"max": 0.1},
        {"sensitive_features": ["sex"], "maxx": 1},
    ):
        bad = {**good, "rules": [{**good["rules"][0], "params": bad_params}]}
        assert list(validator.iter_errors(bad)), bad_params
    wrong_stage = {**good, "rules": [{**good["rules"][0], "stage": "train"}]}
    assert list(validator.iter_errors(wrong_stage))
    bad_clause = {**good, "rules": [{**good["rules"][0], "maps_to": ["gdpr:5"]}]}
    assert list(validator.iter_errors(bad_clause))


def test_checks_lists_every_registered_check_with_its_params(rai):
    code, out, _ = rai("checks", "--json")
    assert code == 0
    listed = {c["name"]: c for c in json.loads(out)}
    assert set(listed) == set(load_all())
    dpd = listed["fairness.demographic_parity_difference"]
    assert dpd["stages"] == ["evaluate", "optimize", "monitor"]
    assert dpd["doc"]
    params = {p["name"]: p for p in dpd["params"]}
    assert params["max"] == {
        "name": "max",
        "type": "number",
        "required": False,
        "default": 0.1,
        "constraint": "in [0, 1]",
        "description": params["max"]["description"],
    }
    assert params["sensitive_features"]["required"] and params["sensitive_features"]["type"] == "list[string]"
    assert params["min_group_size"]["constraint"] == ">= 1" and params["min_group_size"]["default"] == 30


def test_checks_prints_a_table(rai, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    code, out, _ = rai("checks")
    assert code == 0
    assert "fairness.demographic_parity_difference" in out
    assert "max: number in [0, 1] = 0.1" in out
