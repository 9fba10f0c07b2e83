"""Hostile drift data: a batch built to slip past the drift gate must block it, never pass.

Each case is a current batch (or reference) crafted against the drift checks: categories replaced
by values never seen, columns that cannot be compared, statistics that cannot be computed. The
gate must end in a failed or error finding, and ``rai audit drift`` must say which columns it did
not compare; nothing prints a traceback.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from governance.engine import evaluate
from governance.evidence import Evidence
from governance.metrics.drift import drift_report
from governance.policy.schema import Policy, Rule
from governance.vocabulary import Status

from .rai_case import deadline, one_clean_line, run

N = 3000


def reference_frame(n: int = N, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({
        "age": rng.normal(40, 10, n).round(),
        "hours": rng.normal(40, 8, n),
        "sex": rng.choice(["Male", "Female"], n),
        "race": rng.choice(["White", "Black", "Other"], n, p=[0.8, 0.1, 0.1]),
        "workclass": rng.choice(["Private", "Self-emp", "Gov", "Never-worked"], n),
    })


def never_seen(n: int, prefix: str) -> list[str]:
    """``n`` distinct values no reference holds: judged alone, the column looks like free text."""
    return [f"{prefix}-{i}" for i in range(n)]


def _finding(reference: pd.DataFrame, current: pd.DataFrame, check: str = "drift.dataset", **params):
    rule = Rule(id="drift-gate", check=check, stage="monitor", severity="high", params=params)
    policy = Policy(policy="hostile", version="1", owner="qa", rules=[rule])
    with deadline():
        (finding,) = evaluate(policy, "monitor", Evidence(reference=reference, current=current)).findings
    return finding


def _blocks(finding) -> None:
    assert finding.status in (Status.FAILED, Status.ERROR) and finding.blocks, (finding.status, finding.message)


# --- categories replaced by values never seen ----------------------------------------------

def replaced_categories() -> pd.DataFrame:
    current = reference_frame(seed=2)
    for column in ("sex", "race", "workclass"):
        current[column] = never_seen(len(current), column)
    return current


def test_categorical_columns_replaced_by_unseen_values_drift():
    report = drift_report(reference_frame(), replaced_categories())
    rows = {row["column"]: row for row in report.columns}
    assert {rows[c]["type"] for c in ("sex", "race", "workclass")} == {"cat"}
    assert all(rows[c]["drifted"] for c in ("sex", "race", "workclass"))
    assert report.skipped == []


def test_gate_blocks_on_replaced_categories():
    finding = _finding(reference_frame(), replaced_categories())
    _blocks(finding)
    assert finding.message.startswith("3 of 5 columns drifted (60.0%), at or above")


@pytest.mark.parametrize("n_values", [1, 2, 7], ids=["one-new-value", "two-new-values", "seven-new-values"])
def test_few_unseen_values_drift_too(n_values):
    current = reference_frame(seed=2)
    current["sex"] = [f"X{i % n_values}" for i in range(len(current))]
    (row,) = drift_report(reference_frame(), current, columns=["sex"]).columns
    assert row["type"] == "cat" and row["drifted"]


@pytest.mark.parametrize("size", [200, N], ids=["small-reference-chisquare-or-z", "large-reference-jensenshannon"])
def test_text_categories_recoded_as_numbers_drift(size):
    # The reference holds text, the batch numbers: compared as categories (all values new).
    reference = reference_frame(size)
    current = reference_frame(size, seed=2).assign(sex=np.arange(size) % 2, race=np.arange(size) % 3)
    report = drift_report(reference, current, columns=["sex", "race"])
    assert [row["drifted"] for row in report.columns] == [True, True]


# --- columns that cannot be compared --------------------------------------------------------

def with_unusable_columns(frame: pd.DataFrame, seed: int) -> pd.DataFrame:
    return frame.assign(customer_id=[f"c{seed}-{i}" for i in range(len(frame))],
                        signed_up=pd.date_range("2024-01-01", periods=len(frame), freq="h"))


def test_skipped_columns_block_the_gate_by_default():
    finding = _finding(with_unusable_columns(reference_frame(), 1), with_unusable_columns(reference_frame(seed=2), 2))
    assert finding.status == Status.ERROR and finding.blocks
    assert "2 column(s) not compared: customer_id (free text (dtype object)), signed_up (a datetime" in finding.message
    assert "allow_skipped: true" in finding.message


def test_allow_skipped_passes_but_names_them():
    finding = _finding(with_unusable_columns(reference_frame(), 1), with_unusable_columns(reference_frame(seed=2), 2),
                       allow_skipped=True)
    assert finding.status == Status.PASSED
    assert "not compared: customer_id (free text (dtype object)), signed_up (a datetime" in finding.message
    assert [row["column"] for row in finding.evidence["skipped"]] == ["customer_id", "signed_up"]


def test_only_skipped_columns_is_an_error():
    reference = pd.DataFrame({"id": never_seen(500, "r")})
    finding = _finding(reference, pd.DataFrame({"id": never_seen(500, "c")}), allow_skipped=True)
    assert finding.status == Status.ERROR and "no numerical or categorical column to compare" in finding.message


def test_list_values_in_a_categorical_column_block():
    reference = reference_frame(400)
    current = reference_frame(400, seed=2).astype({"sex": object})
    current["sex"] = [[i] for i in range(len(current))]
    finding = _finding(reference, current)
    _blocks(finding)
    assert "column 'sex' holds values that cannot be compared as categories" in finding.message


# --- values the tests cannot decide on ------------------------------------------------------

@pytest.mark.parametrize("current", [
    reference_frame(seed=2).assign(age="forty"),
    reference_frame(seed=2).assign(age=np.nan),
    reference_frame(seed=2).assign(sex=None),
], ids=["numbers-replaced-by-text", "numbers-all-missing", "categories-all-missing"])
def test_uncomparable_current_values_are_errors(current):
    finding = _finding(reference_frame(), current)
    assert finding.status == Status.ERROR and finding.blocks


@pytest.mark.parametrize("stattest, message", [
    ("t_test", "t_test is undefined (NaN) on these values"),
    ("anderson", "anderson cannot be computed on these values"),
])
def test_undefined_statistics_are_errors_not_passes(stattest, message):
    constant = pd.DataFrame({"x": np.full(300, 5.0)})
    finding = _finding(constant, constant.copy(), check="drift.column", columns=["x"], stattest=stattest)
    assert finding.status == Status.ERROR and message in finding.message


def test_chi_square_on_one_value_stays_no_drift_as_in_evidently():
    same = pd.DataFrame({"x": ["a"] * 300})
    (row,) = drift_report(same, same.copy(), stattest="chisquare").columns
    assert row["statistic"] != row["statistic"] and not row["drifted"]


# --- the command ----------------------------------------------------------------------------

@pytest.fixture
def files(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COLUMNS", "200")
    with_unusable_columns(reference_frame(), 1).to_csv("ref.csv", index=False)
    replaced_categories().pipe(with_unusable_columns, 2).to_csv("replaced.csv", index=False)
    with_unusable_columns(reference_frame(seed=2), 2).to_csv("same.csv", index=False)
    Path("policy.yaml").write_text(
        "policy: hostile\nversion: '1'\nowner: qa\nrules:\n"
        "  - {id: data-drift, check: drift.dataset, stage: monitor, severity: high}\n")
    return tmp_path


def test_audit_names_skipped_columns(files, rai):
    code, out, _ = run(rai, "audit", "drift", "--reference", "ref.csv", "--current", "same.csv")
    assert code == 0
    assert "Dataset drift not detected: 0 of 5 compared columns drifted" in out
    assert "2 columns not compared: customer_id (free text" in out


def test_audit_json_lists_skipped_columns(files, rai):
    code, out, _ = run(rai, "audit", "drift", "--reference", "ref.csv", "--current", "same.csv", "--json")
    assert code == 0
    assert [row["column"] for row in json.loads(out)["skipped"]] == ["customer_id", "signed_up"]


@pytest.mark.parametrize("current", ["replaced.csv", "same.csv"])
def test_audit_gate_blocks(files, rai, current):
    code, out, _ = run(rai, "audit", "drift", "--reference", "ref.csv", "--current", current, "--policy",
                       "policy.yaml", "--json")
    result = json.loads(out)
    assert code == 1 and result["decision"] == "blocked"
    assert result["findings"][0]["status"] == "error"  # skipped columns, whatever else drifted


def test_audit_of_text_in_a_numeric_column_is_one_line(files, rai):
    pd.read_csv("same.csv").assign(age="forty").to_csv("text-age.csv", index=False)
    code, out, err = run(rai, "audit", "drift", "--reference", "ref.csv", "--current", "text-age.csv")
    assert code == 2 and out == ""
    one_clean_line(err, "text-age.csv: column 'age' must hold numbers (it is numerical in the reference data)")
