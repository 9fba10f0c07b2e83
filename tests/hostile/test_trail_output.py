"""Hostile values recorded in the trail, shown by ``rai trail`` and ``rai approve``.

Actors, run ids, roles, comments and payloads are whatever their writers typed: escape sequences
that clear the screen or plant a hyperlink, a one-byte CSI, carriage returns that forge a line,
direction overrides, Rich markup. Every trail command shows them as visible escapes and brackets
as typed; ``--json`` and JSON-lines exports keep the exact values (decoded by any JSON reader)
without a raw control character; CSV keeps exact values in a file and escapes them on a terminal.
"""

from __future__ import annotations

import csv
import io
import json

import pytest

from governance.trail import open_trail, record_approval
from governance.workspace import Workspace
from rai.commands.trail_output import write_events

from .rai_case import TERMINAL_CONTROLS, assert_no_terminal_controls, run, trail_case

HOSTILE = {
    "csi-clear-screen": "\x1b[2J\x1b[Hwiped",
    "osc8-hyperlink": "\x1b]8;;https://evil.example/\x07click\x1b]8;;\x07",
    "c1-csi": "\x9b31mred",
    "forged-line": "x\r\nTAMPERED: nothing, trail intact",
    "bidi-override": "abc\u202edetrevni",
    "rich-markup": "[bold red]ALERT[/] [link=https://evil.example]x[/link]",
    "nul-and-del": "ali\x00ce\x7f",
}


@pytest.fixture(autouse=True)
def _deadline(monkeypatch):
    with trail_case(monkeypatch):
        yield


@pytest.fixture(params=HOSTILE.values(), ids=HOSTILE.keys())
def recorded(request, tmp_path):
    value = request.param
    ws = Workspace(tmp_path / "ws")
    with open_trail(ws) as t:
        t.append("run.started", run_id=value, actor=value, payload={"note": value, value: [value]})
        record_approval(t, value, value, "reject", actor=value, comment=value)
        t.checkpoint()
    return ws, value


def test_show_and_verify_show_values_escaped(recorded, rai):
    ws, value = recorded
    code, out, err = run(rai, "trail", "show", "--workspace", str(ws.root))
    assert code == 0 and len(out.splitlines()) == 2
    assert_no_terminal_controls(out, err)
    if value.startswith("[bold"):
        assert "[bold red]ALERT[/]" in out  # brackets as typed, not styled
    with open_trail(ws) as t:  # a hostile name in a checkpoint file and an edited column
        t.append("stage.completed", run_id="r", actor="x")
    (ws.checkpoints / f"{value.replace('/', '_').replace(chr(0), '')}.json").write_text("{}")
    code, out, err = run(rai, "trail", "verify", "--workspace", str(ws.root))
    assert code == 1 and "bad_checkpoint" in out
    assert_no_terminal_controls(out, err)


def test_json_outputs_keep_exact_values_without_raw_controls(recorded, rai):
    ws, value = recorded
    code, out, err = run(rai, "trail", "show", "--json", "--workspace", str(ws.root))
    assert code == 0
    assert_no_terminal_controls(out, err)
    events = json.loads(out)
    assert events[0]["actor"] == value and events[0]["payload"] == {"note": value, value: [value]}
    code, out, _ = run(rai, "trail", "export", "--workspace", str(ws.root))
    assert_no_terminal_controls(out)
    assert [json.loads(line)["run_id"] for line in out.splitlines()] == [value, value]
    code, out, _ = run(rai, "trail", "prove", "2", "--workspace", str(ws.root))
    assert code == 0 and json.loads(out)["event"]["payload"]["comment"] == value
    assert_no_terminal_controls(out)


def test_approve_and_check_proof_print_escaped(recorded, rai, tmp_path):
    ws, value = recorded
    code, out, err = run(rai, "approve", value, "--role", value, "--decision", "withdraw", "--actor", value,
                         "--comment", value, "--workspace", str(ws.root))
    assert code == 0 and "approval.recorded #3" in out
    assert_no_terminal_controls(out, err)
    published = tmp_path / "cp.json"
    proof = tmp_path / "proof.json"
    run(rai, "trail", "checkpoint", "--export", str(published), "--workspace", str(ws.root))
    run(rai, "trail", "prove", "3", "-o", str(proof), "--workspace", str(ws.root))
    code, out, err = run(rai, "trail", "check-proof", str(proof), "--checkpoint", str(published))
    assert code == 0 and out.startswith("proof valid: entry 3 (approval.recorded")
    assert_no_terminal_controls(out, err)


def test_csv_is_exact_in_a_file_and_escaped_on_a_terminal(recorded, rai, tmp_path):
    ws, value = recorded
    target = tmp_path / "trail.csv"
    code, _, _ = run(rai, "trail", "export", "--format", "csv", "-o", str(target), "--workspace", str(ws.root))
    rows = list(csv.DictReader(target.open(newline="", encoding="utf-8")))
    assert code == 0 and rows[0]["actor"] == value

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    screen = Terminal()
    with open_trail(ws, create=False) as t:
        assert write_events(t.iter_events(), "csv", screen) == 2
    shown = screen.getvalue()
    assert not any(c in shown for c in TERMINAL_CONTROLS if c != "\r")
    assert shown.count("\r") == shown.count("\n") == 3  # only the line ends of the header and two rows
