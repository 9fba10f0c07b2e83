"""`rai audit drift`: numbers equal evidently's, exit codes, one-line errors, no TensorFlow."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from checks.drift_oracle import assert_rows_equal, preset, read_adult, shifted, value_drift
from cliargs import override

from governance.fsutil import file_sha256
from governance.io import read_table

from .recorded import recorded_blocked_audit

BASE = ("audit", "drift", "--reference", "ref.csv", "--current", "cur.csv")
HEAVY = ("tensorflow", "tf_keras", "keras", "tensorflow_privacy", "ai_edge_litert", "fairlearn", "evidently")
JSON_KEYS = {"schema_version", "columns", "drifted_share", "n_drifted", "dataset_drift", "drift_share_threshold",
             "skipped"}


@pytest.fixture
def files(tmp_path, monkeypatch):
    """``ref.csv`` (Adult train), ``cur.csv`` (Adult test), ``moved.csv`` (shifted test); each with a score."""
    monkeypatch.chdir(tmp_path)
    rng = np.random.default_rng(0)
    reference, current = read_adult("adult.data.csv.gz"), read_adult("adult.test.csv.gz")
    reference.assign(score=rng.beta(2, 5, len(reference))).to_csv("ref.csv", index=False)
    current.assign(score=rng.beta(2, 5, len(current))).to_csv("cur.csv", index=False)
    shifted(current).assign(score=rng.beta(4, 5, len(current))).to_csv("moved.csv", index=False)
    return tmp_path




def policy(*rules: str, fail_on: str = "high") -> str:
    body = "".join(f"  - {rule}\n" for rule in rules)
    Path("policy.yaml").write_text(f"policy: drift\nversion: '1'\nowner: qa\nfail_on: {fail_on}\nrules:\n{body}")
    return "policy.yaml"


def rule(rule_id: str, check: str, params: str = "{}", severity: str = "high", stage: str = "monitor") -> str:
    return f"{{id: {rule_id}, check: {check}, stage: {stage}, severity: {severity}, params: {params}}}"


# --- numbers ----------------------------------------------------------------------------------


def test_json_equals_evidently_on_shifted_adult(files, rai):
    code, out, err = rai("audit", "drift", "--reference", "ref.csv", "--current", "moved.csv", "--json")
    assert code == 0, err  # without a policy the audit reports; it does not gate
    result = json.loads(out)
    rows, share, dataset_drift = preset(read_table("ref.csv"), read_table("moved.csv"))
    assert [row["column"] for row in result["columns"]] == list(read_table("moved.csv").columns)
    for row in result["columns"]:
        assert_rows_equal(row, rows[row["column"]])
    assert result["drifted_share"] == pytest.approx(share, rel=1e-12)
    assert result["dataset_drift"] is dataset_drift is True
    assert result["n_drifted"] == round(share * len(rows))


def test_options_equal_evidently(files, rai):
    code, out, _ = rai(*BASE, "--columns", "age,sex,score", "--stattest", "psi", "--threshold", "0.001", "--json")
    result = json.loads(out)
    specs = [{"column": c, "method": "psi", "threshold": 0.001} for c in ("age", "sex", "score")]
    theirs = value_drift(read_table("ref.csv"), read_table("cur.csv"), specs)
    assert code == 0 and len(result["columns"]) == 3
    for ours, expected in zip(result["columns"], theirs, strict=True):
        assert_rows_equal(ours, expected)


def test_prediction_column_is_tested_on_its_own(files, rai):
    code, out, _ = rai("audit", "drift", "--reference", "ref.csv", "--current", "moved.csv", "--prediction", "score",
                       "--json")
    result = json.loads(out)
    (theirs,) = value_drift(read_table("ref.csv"), read_table("moved.csv"), [{"column": "score"}])
    assert code == 0 and "score" not in [row["column"] for row in result["columns"]]
    assert result["prediction"]["column"] == "score" and result["prediction"]["drifted"]
    assert_rows_equal(result["prediction"], theirs)


def test_json_keys(files, rai):
    code, out, _ = rai(*BASE, "--json")
    result = json.loads(out)
    assert code == 0 and set(result) == JSON_KEYS and result["schema_version"] == 1
    assert set(result["columns"][0]) == {"column", "type", "method", "statistic", "statistic_kind", "threshold",
                                         "drifted"}
    assert result["drifted_share"] == pytest.approx(1 / 16) and result["drift_share_threshold"] == 0.5


def test_table_output(files, rai):
    code, out, _ = rai(*BASE)
    assert code == 0
    assert "Drift of cur.csv against ref.csv" in out
    assert "Dataset drift not detected: 1 of 16 columns drifted (6.2%, threshold 50.0%)" in out
    (age,) = [line for line in out.splitlines() if line.startswith("│ age ")]
    assert [cell.strip() for cell in age.split("│")[1:-1]] == ["age", "num", "wasserstein", "0.0169", "0.1", "no"]
    code, out, _ = rai(*BASE, "--columns", "age", "--stattest", "ks")
    assert "p=0.4573" in out


# --- policies and exit codes ------------------------------------------------------------------


@pytest.mark.parametrize("rules, extra, code, statuses", [
    ([rule("data", "drift.dataset", "{drift_share: 0.5}", stage="ingest")], [], 0, ["passed"]),
    ([rule("label", "drift.column", "{columns: [Y]}")], [], 1, ["failed"]),
    ([rule("label", "drift.column", "{columns: [Y]}", severity="medium")], [], 0, ["warning"]),
    ([rule("scores", "drift.prediction", "{stattest: ks}")], ["--prediction", "score"], 0, ["passed"]),
    ([rule("data", "drift.dataset", "{columns: [agee]}")], [], 1, ["error"]),
    ([rule("data", "drift.dataset"), rule("sex", "drift.column", "{columns: [sex], stattest: psi}", stage="ingest")],
     [], 0, ["passed", "passed"]),
])
def test_policy_exit_codes(files, rai, rules, extra, code, statuses):
    got, out, err = rai(*BASE, *extra, "--policy", policy(*rules), "--json")
    result = json.loads(out)
    assert got == code, err
    assert [f["status"] for f in result["findings"]] == statuses
    assert result["decision"] == ("blocked" if code else "passed")
    assert all(f["evidence"].get("schema_version") == 1 for f in result["findings"] if f["status"] != "error")


def test_policy_findings_table(files, rai):
    path = policy(rule("data", "drift.dataset", "{drift_share: 0.3}"), rule("scores", "drift.prediction"))
    code, out, _ = rai("audit", "drift", "--reference", "ref.csv", "--current", "moved.csv", "--prediction", "score",
                       "--policy", path)
    assert code == 1
    assert "Policy findings" in out and "decision: blocked (data, scores)" in out
    assert "scores: predictions drifted: score: wasserstein" in out


# --- user mistakes: one line, exit 2 ----------------------------------------------------------

ERRORS = [
    (["--columns", "age,sexx"], "ref.csv: no column 'sexx' (columns: age, workclass, fnlwgt,"),
    (["--columns", "age,"], "--columns: empty column name in 'age,' (give COL[,COL...])"),
    (["--stattest", "kss"], "unknown stattest 'kss'; did you mean 'ks'? (available: anderson, chisquare,"),
    (["--stattest", "ks"], "stattest 'ks' applies to numerical columns; column 'workclass' is categorical"),
    (["--threshold", "0"], "stattest threshold must be a positive number, got 0.0"),
    (["--prediction", "scores"], "ref.csv: --prediction: no column 'scores'"),
    (["--current", "missing.csv"], "missing.csv: no such file"),
]


@pytest.mark.parametrize("extra, message", ERRORS)
def test_user_mistakes(files, rai, extra, message):
    code, out, err = rai(*override(BASE, extra))
    assert code == 2 and out == ""
    assert err.startswith(f"error: {message}") and err.count("\n") == 1


def test_column_missing_from_current_names_file_and_column(files, rai):
    read_table("cur.csv").drop(columns=["race"]).to_csv("no-race.csv", index=False)
    code, _, err = rai("audit", "drift", "--reference", "ref.csv", "--current", "no-race.csv")
    assert code == 2
    assert err.startswith("error: no-race.csv: no column 'race' (columns: age, workclass,") and err.count("\n") == 1


@pytest.mark.parametrize("rules, message", [
    ([rule("scores", "drift.prediction")], "rule 'scores' of policy.yaml tests prediction drift: pass --prediction COL"),
    ([rule("meta", "accountability.metadata_present", stage="train")],
     "policy.yaml: no drift.* rules to audit (rules: 1)"),
    ([rule("data", "drift.dataset", "{stattest: psii}")], "policy.yaml:6:"),
])
def test_policy_mistakes(files, rai, rules, message):
    code, _, err = rai(*BASE, "--policy", policy(*rules))
    assert code == 2 and err.startswith(f"error: {message}") and err.count("\n") == 1


# --- whole process and the trail ---------------------------------------------------------------


def test_whole_process_loads_no_tensorflow_nor_oracles(files):
    args = list(BASE) + ["--policy", policy(rule("label", "drift.column", "{columns: [Y]}")), "--json"]
    code = textwrap.dedent(f"""
        import sys
        from rai.cli import main
        try:
            main({args!r})
        finally:
            heavy = sorted(m for m in sys.modules if m.split(".")[0] in {HEAVY!r})
            print("HEAVY", heavy, file=sys.stderr)
    """)
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    done = subprocess.run([sys.executable, "-c", code], cwd=files, capture_output=True, text=True, env=env)
    assert done.returncode == 1, done.stderr
    assert json.loads(done.stdout)["decision"] == "blocked"
    assert done.stderr.strip().splitlines()[-1] == "HEAVY []"


def test_record_appends_an_audit_event(files, rai):
    path = policy(rule("label", "drift.column", "{columns: [Y]}"))
    event = recorded_blocked_audit(rai, *BASE, "--policy", path)
    inputs = {"ref.csv": file_sha256("ref.csv"), "cur.csv": file_sha256("cur.csv")}
    assert event.payload["kind"] == "drift" and event.payload["inputs"] == inputs


def test_audit_group_lists_drift(rai):
    code, out, _ = rai("audit", "--help")
    assert code == 0 and "drift" in out
