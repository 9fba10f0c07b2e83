"""``plugins: [./checks.py]``: a policy's own checks, validated, listed and gated like rai's own."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import rai as rai_api
from governance.checks.base import load_all, origin_of
from governance.checktest import check_cases
from governance.errors import LocatedError
from governance.policy.loader import lint_policy, load_policy, policy_json

CHECKS = '''\
from pydantic import Field

from governance.checks.base import Check, CheckParams, Outcome, register


@register("team.min_rows")
class MinRows(Check):
    """The evaluation set has at least `min` rows."""

    stages = ("evaluate", "monitor")
    audits = ("fairness",)

    class Params(CheckParams):
        min: int = Field(100, ge=1)

    def evaluate(self, evidence, params):
        rows = len(evidence.require("predictions").y_true)
        return Outcome(rows >= params.min, f"{rows} rows (minimum {params.min})", observed=rows, threshold=params.min)
'''
POLICY = """\
policy: team
version: 1
owner: risk@example.org
plugins: [./checks.py]
rules:
  - id: enough-rows
    check: team.min_rows
    stage: evaluate
    severity: high
    params: {min: %s}
"""


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.write_text(text)
    return path


def predictions(n: int = 200) -> rai_api.Predictions:
    rng = np.random.default_rng(0)
    return rai_api.Predictions(rng.integers(0, 2, n), rng.integers(0, 2, n), pd.DataFrame({"sex": rng.choice(["F", "M"], n)}))


def test_a_plugin_check_gates_like_a_built_in_one(tmp_path):
    write(tmp_path, "checks.py", CHECKS)
    passing = load_policy(write(tmp_path, "policy.yaml", POLICY % 150))
    assert origin_of("team.min_rows") == "plugin file ./checks.py"
    assert passing.rules[0].validated.min == 150
    assert rai_api.audit(passing, "evaluate", predictions=predictions(200)).decision == "passed"
    result = rai_api.audit(passing, "evaluate", predictions=predictions(100))
    assert result.decision == "blocked" and result.findings[0].message == "100 rows (minimum 150)"


def test_params_of_a_plugin_check_get_located_lint_errors(tmp_path):
    write(tmp_path, "checks.py", CHECKS)
    path = write(tmp_path, "policy.yaml", POLICY % "0.5")
    assert [e.format() for e in lint_policy(path)] == [
        f"{path}:10:19: rules[0].params.min: must be an integer >= 1, got 0.5"]


def test_the_plugin_files_bytes_are_part_of_the_policy_hash(tmp_path):
    digest = hashlib.sha256(write(tmp_path, "checks.py", CHECKS).read_bytes()).hexdigest()
    policy = load_policy(write(tmp_path, "policy.yaml", POLICY % 150))
    assert json.loads(policy_json(policy))["plugins"] == [{"file": "./checks.py", "sha256": digest}]
    assert policy.sha256 == hashlib.sha256(policy_json(policy).encode()).hexdigest()


def test_a_plugin_file_changed_since_it_was_loaded_is_refused(tmp_path):
    write(tmp_path, "checks.py", CHECKS)
    path = write(tmp_path, "policy.yaml", POLICY % 150)
    load_policy(path)
    write(tmp_path, "checks.py", CHECKS + "# edited\n")
    with pytest.raises(LocatedError, match=r"plugins\[0\]: plugin file .*checks.py changed since this process "
                       r"loaded it; run rai again$"):
        load_policy(path)


def test_rai_checks_lists_a_plugin_check_with_its_origin(tmp_path, rai):
    write(tmp_path, "checks.py", CHECKS)
    load_policy(write(tmp_path, "policy.yaml", POLICY % 150))
    code, out, _ = rai("checks", "--json")
    listed = {c["name"]: c for c in json.loads(out)}
    assert code == 0 and listed["team.min_rows"]["origin"] == "plugin file ./checks.py"
    assert listed["team.min_rows"]["params"][0]["name"] == "min"
    assert listed["fairness.demographic_parity_difference"]["origin"] == "built-in"


def test_a_check_of_a_plugin_file_the_policy_does_not_list_is_unknown_to_it(tmp_path):
    write(tmp_path, "checks.py", CHECKS)
    load_policy(write(tmp_path, "policy.yaml", POLICY % 150))
    other = write(tmp_path, "other.yaml", (POLICY % 150).replace("plugins: [./checks.py]\n", ""))
    with pytest.raises(LocatedError) as info:
        load_policy(other)
    assert str(info.value) == (f"{other}:6:12: rules[0].check: check 'team.min_rows' is defined by the plugin file "
                               f"{tmp_path / 'checks.py'}, which this policy does not list in `plugins`")


def test_a_base_and_its_child_may_both_list_the_same_file(tmp_path):
    write(tmp_path, "checks.py", CHECKS)
    write(tmp_path, "base.yaml", POLICY % 150)
    child = load_policy(write(tmp_path, "child.yaml", "policy: c\nversion: 1\nowner: o\nextends: base.yaml\n"
                              "plugins: [checks.py]\n"))
    assert [r.check for r in child.rules] == ["team.min_rows"] and len(child.plugin_files) == 1


@pytest.mark.parametrize("source, message", [
    ("import not_a_module_anywhere\n",
     "ModuleNotFoundError: No module named 'not_a_module_anywhere' ({dir}/bad.py, line 1)"),
    ("def broken(:\n", "SyntaxError: invalid syntax ({dir}/bad.py, line 1)"),
    ("raise RuntimeError('no licence key')\n", "RuntimeError: no licence key ({dir}/bad.py, line 1)"),
    (CHECKS + CHECKS.split("\n\n\n")[1].replace("MinRows", "Again"),
     "RuntimeError: check 'team.min_rows' is registered twice (first by {dir}/bad.py) ({dir}/bad.py, line 19)"),
    (CHECKS.replace("team.min_rows", "fairness.demographic_parity_difference"),
     "RuntimeError: check 'fairness.demographic_parity_difference' is registered twice (first by built-in) "
     "({dir}/bad.py, line 6)"),
    (CHECKS.replace('("evaluate", "monitor")', '("evaluation",)'),
     "RuntimeError: check 'team.min_rows' declares invalid stages ['evaluation'] ({dir}/bad.py, line 6)"),
], ids=["import-error", "syntax-error", "raises", "name-twice", "built-in-name", "bad-stage"])
def test_a_plugin_that_does_not_load_is_one_located_line_and_registers_nothing(tmp_path, rai, source, message):
    write(tmp_path, "bad.py", source)
    path = write(tmp_path, "policy.yaml", (POLICY % 150).replace("./checks.py", "./bad.py"))
    before = set(load_all())
    code, out, err = rai("policy", "lint", str(path))
    expected = f"{path}:4:11: plugins[0]: plugin file {tmp_path}/bad.py: cannot load plugin: " + message.format(dir=tmp_path)
    assert code == 2 and out.splitlines()[0] == expected, out
    assert "Traceback" not in out + err
    assert set(load_all()) == before


def test_the_completeness_helper_runs_a_checks_own_cases(tmp_path):
    write(tmp_path, "checks.py", CHECKS)
    load_policy(write(tmp_path, "policy.yaml", POLICY % 150))
    check = load_all()["team.min_rows"]
    from governance.evidence import Evidence

    cases = [("enough", lambda: Evidence(predictions=predictions(200)), {"min": 100}, True),
             ("too-few", lambda: Evidence(predictions=predictions(50)), {"min": 100}, False)]
    assert check_cases(check, cases) == []
    assert check_cases(check) == ["check 'team.min_rows' needs at least one passing and one failing case"]
    wrong = [("claims-a-pass", lambda: Evidence(predictions=predictions(50)), {"min": 100}, True)]
    assert check_cases(check, wrong + cases[1:])[-1] == "team.min_rows:claims-a-pass: expected ok=True, got False (50 rows (minimum 100))"
