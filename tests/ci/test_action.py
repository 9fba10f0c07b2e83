"""The composite GitHub Action (action.yml), its shell steps run here as a runner would run them.

Steps that `uses:` other actions (setup-python, upload-artifact, upload-sarif) cannot run without
GitHub; the test checks what they would be given: files the earlier steps wrote.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import jsonschema
import numpy as np
import pandas as pd
import yaml

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = json.loads((Path(__file__).parent / "fixtures" / "sarif-schema-2.1.0.json").read_text())
EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")


def evaluate(expr: str, inputs: dict[str, str], steps: dict[str, dict[str, str]]) -> object:
    """The few expression forms action.yml uses: inputs.X, steps.I.outputs.X, always(), ==, !=, &&."""
    python = expr.replace("always()", "True").replace("&&", " and ")
    python = re.sub(r"inputs\.([\w-]+)", lambda m: repr(inputs[m.group(1)]), python)
    python = re.sub(r"steps\.([\w-]+)\.outputs\.([\w-]+)",
                    lambda m: repr(steps.get(m.group(1), {}).get(m.group(2), "")), python)
    assert re.fullmatch(r"[\s\w'\"=!.()+/:-]*", python), f"unsupported expression {expr!r}"
    return eval(python)  # noqa: S307  (the action's own expressions, checked above)


def substitute(text: str, inputs, steps) -> str:
    return EXPRESSION.sub(lambda m: str(evaluate(m.group(1), inputs, steps)), text)


def run_action(workdir: Path, with_: dict[str, str]) -> tuple[dict, list[dict], int]:
    action = yaml.safe_load((ROOT / "action.yml").read_text())
    assert action["runs"]["using"] == "composite"
    inputs = {name: str(spec.get("default", "")) for name, spec in action["inputs"].items()}
    inputs.update(with_)
    steps: dict[str, dict[str, str]] = {}
    used, last_code = [], 0
    env_path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"
    for step in action["runs"]["steps"]:
        if "if" in step and not evaluate(step["if"], inputs, steps):
            continue
        if "uses" in step:
            used.append({"uses": step["uses"], "with": {k: substitute(str(v), inputs, steps)
                                                        for k, v in step.get("with", {}).items()}})
            continue
        assert step["shell"] == "bash"
        output = workdir / f"output-{len(steps)}"
        output.write_text("")
        env = {"PATH": env_path, "HOME": str(workdir), "GITHUB_OUTPUT": str(output),
               **{k: substitute(str(v), inputs, steps) for k, v in step.get("env", {}).items()}}
        done = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]], cwd=workdir,
                              env=env, capture_output=True, text=True, timeout=300)
        last_code = done.returncode
        if step.get("id"):
            steps[step["id"]] = dict(line.split("=", 1) for line in output.read_text().splitlines() if "=" in line)
        if done.returncode and step is not action["runs"]["steps"][-1]:
            raise AssertionError(f"step {step.get('name')} failed: {done.stderr}")
    return steps, used, last_code


def test_the_action_gates_an_audit_and_hands_over_report_and_sarif(tmp_path):
    rng = np.random.default_rng(2)
    n = 300
    sex = np.where(np.arange(n) % 2 == 0, "F", "M")
    pred = np.where(sex == "F", rng.random(n) < 0.2, rng.random(n) < 0.6).astype(int)
    pd.DataFrame({"y": rng.integers(0, 2, n), "pred": pred, "sex": sex}).to_csv(tmp_path / "preds.csv", index=False)
    (tmp_path / "policy.yaml").write_text(
        "policy: p\nversion: 1\nowner: o\nrules:\n  - {id: parity, check: fairness.demographic_parity_difference,"
        " stage: evaluate, severity: high, params: {max: 0.1}}\n")
    steps, used, code = run_action(tmp_path, {
        "rai-package": "",  # rai is already installed here; a runner would pip install it
        "command": "audit fairness --data preds.csv --y-true y --y-pred pred --sensitive sex --policy policy.yaml",
    })
    assert steps["gate"]["exit-code"] == "1" and code == 1  # blocked: the job fails, after the uploads
    log = json.loads((tmp_path / "rai-results.sarif").read_text())
    jsonschema.Draft4Validator(SCHEMA).validate(log)
    assert [r["ruleId"] for r in log["runs"][0]["results"]] == ["parity"]
    report = tmp_path / steps["report"]["path"]
    assert report.name == "rai-report.html" and "parity" in report.read_text()
    assert [u["uses"].split("@")[0] for u in used] == ["actions/upload-artifact", "github/codeql-action/upload-sarif"]
    uploaded = used[0]["with"]["path"].split()
    assert all((tmp_path / name).is_file() for name in uploaded) and used[1]["with"]["sarif_file"] == "rai-results.sarif"


def test_the_action_installs_rai_by_default():
    action = yaml.safe_load((ROOT / "action.yml").read_text())
    install = next(s for s in action["runs"]["steps"] if s.get("name") == "Install rai")
    assert action["inputs"]["rai-package"]["default"] == "rai" and "pip install" in install["run"]
    assert action["runs"]["steps"][0]["uses"].startswith("actions/setup-python@")
