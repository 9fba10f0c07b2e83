"""Hostile values on the terminal: column names and group values that try to steer the terminal.

Data files can hold escape sequences (clear the screen, plant a hyperlink, write the clipboard),
carriage returns that forge a line such as ``decision: passed``, direction overrides, and Rich
markup that the table renderer would obey (or choke on). Every command shows them literally:
no control character reaches the terminal, markup is printed as text, and ``--json`` keeps the
values exactly as they are in the file.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import pandas as pd
import pytest
from rich.console import Console

from governance.textsafe import markup, printable

from .rai_case import assert_no_terminal_controls, one_clean_line, run

HOSTILE = {
    "csi-clear-screen": "\x1b[2J\x1b[Hwiped",
    "osc8-hyperlink": "\x1b]8;;https://evil.example/\x07click\x1b]8;;\x07",
    "osc52-clipboard": "\x1b]52;c;cm0gLXJmIH4K\x07",
    "c1-csi": "\x9b31mred",
    "forged-line": "x\r\ndecision: passed",
    "bidi-override": "abc\u202edetrevni",
    "rich-link": "[link=https://evil.example]click[/link]",
    "rich-unbalanced-close": "[/]",
    "rich-style": "[bold red on white]ALERT",
    "backslash-then-markup": "end\\",
}


@pytest.fixture
def here(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COLUMNS", "250")  # no wrapping: a value is shown on one line, or not at all
    return tmp_path


def predictions(group: str, column: str = "grp") -> str:
    frame = pd.DataFrame({"y": [1, 0, 1, 0] * 10, "pred": [1, 0, 0, 1] * 10,
                          column: [group, "plain"] * 20})
    frame.to_csv("p.csv", index=False)
    return "p.csv"


def _shown(out: str, value: str, decisions: int = 0) -> None:
    """``value`` is on screen as printable text, and no decision line was forged."""
    assert_no_terminal_controls(out)
    assert printable(value) in out, (printable(value), out)
    assert sum(line.startswith("decision: passed") for line in out.splitlines()) == decisions


@pytest.mark.parametrize("value", HOSTILE.values(), ids=HOSTILE.keys())
def test_fairness_table_shows_group_values_literally(here, rai, value):
    code, out, err = run(rai, "audit", "fairness", "--data", predictions(value), "--y-true", "y", "--y-pred", "pred",
                         "--sensitive", "grp")
    assert code == 0, err
    _shown(out, value)


@pytest.mark.parametrize("value", HOSTILE.values(), ids=HOSTILE.keys())
def test_fairness_table_shows_column_names_literally(here, rai, value):
    code, out, err = run(rai, "audit", "fairness", "--data", predictions("a", column=value), "--y-true", "y",
                         "--y-pred", "pred", "--sensitive", value)
    assert code == 0, err
    _shown(out, value)


@pytest.mark.parametrize("value", HOSTILE.values(), ids=HOSTILE.keys())
def test_json_keeps_the_values_exactly(here, rai, value):
    code, out, _ = run(rai, "audit", "fairness", "--data", predictions(value), "--y-true", "y", "--y-pred", "pred",
                       "--sensitive", "grp", "--json")
    assert code == 0
    assert_no_terminal_controls(out)  # JSON escapes them
    assert value in [group["group"]["grp"] for group in json.loads(out)["groups"]]


@pytest.mark.parametrize("value", HOSTILE.values(), ids=HOSTILE.keys())
def test_error_lines_quote_column_names_literally(here, rai, value):
    code, out, err = run(rai, "audit", "fairness", "--data", predictions("a", column=value), "--y-true", "y",
                         "--y-pred", "pred", "--sensitive", "sexx")
    assert code == 2 and out == ""
    one_clean_line(err, "error: p.csv: no column 'sexx' (columns: y, pred, ", printable(value))


@pytest.mark.parametrize("value", HOSTILE.values(), ids=HOSTILE.keys())
def test_drift_table_and_findings_show_column_names_literally(here, rai, value):
    frame = pd.DataFrame({value: ["a", "b"] * 100, "x": [1.0, 2.0] * 100, "id": [f"r{i}" for i in range(200)]})
    frame.to_csv("ref.csv", index=False)
    frame.assign(**{value: ["c", "d"] * 100}).to_csv("cur.csv", index=False)
    Path("policy.yaml").write_text("policy: p\nversion: '1'\nowner: qa\nrules:\n"
                                   "  - {id: drift, check: drift.dataset, stage: monitor, severity: high, "
                                   "params: {allow_skipped: true, drift_share: 0.9}}\n")
    code, out, err = run(rai, "audit", "drift", "--reference", "ref.csv", "--current", "cur.csv", "--policy",
                         "policy.yaml")
    assert code == 0, err
    _shown(out, value, decisions=1)  # the gate's own line, and no other
    message = [line for line in out.splitlines() if line.startswith("drift: ")]
    assert message and printable(value) in message[0]  # the finding's message names the drifted column


@pytest.mark.parametrize("value", HOSTILE.values(), ids=HOSTILE.keys())
def test_policy_lint_quotes_keys_literally(here, rai, value):
    key = json.dumps(value)  # a YAML double-quoted scalar: \u001b and friends become the characters
    Path("policy.yaml").write_text(f"policy: p\nversion: '1'\nowner: qa\n{key}: 1\nrules: []\n")
    code, out, err = run(rai, "policy", "lint", "policy.yaml")
    assert code == 2
    assert_no_terminal_controls(out, err)


def test_run_summary_shows_names_and_messages_literally():
    from rai.commands.run_view import print_summary

    bad = "\x1b]8;;https://evil.example/\x07[link=https://evil.example]x[/link]\r\ndecision: passed\u202e"
    summary = {
        "run_id": f"run{bad}", "decision": "passed", "workspace": f"ws{bad}", "trail": f"t{bad}",
        "evidence": f"e{bad}", "reasons": [f"reason {bad}"],
        "stages": [{"stage": f"ingest{bad}", "status": "passed", "metrics": {"train_rows": 3, "variant": bad},
                    "findings": [{"status": "warning", "rule_id": "r", "subject": bad, "message": f"msg {bad}"}]}],
        "variants": [{"mode": bad, "size_bytes": 10, "decision": bad, "group_gaps": {}}],
        "privacy": {"epsilon": 1.0, "delta": bad, "noise_multiplier": 1.1, "accountant": bad},
        "deployed": {"manifest": f"m{bad}", "name": f"n{bad}", "version": 1},
    }
    buffer = io.StringIO()
    print_summary(Console(file=buffer, width=400, force_terminal=False), summary)
    out = buffer.getvalue()
    assert_no_terminal_controls(out)
    assert "[link=https://evil.example]x[/link]" in out  # markup shown, not obeyed
    assert not any(line.startswith("decision: passed") for line in out.splitlines())


@pytest.mark.parametrize("value", HOSTILE.values(), ids=HOSTILE.keys())
def test_markup_prints_exactly_the_printable_text(value):
    buffer = io.StringIO()
    Console(file=buffer, width=400, force_terminal=False, highlight=False).print(f"[bold]{markup(value)}[/]")
    assert buffer.getvalue() == printable(value) + "\n"
