"""``--format sarif|junit|github``: SARIF valid against the official 2.1.0 schema, JUnit XML that a
parser reads back, GitHub workflow commands; every result located in the policy file."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema
import numpy as np
import pandas as pd
import pytest

from governance.report.ci import CIResult, github

SCHEMA = json.loads((Path(__file__).parent / "fixtures" / "sarif-schema-2.1.0.json").read_text())
POLICY = """\
policy: ci
version: 1
owner: o
extends: rai:default
rules:
  - id: parity
    check: fairness.demographic_parity_difference
    stage: evaluate
    severity: high
    params: {max: 0.01}
  - id: accuracy-floor
    check: performance.metric
    stage: evaluate
    severity: medium
    params: {metric: accuracy, min: 0.9}
waivers:
  - {rule: four-fifths, reason: "tracked in RISK-7, 50% done", approved_by: cro, expires: 2999-01-01}
"""


def validate_sarif(text: str) -> dict:
    log = json.loads(text)
    jsonschema.Draft4Validator(SCHEMA).validate(log)
    return log


@pytest.fixture
def audit_project(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    rng = np.random.default_rng(5)
    n = 400
    sex = np.where(np.arange(n) % 2 == 0, "F", "M")
    y = rng.integers(0, 2, n)
    pred = np.where(sex == "F", rng.random(n) < 0.2, rng.random(n) < 0.6).astype(int)
    pd.DataFrame({"y": y, "pred": pred, "score": np.round(rng.random(n), 3), "sex": sex}).to_csv("preds.csv", index=False)
    Path("policy.yaml").write_text(POLICY)
    return tmp_path


def audit(rai, fmt):
    return rai("audit", "fairness", "--data", "preds.csv", "--y-true", "y", "--y-pred", "pred", "--y-score", "score",
               "--sensitive", "sex", "--policy", "policy.yaml", "--format", fmt)


def test_an_audit_as_sarif_is_valid_and_locates_each_rule(audit_project, rai):
    code, out, err = audit(rai, "sarif")
    assert code == 1, err
    log = validate_sarif(out)
    (run,) = log["runs"]
    assert run["tool"]["driver"]["name"] == "rai" and run["invocations"][0]["exitCode"] == 1
    results = {r["ruleId"]: r for r in run["results"]}
    parity = results["parity"]
    assert (parity["kind"], parity["level"]) == ("fail", "error")
    region = parity["locations"][0]["physicalLocation"]
    assert region == {"artifactLocation": {"uri": "policy.yaml"}, "region": {"startLine": 6, "startColumn": 5}}
    assert (results["accuracy-floor"]["kind"], results["accuracy-floor"]["level"]) == ("fail", "warning")
    # Rules inherited from the pack point at this file's `extends` line.
    inherited = results["equal-opportunity"]["locations"][0]["physicalLocation"]["region"]
    assert inherited == {"startLine": 4, "startColumn": 10}
    assert results["four-fifths"]["suppressions"][0]["justification"].startswith("waived by cro until 2999-01-01")
    ids = [d["id"] for d in run["tool"]["driver"]["rules"]]
    assert all(r["ruleIndex"] == ids.index(r["ruleId"]) for r in run["results"])


def test_an_audit_as_junit_reads_back(audit_project, rai):
    code, out, _ = audit(rai, "junit")
    assert code == 1
    root = ET.fromstring(out)
    (suite,) = root.findall("testsuite")
    cases = {c.get("name"): c for c in suite.findall("testcase")}
    assert suite.get("name") == "evaluate" and int(suite.get("tests")) == len(cases)
    assert cases["parity"].find("failure") is not None and cases["parity"].get("line") == "6"
    assert cases["accuracy-floor"].find("failure") is None
    assert cases["accuracy-floor"].find("system-out").text.startswith("warning: accuracy")
    assert cases["four-fifths"].find("skipped") is not None
    assert int(root.get("failures")) == sum(c.find("failure") is not None for c in cases.values())


def test_an_audit_as_github_commands(audit_project, rai):
    code, out, _ = audit(rai, "github")
    lines = out.splitlines()
    assert code == 1
    assert any(line.startswith("::error file=policy.yaml,line=6,col=5,title=parity (fairness.demographic_parity_difference)::failed: ")
               for line in lines)
    assert any(line.startswith("::warning file=policy.yaml,line=11,col=5,title=accuracy-floor") for line in lines)
    assert any(line.startswith("::notice file=policy.yaml,line=4,col=10,title=four-fifths") for line in lines)


def test_github_commands_escape_what_would_end_them():
    result = CIResult(name="a,b", status="failed", message="50% off\nline two", group="evaluate", blocks=True,
                      file="dir:x/p.yaml", line=3, col=1, check="x.y")
    assert github([result]) == "::error file=dir%3Ax/p.yaml,line=3,col=1,title=a%2Cb (x.y)::failed: 50%25 off%0Aline two\n"


def test_format_and_json_together_is_a_usage_error(audit_project, rai):
    code, _, err = rai("audit", "fairness", "--data", "preds.csv", "--y-true", "y", "--y-pred", "pred",
                       "--sensitive", "sex", "--policy", "policy.yaml", "--format", "sarif", "--json")
    assert code == 2 and "--format and --json both choose the output" in err


def test_lint_errors_as_sarif_and_junit(tmp_path, rai, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("bad.yaml").write_text("policy: p\nversion: 1.5\nowner: o\nfail_on: hihg\n")
    Path("good.yaml").write_text("policy: p\nversion: 1\nowner: o\n")
    code, out, _ = rai("policy", "lint", "bad.yaml", "good.yaml", "--format", "sarif")
    assert code == 2
    results = validate_sarif(out)["runs"][0]["results"]
    errors = [r for r in results if r["level"] == "error"]
    assert [(r["locations"][0]["physicalLocation"]["region"]["startLine"], r["ruleId"]) for r in errors] == [
        (2, "policy-lint"), (4, "policy-lint")]
    assert [r["kind"] for r in results if r["level"] == "none"] == ["pass"]
    code, out, _ = rai("policy", "lint", "bad.yaml", "good.yaml", "--format", "junit")
    suite = ET.fromstring(out).find("testsuite")
    assert suite.get("name") == "policy lint" and (suite.get("tests"), suite.get("errors")) == ("3", "2")


def test_policy_tests_as_sarif_and_junit(rai):
    shipped = str(Path(__file__).resolve().parents[2] / "policies" / "tests")
    code, out, _ = rai("policy", "test", shipped, "--format", "sarif")
    assert code == 0
    results = validate_sarif(out)["runs"][0]["results"]
    assert len(results) >= 20 and {r["kind"] for r in results} == {"pass"}
    code, out, _ = rai("policy", "test", shipped, "--format", "junit")
    root = ET.fromstring(out)
    assert code == 0 and root.get("failures") == "0" and int(root.get("tests")) == len(results)
