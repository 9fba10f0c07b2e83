"""Hostile reports for ``rai report verify``: forgeries that must not verify, files that must not crash.

A forged report must never be said to match the trail: a repeated key that first-wins readers see
differently, an edit anywhere (``generated`` included), a field of the wrong type. A file built
to crash the reader (nested 100,000 levels, NaN, a 5,000-digit number) is one clean line, exit 2.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from report.synthetic import PASSED_RUN, build_workspace

from governance.report import build_report, render_report, verify_report
from governance.report.render_json import load_report
from governance.trail import open_trail

from .rai_case import assert_no_terminal_controls, deadline, one_clean_line, run, run_process

GENERATED_AT = "2025-03-02T10:00:00Z"


@pytest.fixture(scope="module")
def workspace(tmp_path_factory) -> Path:
    return build_workspace(tmp_path_factory.mktemp("hostile-report") / "ws")


@pytest.fixture(scope="module")
def honest_text(workspace) -> str:
    with open_trail(workspace, create=False) as trail:
        return render_report(build_report(trail, PASSED_RUN, generated_at=GENERATED_AT).to_dict(), "json")


@pytest.fixture
def verify(workspace, honest_text, tmp_path, rai):
    """``verify(text) -> (code, out, err)``: write ``text`` as a report file and run ``rai report verify``."""

    def check(text: str | None = None, doc: dict | None = None) -> tuple[int, str, str]:
        path = tmp_path / "report.json"
        path.write_text(text if text is not None else json.dumps(doc), encoding="utf-8")
        return run(rai, "report", "verify", str(path), "--workspace", str(workspace))

    return check


def test_the_honest_report_verifies(verify, honest_text):
    code, out, _ = verify(honest_text)
    assert code == 0 and "matches the trail" in out


# --- repeated keys: one meaning per document -------------------------------------------------

def _repeat(text: str, anchor: str, key: str, forged: str) -> str:
    """Insert ``"key": forged`` right after the first ``anchor`` (an object's opening)."""
    i = text.index(anchor) + len(anchor)
    return text[:i] + f'\n"{key}": {forged},' + text[i:]


REPEATED = [
    # (what, anchor, key, forged value, the place named)
    ("the decision, first-wins readers see 'passed'", '"verdict": {', "decision", '"passed"', "verdict.decision"),
    ("the run id", '"run": {', "run_id", '"20990101T000000Z-ffffff"', "run.run_id"),
    ("a finding's status", '"findings": [\n        {', "status", '"passed"', "gates[0].findings[0].status"),
    ("a top-level section", "{", "verdict", "{}", "verdict"),
]


@pytest.mark.parametrize("what, anchor, key, forged, place", REPEATED, ids=[r[0] for r in REPEATED])
def test_repeated_keys_are_refused(verify, honest_text, what, anchor, key, forged, place):
    code, out, err = verify(_repeat(honest_text, anchor, key, forged))
    assert code == 2 and out == ""
    one_clean_line(err, "not a rai JSON report", f"{place}: key appears more than once in one object")


def test_repeated_keys_are_refused_by_the_api(tmp_path, honest_text):
    path = tmp_path / "r.json"
    path.write_text(_repeat(honest_text, '"verdict": {', "decision", '"passed"'))
    with pytest.raises(Exception, match="verdict.decision: key appears more than once") as raised:
        load_report(path)
    assert type(raised.value).__name__ == "UserError"


# --- every field is covered, generated included ----------------------------------------------

def _leaves(value: Any, path: tuple = ()) -> list[tuple]:
    if isinstance(value, dict):
        return [leaf for k, v in value.items() for leaf in _leaves(v, (*path, k))]
    if isinstance(value, list):
        return [leaf for i, v in enumerate(value) for leaf in _leaves(v, (*path, i))]
    return [path]


def _edited(value: Any) -> Any:
    if isinstance(value, bool):
        return not value
    if isinstance(value, (int, float)):
        return value + 1
    return "forged" if value is None else f"{value}-forged"


def _place(path: tuple) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out


def _first_leaf_of_each_section(doc: dict) -> list[tuple]:
    firsts = {}
    for leaf in _leaves(doc):
        if leaf not in (("generated", "at"), ("run", "run_id")):  # the time is used; another run is refused
            firsts.setdefault(leaf[0], leaf)
    return list(firsts.values())


def _set(doc: dict, path: tuple, value: Any) -> None:
    node = doc
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value


def test_an_edit_in_any_section_is_named(workspace, honest_text):
    honest = json.loads(honest_text)
    leaves = _first_leaf_of_each_section(honest) + [leaf for leaf in _leaves(honest) if leaf[0] == "generated"
                                                    and leaf != ("generated", "at")]
    assert {leaf[0] for leaf in leaves} == set(honest) and len(leaves) > len(honest)
    with open_trail(workspace, create=False) as trail, deadline():
        for leaf in leaves:
            doc = json.loads(honest_text)
            _set(doc, leaf, _edited(_leaves_value(doc, leaf)))
            result = verify_report(trail, doc)
            assert not result.ok, leaf
            assert any(p.startswith(_place(leaf)) or "does not verify" in p for p in result.problems), (leaf, result)


def _leaves_value(doc: dict, path: tuple) -> Any:
    node = doc
    for part in path:
        node = node[part]
    return node


GENERATED_EDITS = [
    ("a note added", lambda g: g.update(note="approved by the board"), "generated.note: the report has"),
    ("the tool renamed", lambda g: g.update(tool="not-rai"), "generated.tool: the report has"),
    ("the version changed", lambda g: g.update(tool_version="9.9.9"), "generated.tool_version: the report has"),
    ("the tool removed", lambda g: g.pop("tool"), "generated.tool: the report has nothing"),
    ("the time in words", lambda g: g.update(at="yesterday"), "generated.at: the report has \"yesterday\", which is not"),
    ("an impossible time", lambda g: g.update(at="2025-13-45T99:99:99Z"), "generated.at: the report has \"2025-13"),
    ("the time as a number", lambda g: g.update(at=1740909600), "generated.at: the report has 1740909600, which is not"),
    ("the time as a list", lambda g: g.update(at=[GENERATED_AT]), "generated.at: the report has [\"2025"),
    ("the time removed", lambda g: g.pop("at"), "generated.at: the report has nothing, which is not"),
]


@pytest.mark.parametrize("what, edit, problem", GENERATED_EDITS, ids=[e[0] for e in GENERATED_EDITS])
def test_edits_under_generated_do_not_verify(verify, honest_text, what, edit, problem):
    doc = json.loads(honest_text)
    edit(doc["generated"])
    code, _, err = verify(doc=doc)
    assert code == 1 and "does NOT match the trail" in err
    assert f"first mismatch: {problem}" in err, err


def test_generated_replaced_by_text_does_not_verify(verify, honest_text):
    doc = json.loads(honest_text)
    doc["generated"] = "2025-03-02T10:00:00Z"
    code, _, err = verify(doc=doc)
    assert code == 1 and "generated" in err


def test_another_valid_generation_time_is_used_not_checked(verify, honest_text):
    doc = json.loads(honest_text)
    doc["generated"]["at"] = "2025-03-05T08:30:00Z"  # documented: the time is not derived from the trail
    assert verify(doc=doc)[0] == 0


# --- fields of the wrong type: a mismatch or a usage error, never a crash --------------------

def _with(honest_text: str, path: tuple, value: Any) -> dict:
    doc = json.loads(honest_text)
    _set(doc, path, value)
    return doc


WRONG_TYPES = [
    (("run",), [], 2, "the report names no run (run.run_id)"),
    (("run", "run_id"), 5, 2, "the report names no run"),
    (("run", "run_id"), {"id": PASSED_RUN}, 2, "the report names no run"),
    (("run", "run_id"), "\x1b]8;;https://evil.example/\x07run\u202e", 2, "is not in this trail"),
    (("trail",), "intact", 1, "trail.checkpoint: the report cites no checkpoint"),
    (("trail", "checkpoint", "tree_size"), True, 1, "the report cites no checkpoint"),
    (("trail", "checkpoint", "tree_size"), "16", 1, "the report cites no checkpoint"),
    (("trail", "checkpoint", "tree_size"), -1, 1, "the report cites no checkpoint"),
    (("trail", "checkpoint", "tree_size"), 10**30, 1, "does not verify"),
    (("trail", "checkpoint", "signature"), 12345, 1, "trail.checkpoint.signature: the report has 12345, which is not text"),
    (("trail", "checkpoint", "root_hash"), ["ab"], 1, "trail.checkpoint.root_hash"),
    (("generated",), None, 1, "generated"),
    (("events",), {"0": "x"}, 1, "events: the report has"),
    (("gates", 0, "findings"), "none", 1, "gates[0].findings: the report has"),
    (("metadata", "owner"), "\x1b[2J\x1b[Hcleared\r\ndecision: passed", 1, "metadata.owner"),
]


@pytest.mark.parametrize("path, value, code, message", WRONG_TYPES, ids=[
    f"{_place(p)}={json.dumps(v)[:20]}" for p, v, _, _ in WRONG_TYPES])
def test_fields_of_the_wrong_type(verify, honest_text, path, value, code, message):
    got, out, err = verify(doc=_with(honest_text, path, value))
    assert got == code, err
    assert message in err
    assert_no_terminal_controls(out, err)
    if code == 2:
        one_clean_line(err)


def test_a_million_forged_entries_give_ten_problems(verify, honest_text):
    doc = json.loads(honest_text)
    doc["events"] += [{"seq": i} for i in range(1_000_000)]
    code, _, err = verify(doc=doc)
    assert code == 1 and len(err.strip().splitlines()) == 11  # the headline and ten places


# --- files built to crash the reader ---------------------------------------------------------

def _nested(depth: int) -> str:
    return "[" * depth + "]" * depth


CRASHERS = [
    ("nested 100,000 levels", lambda t: _nested(100_000), "nested more than 64 levels deep"),
    ("nested 900 levels inside a field", lambda t: t.replace('"metadata": {', '"metadata": {"x": '
                                                             + _nested(900) + ",", 1),
     "metadata.x" + "[0]" * 63 + ": nested more than 64 levels deep"),
    ("NaN", lambda t: t.replace('"metadata": {', '"metadata": {"x": NaN,', 1), "NaN is not a JSON number"),
    ("Infinity", lambda t: t.replace('"metadata": {', '"metadata": {"x": -Infinity,', 1), "-Infinity is not a JSON"),
    ("a 5,000-digit integer", lambda t: t.replace('"metadata": {', '"metadata": {"x": ' + "9" * 5000 + ",", 1),
     "not a rai JSON report (Exceeds the limit"),
    ("a lone surrogate", lambda t: t.replace('"metadata": {', '"metadata": {"x": "\\ud800",', 1), None),
    ("not UTF-8", None, "cannot read it"),
    ("empty", lambda t: "", "invalid JSON at line 1, column 1"),
    ("a JSON list", lambda t: "[]", "'kind' is not 'rai.compliance-report'"),
]


@pytest.mark.parametrize("what, make, message", CRASHERS, ids=[c[0] for c in CRASHERS])
def test_crashing_files_are_one_clean_line_in_a_child_process(workspace, honest_text, tmp_path, what, make, message):
    path = tmp_path / "report.json"
    if make is None:
        path.write_bytes(b'{"kind": "rai.compliance-report", "x": "\xff\xfe"}')
    else:
        path.write_text(make(honest_text), encoding="utf-8", errors="surrogatepass")
    done = run_process(["report", "verify", str(path), "--workspace", str(workspace)], tmp_path)
    if message is None:  # a lone surrogate is valid JSON text: the report then does not match
        assert done.returncode == 1 and "does NOT match" in done.stderr
        return
    assert done.returncode == 2 and done.stdout == ""
    one_clean_line(done.stderr, "not a rai JSON report", message)
