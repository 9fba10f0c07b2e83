"""`rai trail ...` and `rai approve`: exit codes 0/1/2, JSON, no tracebacks, fast imports."""

import csv
import io
import json
import subprocess
import sys

import pytest

from governance.trail import open_trail
from rai.cli import main

from .conftest import raw_db


def rai(*args, ws=None):
    """Run the CLI in-process; return (exit code, stdout, stderr)."""
    argv = list(args) + (["--workspace", str(ws.root)] if ws is not None else [])
    out, err = io.StringIO(), io.StringIO()
    old = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = out, err
    try:
        main(argv)
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    finally:
        sys.stdout, sys.stderr = old
    assert "Traceback" not in err.getvalue()
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def filled(ws):
    with open_trail(ws) as t:
        t.append("run.started", run_id="r1", actor="alice", payload={"spec": {"name": "credit"}})
        t.append("stage.completed", run_id="r1", actor="alice", payload={"stage": "train"})
        t.append("run.started", run_id="r2", actor="bob", payload={})
        t.append("gate.decided", run_id="r1", actor="alice", payload={"decision": "pass"})
    return ws


def test_verify_intact_then_tampered(filled):
    code, out, _ = rai("trail", "verify", ws=filled)
    assert code == 0 and out.startswith("trail intact: 4 entries") and "no checkpoint yet" in out
    with raw_db(filled) as db:
        db.execute("UPDATE events SET actor = 'mallory' WHERE seq = 2")
    code, out, _ = rai("trail", "verify", ws=filled)
    assert code == 1 and out.startswith("TAMPERED: entry 2: edited: column 'actor'")
    code, out, _ = rai("trail", "verify", "--json", ws=filled)
    data = json.loads(out)
    assert code == 1 and data["ok"] is False and data["first_problem"]["seq"] == 2
    assert data["first_problem"]["kind"] == "edited"


def test_verify_json_when_intact(filled):
    rai("trail", "checkpoint", ws=filled)
    code, out, _ = rai("trail", "verify", "--json", ws=filled)
    data = json.loads(out)
    assert code == 0 and data["ok"] and data["size"] == 4 and data["checkpoints_verified"] == 1
    assert data["latest_checkpoint"]["tree_size"] == 4 and data["problems"] == []


@pytest.mark.parametrize("args, message", [
    (["trail", "verify", "--workspace", "{missing}"], "no audit trail at"),
    (["trail", "verify", "--checkpoint", "{missing}/cp.json", "--workspace", "{ws}"], "does not exist"),
    (["trail", "show", "--since", "last tuesday", "--workspace", "{ws}"], "expected an ISO 8601 date"),
    (["trail", "export", "--format", "xml", "--workspace", "{ws}"], "'xml' is not one of"),
    (["trail", "prove", "0", "--workspace", "{ws}"], "0 is not in the range"),
    (["trail", "prove", "99", "--workspace", "{ws}"], "no verified checkpoint yet"),
    (["trail", "check-proof", "{ws}/trail.db", "--checkpoint", "{ws}/trail.db"], "not a JSON inclusion proof"),
    (["approve", "r9", "--role", "risk", "--decision", "approve", "--workspace", "{ws}"], "unknown run id 'r9'"),
    (["approve", "r1", "--role", "risk", "--decision", "maybe", "--workspace", "{ws}"], "'maybe' is not one of"),
    (["approve", "r1", "--role", "risk", "--decision", "approve", "--workspace", "{missing}"], "no audit trail"),
])
def test_usage_errors_exit_2_with_one_line(filled, tmp_path, args, message):
    argv = [a.format(ws=filled.root, missing=tmp_path / "missing") for a in args]
    code, _, err = rai(*argv)
    assert code == 2 and message in err


def test_checkpoint_prove_and_third_party_check(filled, tmp_path):
    export = tmp_path / "published.json"
    code, out, _ = rai("trail", "checkpoint", "--export", str(export), ws=filled)
    assert code == 0 and "checkpoint: 4 entries" in out and export.is_file()
    proof = tmp_path / "proof.json"
    assert rai("trail", "prove", "2", "-o", str(proof), ws=filled)[0] == 0
    code, out, _ = rai("trail", "check-proof", str(proof), "--checkpoint", str(export))
    assert code == 0 and out.startswith("proof valid: entry 2 (stage.completed, run r1")
    code, out, _ = rai("trail", "check-proof", str(proof), "--checkpoint", str(export), "--json")
    assert code == 0 and json.loads(out)["event"]["payload"] == {"stage": "train"}
    data = json.loads(proof.read_text())
    data["entry"]["body"] = data["entry"]["body"].replace("train", "trian")
    proof.write_text(json.dumps(data))
    code, out, _ = rai("trail", "check-proof", str(proof), "--checkpoint", str(export))
    assert code == 1 and "proof INVALID" in out and "does not match its entry hash" in out


def test_prove_prints_json_to_stdout(filled):
    rai("trail", "checkpoint", ws=filled)
    code, out, _ = rai("trail", "prove", "3", ws=filled)
    assert code == 0 and json.loads(out)["seq"] == 3


def test_show_filters(filled):
    code, out, _ = rai("trail", "show", "--run", "r1", "--kind", "stage.completed", ws=filled)
    assert code == 0 and len(out.splitlines()) == 1 and "stage.completed" in out
    code, out, _ = rai("trail", "show", "--json", "--kind", "run.started", ws=filled)
    assert [e["run_id"] for e in json.loads(out)] == ["r1", "r2"]
    code, out, err = rai("trail", "show", "--since", "2999-01-01", ws=filled)
    assert code == 0 and out == "" and "no events match" in err


def test_export_jsonl_and_csv(filled, tmp_path):
    code, out, _ = rai("trail", "export", "--format", "jsonl", "--run", "r1", ws=filled)
    rows = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and [r["seq"] for r in rows] == [1, 2, 4] and rows[0]["payload"] == {"spec": {"name": "credit"}}
    target = tmp_path / "trail.csv"
    code, _, err = rai("trail", "export", "--format", "csv", "-o", str(target), ws=filled)
    assert code == 0 and "4 events written" in err
    table = list(csv.DictReader(target.open()))
    assert [r["kind"] for r in table] == ["run.started", "stage.completed", "run.started", "gate.decided"]
    assert json.loads(table[3]["payload"]) == {"decision": "pass"}


def test_approve_records_an_event(filled):
    code, out, _ = rai("approve", "r1", "--role", "risk-officer", "--decision", "approve",
                       "--comment", "looks fair", "--actor", "carol", ws=filled)
    assert code == 0 and "approval.recorded #5" in out
    code, out, _ = rai("approve", "r2", "--role", "owner", "--decision", "reject", "--json", ws=filled)
    event = json.loads(out)
    assert code == 0 and event["payload"]["decision"] == "reject" and event["seq"] == 6


def test_rotate_key(filled):
    rai("trail", "checkpoint", ws=filled)
    code, out, _ = rai("trail", "rotate-key", "--json", ws=filled)
    data = json.loads(out)
    assert code == 0 and data["old_key_id"] != data["new_key_id"] == data["checkpoint"]["key_id"]
    assert rai("trail", "verify", ws=filled)[0] == 0


def test_deleted_database_with_checkpoints_is_tampering_not_a_usage_error(filled):
    rai("trail", "checkpoint", ws=filled)
    filled.trail_db.unlink()
    code, out, _ = rai("trail", "verify", ws=filled)
    assert code == 1 and out.startswith("TAMPERED: entry 1: truncated")


def test_corrupted_database_is_reported_cleanly(filled):
    rai("trail", "checkpoint", ws=filled)
    filled.trail_db.write_bytes(b"this is not a database" * 100)
    code, out, _ = rai("trail", "verify", ws=filled)
    assert code == 1 and "unreadable" in out
    code, _, err = rai("trail", "show", ws=filled)
    assert code == 1 and err.startswith("error: ") and "cannot open trail" in err


def test_subprocess_exit_codes_and_no_heavy_imports(filled):
    probe = ("import sys, runpy; sys.argv = ['rai'] + sys.argv[1:]\n"
             "try:\n    runpy.run_module('rai', run_name='__main__')\n"
             "finally:\n    heavy = [m for m in ('tensorflow', 'pandas', 'lifecycle', 'psycopg') if m in sys.modules]\n"
             "    print('HEAVY', heavy, file=sys.stderr)\n")
    for args, expected in ((["trail", "verify"], 0), (["trail", "show"], 0),
                           (["approve", "r1", "--role", "x", "--decision", "approve"], 0),
                           (["trail", "verify", "--checkpoint", "nope.json"], 2)):
        proc = subprocess.run([sys.executable, "-c", probe, *args, "--workspace", str(filled.root)],
                              capture_output=True, text=True, timeout=60)
        assert proc.returncode == expected, proc.stderr
        assert "Traceback" not in proc.stderr and "HEAVY []" in proc.stderr
