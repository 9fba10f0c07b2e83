"""Terminal tables at 80 columns: every line fits, no word is ever split, bands in numeric order.

Each output is cut into words at spaces, box-drawing characters, ``=`` and ``,``; every one of
them must be a whole word of the table's input (a header may also break after an underscore,
``selection_`` / ``rate``). A word split across lines (``fema`` / ``le``) is not one.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from governance.metrics import fairness, fairness_regression
from rai.commands.termtable import TermTable, render

WIDTH = 80
_CUT = re.compile(r"[\s│┃┏┓┳━┡┩╇├┤┼─└┘┴,=]+")
RACES = ["White", "Black", "Asian-Pac-Islander", "Amer-Indian-Eskimo", "Other"]
BANDS = ["60+", "10-25", "5-10", "40-60", "25-40"]  # as text, "5-10" would come after "40-60"
IN_ORDER = ["5-10", "10-25", "25-40", "40-60", "60+"]


def words(text: str) -> list[str]:
    return [w for w in _CUT.split(text) if w]


def allowed(*texts: str) -> set[str]:
    """Whole words of ``texts``, and the pieces of underscored words a header may wrap at."""
    out = set()
    for text in texts:
        for word in words(text):
            out.add(word)
            out.update(re.findall(r"[^_]+_*|_+", word))
    return out


def assert_fits_without_split(out: str, vocabulary: set[str]) -> None:
    lines = out.splitlines()
    assert lines and max(len(line) for line in lines) <= WIDTH, max(lines, key=len)
    stray = set(words(out)) - vocabulary
    assert not stray, f"split or unknown words {sorted(stray)} in\n{out}"


@pytest.fixture
def audit_file(tmp_path, monkeypatch):
    """Predictions with the long group label 'female', five races and text age bands."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COLUMNS", str(WIDTH))
    rng = np.random.default_rng(3)
    n = 4000
    frame = pd.DataFrame({"sex": rng.choice(["female", "male"], n), "race": rng.choice(RACES, n),
                          "age_band": rng.choice(BANDS, n), "y": rng.integers(0, 2, n),
                          "pred": rng.integers(0, 2, n), "hours": rng.normal(40, 10, n).round(1)})
    frame["hours_pred"] = frame["hours"] + rng.normal(0, 3, n)
    frame["level"] = rng.choice(["no-diploma", "high-school", "some-college", "degree"], n)
    frame["level_pred"] = np.where(rng.random(n) < 0.6, frame["level"], rng.choice(frame["level"], n))
    frame.to_csv("p.csv", index=False)
    return frame


def _vocabulary(frame: pd.DataFrame, extra: str = "") -> set[str]:
    labels = " ".join(str(v) for c in ("sex", "race", "age_band", "level") for v in frame[c].unique())
    headers = ("sex race age_band count selection_rate accuracy tpr fpr excluded mean_prediction mean_target "
               "mae rmse class metric value worst class overall yes Groups by One-vs-rest rates Fairness metrics "
               "groups under 30 rows left out group(s) excluded from the metrics (favourable)")
    metrics = " ".join(fairness.METRICS + fairness_regression.METRICS)
    return allowed(labels, headers, metrics, extra) | {f"{x:.4f}" for x in np.linspace(0, 1, 10001)} | {"n/a"}


@pytest.mark.parametrize("task, columns", [
    ("binary", ["--y-true", "y", "--y-pred", "pred"]),
    ("multiclass", ["--y-true", "level", "--y-pred", "level_pred"]),
    ("regression", ["--y-true", "hours", "--y-pred", "hours_pred"]),
])
@pytest.mark.parametrize("sensitive", ["sex", "sex,race", "sex,race,age_band"])
def test_audit_tables_fit_80_columns_without_splitting_a_word(audit_file, rai, task, columns, sensitive):
    code, out, err = rai("audit", "fairness", "--data", "p.csv", *columns, "--task", task, "--sensitive", sensitive)
    assert code == 0, err
    numbers = " ".join(w for w in words(out) if re.fullmatch(r"-?\d+(\.\d+)?", w))  # counts, means, errors
    assert_fits_without_split(out, _vocabulary(audit_file, numbers))
    assert "female" in words(out) and "fema" not in words(out)


def test_age_bands_are_listed_in_numeric_order(audit_file, rai):
    code, out, _ = rai("audit", "fairness", "--data", "p.csv", "--y-true", "y", "--y-pred", "pred",
                       "--sensitive", "age_band")
    assert code == 0
    shown = [w for w in words(out) if w in BANDS]
    assert shown == IN_ORDER


def test_intersectional_bands_are_in_numeric_order_within_each_group(audit_file, rai):
    code, out, _ = rai("audit", "fairness", "--data", "p.csv", "--y-true", "y", "--y-pred", "pred",
                       "--sensitive", "sex,age_band")
    assert code == 0
    shown = [w for w in words(out) if w in BANDS]
    assert shown == IN_ORDER * 2


def test_policy_findings_keep_inconclusive_whole(audit_file, rai, tmp_path):
    (tmp_path / "policy.yaml").write_text(
        "policy: p\nversion: '1'\nowner: qa\nfail_on: high\nrules:\n"
        "  - {id: fnr-gap-by-sex-and-race-and-age-band, check: fairness.group_metric, stage: evaluate,\n"
        "     severity: medium, params: {sensitive_features: [sex], metric: fnr,\n"
        "     aggregate: difference, max: 0.02, confidence: 0.95, bootstrap_samples: 200}}\n")
    code, out, _ = rai("audit", "fairness", "--data", "p.csv", "--y-true", "y", "--y-pred", "pred",
                       "--sensitive", "sex", "--policy", "policy.yaml")
    assert code in (0, 1)
    table = out[out.index("Policy findings"):out.index("fnr-gap-by-sex-and-race-and-age-band: ")]
    assert max(len(line) for line in table.splitlines()) <= WIDTH
    assert {"inconclusive", "fairness.group_metric", "fnr-gap-by-sex-and-race-and-age-band"} <= set(words(table))
    assert re.search(r"observed +[\d.]+ \[[\d.]+, [\d.]+\]$", table, re.M)  # the difference with its interval


# --- the layouts, one by one ----------------------------------------------------------------------


def _table(rows: list[list[str]], keys: int = 2) -> TermTable:
    table = TermTable(title="Groups by sex, race", keys=keys)
    for name in ("sex", "race"):
        table.add_column(name)
    for name in ("count", "selection_rate", "accuracy"):
        table.add_column(name, numeric=True)
    for row in rows:
        table.add_row(*row)
    return table


def _text(table: TermTable, width: int = WIDTH) -> str:
    return "\n".join(line.plain for line in render(table, width))


def test_a_table_that_fits_keeps_one_row_per_line():
    out = _text(_table([["female", "Amer-Indian-Eskimo", "17", "0.1000", "0.9000"]]))
    assert "│ female │ Amer-Indian-Eskimo │    17 │         0.1000 │   0.9000 │" in out


def test_a_narrow_table_wraps_between_words_and_after_underscores():
    out = _text(_table([["female", "Amer Indian Eskimo", "17", "0.1000", "0.9000"]]), width=52)
    assert max(map(len, out.splitlines())) <= 52
    assert "selection_" in words(out) and "rate" in words(out)
    assert_fits_without_split(out, allowed("Groups by sex race count selection_rate accuracy female Amer Indian "
                                           "Eskimo 17 0.1000 0.9000"))


def test_too_wide_a_table_stacks_its_groups_above_their_numbers():
    out = _text(_table([["female", "Amer-Indian-Eskimo-" * 3, "17", "0.1000", "0.9000"]]))
    lines = out.splitlines()
    key = next(i for i, line in enumerate(lines) if "sex=female" in line)
    assert "race=Amer-Indian-Eskimo-Amer-Indian-Eskimo-Amer-Indian-Eskimo-" in out
    assert re.search(r"│ +17 │ +0\.1000 │ +0\.9000 │", lines[key + 1])


def test_narrower_still_each_row_becomes_a_record():
    out = _text(_table([["female", "Black", "17", "0.1000", "0.9000"]]), width=30)
    assert out.splitlines()[1:] == ["sex=female, race=Black", "  count           17",
                                    "  selection_rate  0.1000", "  accuracy        0.9000"]


def test_only_a_word_wider_than_the_terminal_is_shortened():
    out = _text(_table([["female", "x" * 100, "17", "0.1000", "0.9000"]]), width=40)
    assert max(map(len, out.splitlines())) <= 40
    assert re.search(r"race=x{20,}… │", out) and "x" * 40 not in out  # the one thing shortened, and marked so
    assert "female" in words(out)


@pytest.mark.parametrize("task", ["binary", "regression"])
def test_the_run_summarys_variants_fit_80_columns_in_their_tasks_terms(task):
    import io

    from rich.console import Console

    from rai.commands.run_view import _variants_table, print_table

    quality, gap = ("accuracy", "demographic_parity_difference") if task == "binary" else ("mae", "mae_difference")
    variants = [{"mode": mode, "size_bytes": 12024, "latency_ms": 0.0089, "decision": "passed", "deployed": mode == "int8",
                 "accuracy": 0.855 if task == "binary" else None, "performance": {quality: 0.855 if task == "binary" else 7.31},
                 "group_gaps": {f"sex.{gap}": 0.165, f"race.{gap}": 0.172, "sex.equalized_odds_difference": 0.5}}
                for mode in ("dynamic_range", "int8", "float16")]
    buffer = io.StringIO()
    print_table(Console(file=buffer, width=WIDTH, force_terminal=False), _variants_table(variants))
    out = buffer.getvalue()
    assert_fits_without_split(out, allowed("LiteRT variants mode size latency ms gate deployed passed yes",
                                           quality, "parity gap MAE gap", "dynamic_range int8 float16",
                                           "12,024 B 0.0089 0.8550 7.3100 sex=0.165, race=0.172"))
    assert ("MAE gap" in out) == (task == "regression") and "0.500" not in out  # only the task's own gap
