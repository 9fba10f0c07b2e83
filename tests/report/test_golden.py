"""Golden files: the JSON and Markdown reports of the fixed workspace, byte for byte.

After an intended change to a report, regenerate the files and review their diff::

    RAI_UPDATE_GOLDEN=1 .venv/bin/pytest tests/report/test_golden.py
"""

from __future__ import annotations

import difflib
import json
import os
from importlib import resources
from pathlib import Path

import jsonschema
import pytest

from governance.report import render_report

from .synthetic import BLOCKED_RUN, PASSED_RUN

GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("RAI_UPDATE_GOLDEN") == "1"
CASES = [(run, fmt) for run in ("passed", "blocked") for fmt in ("json", "md")]
RUN_IDS = {"passed": PASSED_RUN, "blocked": BLOCKED_RUN}


def report_schema() -> dict:
    """The published JSON Schema of the report (draft 2020-12), as the installed package ships it."""
    return json.loads(resources.files("governance.report").joinpath("report.schema.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("name,fmt", CASES)
def test_report_matches_golden_file(reports, name, fmt):
    text = render_report(reports[RUN_IDS[name]], fmt)
    path = GOLDEN / f"{name}.{fmt}"
    if UPDATE:
        path.write_text(text, encoding="utf-8")
    expected = path.read_text(encoding="utf-8")
    if text != expected:
        diff = "".join(difflib.unified_diff(expected.splitlines(True), text.splitlines(True), str(path), "now", n=1))
        pytest.fail(f"{path.name} differs from the golden file (RAI_UPDATE_GOLDEN=1 to accept):\n{diff[:4000]}")


@pytest.mark.parametrize("name", ["passed", "blocked"])
def test_json_report_is_valid_against_the_published_schema(reports, name):
    schema = report_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    doc = json.loads(render_report(reports[RUN_IDS[name]], "json"))
    jsonschema.validate(doc, schema, cls=jsonschema.Draft202012Validator)
    assert doc["schema_version"] == "1.0" and doc["kind"] == "rai.compliance-report"


def test_schema_rejects_a_report_missing_its_verdict(reports):
    doc = json.loads(render_report(reports[PASSED_RUN], "json"))
    del doc["verdict"]
    with pytest.raises(jsonschema.ValidationError, match="verdict"):
        jsonschema.validate(doc, report_schema(), cls=jsonschema.Draft202012Validator)


def test_golden_workspace_is_reproducible(tmp_path, reports):
    # Rebuilding the workspace from scratch gives the same hashes, signature and report.
    from governance.report import build_report
    from governance.trail import open_trail

    from .conftest import GENERATED_AT
    from .synthetic import build_workspace

    with open_trail(build_workspace(tmp_path / "again"), create=False) as trail:
        again = build_report(trail, PASSED_RUN, generated_at=GENERATED_AT).to_dict()
    assert again == reports[PASSED_RUN]
