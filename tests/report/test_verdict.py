"""The verdict of runs whose records need care: a resumed run, and a trail that does not verify."""

from __future__ import annotations

import html
import io
import re

import pytest
from pypdf import PdfReader

from governance.report import build_report, render_report
from governance.trail import open_trail

from .conftest import GENERATED_AT
from .synthetic import PASSED_RUN, RESUMED_RUN, add_resumed_run, tamper


def _report(workspace, run_id):
    with open_trail(workspace, create=False) as trail:
        return build_report(trail, run_id, generated_at=GENERATED_AT).to_dict()


def _text(doc, fmt: str) -> str:
    out = render_report(doc, fmt)
    if fmt == "pdf":
        return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(out)).pages)
    return html.unescape(re.sub(r"<[^>]+>", " ", out)) if fmt == "html" else out


@pytest.fixture
def resumed(workspace):
    add_resumed_run(workspace)
    return _report(workspace, RESUMED_RUN)


def test_a_resumed_run_is_judged_by_its_final_gate_decisions(resumed):
    v = resumed["verdict"]
    assert v["decision"] == "passed" and v["headline"].startswith("PASSED") and v["blocking"] == []
    # The deploy gate decided twice; only its second decision counts, so no failure is counted.
    assert v["explanation"][0] == ("The run recorded 4 binding gate decisions with 14 rule results "
                                   "(12 passed, 1 warning, 1 waived).")
    first, second = [g for g in resumed["gates"] if g["stage"] == "deploy"]
    assert first["superseded_by"] == second["seq"] and first["binding"] is False
    assert "superseded_by" not in second and second["binding"] is True
    assert (f"The deploy gate was decided again at entry {second['seq']} (passed); its earlier decision at entry "
            f"{first['seq']} (blocked on 'human-approval') is superseded and not counted above.") in v["explanation"]


def test_a_resumed_runs_superseded_gate_is_marked_and_leaves_the_mapping(resumed):
    text = render_report(resumed, "md")
    first = next(g for g in resumed["gates"] if g["stage"] == "deploy")
    assert f"> Superseded: this gate was decided again at entry {first['superseded_by']}" in text
    art14 = next(c for fw in resumed["frameworks"]["frameworks"] for c in fw["clauses"] if c["id"] == "eu-ai-act:art-14")
    assert art14["status"] == "supported"  # checked, and passing: the failure was superseded
    assert {r["id"]: r["status"] for r in art14["rules"]}["human-approval"] == "passed"


def test_a_run_decided_once_has_no_superseded_gates(reports):
    assert all("superseded_by" not in g for doc in reports.values() for g in doc["gates"])


@pytest.mark.parametrize("fmt", ["md", "html", "pdf"])
def test_a_tampered_trail_is_said_before_the_decision(workspace, fmt):
    seq = tamper(workspace, PASSED_RUN, "approval.recorded", "Reviewed", "Ignored")
    doc = _report(workspace, PASSED_RUN)
    v = doc["verdict"]
    assert v["decision"] == "passed"  # what the trail says, kept for machines
    assert v["headline"] == "TRAIL NOT VERIFIED: this report cannot be trusted."
    assert f"entry {seq}" in v["explanation"][0] and "may have been edited" in v["explanation"][0]
    assert v["explanation"][1].startswith("As recorded (unverified): PASSED")
    text = " ".join(_text(doc, fmt).split())
    warning, passed = text.find("TRAIL NOT VERIFIED"), text.find("PASSED")
    assert 0 <= warning < passed < text.find("1. Run identity")


def test_an_intact_trail_keeps_the_plain_verdict(reports):
    assert reports[PASSED_RUN]["verdict"]["headline"].startswith("PASSED")
