"""`rai report`, `rai report verify` and `rai model-card` as users type them."""

from __future__ import annotations

import json

import pytest

from rai.cli import main

from .synthetic import BLOCKED_RUN, PASSED_RUN


def rai(capsys, *args: str) -> tuple[int, str, str]:
    """Run the CLI in-process; return (exit code, stdout, stderr)."""
    try:
        main(list(args))
        code = 0
    except SystemExit as exit_:
        code = exit_.code if isinstance(exit_.code, int) else 1
    out = capsys.readouterr()
    return code, out.out, out.err


def test_report_latest_as_markdown_on_stdout(capsys, fixed_workspace):
    code, out, _ = rai(capsys, "report", "latest", "--format", "md", "--workspace", str(fixed_workspace))
    assert code == 0
    assert out.startswith(f"# Compliance report: run {BLOCKED_RUN}\n")  # the latest pipeline run


def test_options_may_come_before_the_run_id(capsys, fixed_workspace):
    code, out, _ = rai(capsys, "report", "--format", "json", PASSED_RUN, "--workspace", str(fixed_workspace))
    assert code == 0 and json.loads(out)["run"]["run_id"] == PASSED_RUN


def test_report_to_file_then_verify_then_edit(capsys, fixed_workspace, tmp_path):
    ws, path = str(fixed_workspace), tmp_path / "r.json"
    code, _, err = rai(capsys, "report", PASSED_RUN, "--format", "json", "-o", str(path), "--workspace", ws)
    assert code == 0 and "wrote the json report" in err
    code, out, _ = rai(capsys, "report", "verify", str(path), "--workspace", ws)
    assert code == 0 and "matches the trail" in out
    doc = json.loads(path.read_text())
    doc["gates"][2]["findings"][1]["observed"] = 0.01
    path.write_text(json.dumps(doc))
    code, _, err = rai(capsys, "report", "verify", str(path), "--workspace", ws)
    assert code == 1
    assert "first mismatch: gates[2].findings[1].observed: the report has 0.01" in err


def test_pdf_defaults_to_a_file_named_after_the_run(capsys, fixed_workspace, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, _, _ = rai(capsys, "report", BLOCKED_RUN, "--format", "pdf", "--workspace", str(fixed_workspace))
    assert code == 0
    assert (tmp_path / f"report-{BLOCKED_RUN}.pdf").read_bytes().startswith(b"%PDF-")


@pytest.mark.parametrize("args,message", [
    (["report", "20990101T000000Z-000000"], "unknown run id '20990101T000000Z-000000'"),
    (["report", "latest", "-o", "{missing}/r.html"], "cannot write the html report"),
    (["report", "verify", "{missing}/r.json"], "no such file"),
    (["report", "verify", "{notjson}"], "not a rai JSON report"),
    (["model-card", "nope"], "unknown run id 'nope'"),
])
def test_user_mistakes_are_one_line_and_exit_2(capsys, fixed_workspace, tmp_path, args, message):
    notjson = tmp_path / "x.json"
    notjson.write_text("{")
    args = [a.format(missing=tmp_path / "no" / "dir", notjson=notjson) for a in args]
    code, out, err = rai(capsys, *args, "--workspace", str(fixed_workspace))
    assert code == 2
    assert message in err and len(err.strip().splitlines()) == 1, err


def test_a_workspace_without_trail_is_a_user_error_and_stays_empty(capsys, tmp_path):
    code, _, err = rai(capsys, "report", "latest", "--workspace", str(tmp_path / "empty"))
    assert code == 2 and "no audit trail" in err
    assert not (tmp_path / "empty").exists()


def test_model_card_command_writes_the_sidecar_once(capsys, workspace):
    code, out, _ = rai(capsys, "model-card", PASSED_RUN, "--workspace", str(workspace))
    assert code == 0 and out.startswith("# Model card: adult-income")
    sidecar = workspace / "runs" / PASSED_RUN / "model-card.yaml"
    assert sidecar.is_file()
    code, out, _ = rai(capsys, "model-card", PASSED_RUN, "--format", "json", "--workspace", str(workspace))
    assert code == 0 and json.loads(out)["kind"] == "rai.model-card"
