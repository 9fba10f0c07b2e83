"""A machine that keeps rai from reading or writing the trail: unreadable is not tampered.

A read-only workspace, a trail file rai may not open (or that is a directory, a FIFO, a device),
unreadable checkpoints, keys or evidence: exit 3 with one line, never "TAMPERED" (exit 1) and
never "intact". A full disk while signing or recording: exit 3, one line, and nothing already
recorded is lost. An output file that cannot be written: exit 2, one line, no partial file.

Cases that need file permissions to hold run the CLI in a child process that may not bypass them,
even when the tests run as root.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import sqlite3
import stat

import pytest
from trail.hostile import build_history, cli_process, python_process

from governance.trail import TrailIntegrityError, open_trail, verify_trail
from governance.trail.store_sqlite import SQLiteStore
from governance.workspace import Workspace

from .rai_case import one_clean_line, run, trail_case

needs_permissions = pytest.mark.skipif(os.geteuid() == 0 and shutil.which("setpriv") is None,
                                       reason="running as root without setpriv: file permissions cannot hold")


@pytest.fixture(autouse=True)
def _deadline(monkeypatch):
    with trail_case(monkeypatch):
        yield


@pytest.fixture
def ws(tmp_path):
    os.chmod(tmp_path, 0o755)  # a child that honours permissions must reach the workspace
    ws = Workspace(tmp_path / "ws")
    build_history(ws)
    yield ws
    for path in [tmp_path, *tmp_path.rglob("*")]:  # let the tmp dir be removed whoever we are
        if not path.is_symlink() and (path.is_dir() or path.is_file()):
            path.chmod(path.stat().st_mode | stat.S_IRWXU)


def _read_only(path):
    for p in [path, *path.rglob("*")]:
        p.chmod(0o555 if p.is_dir() else 0o444)


def _cannot_read(run_args, ws, *needles):
    proc = cli_process([*run_args, "--workspace", str(ws.root)], honour_permissions=True)
    assert proc.returncode == 3 and proc.stdout == "", (proc.returncode, proc.stdout, proc.stderr)
    one_clean_line(proc.stderr, *needles)
    assert "TAMPERED" not in proc.stderr


@needs_permissions
def test_a_read_only_workspace_is_not_tampered(ws):
    _read_only(ws.root)
    _cannot_read(["trail", "verify"], ws, "cannot open trail", "read-only")
    _cannot_read(["trail", "verify", "--json"], ws, "cannot open trail")
    _cannot_read(["trail", "show"], ws, "cannot open trail")


@needs_permissions
@pytest.mark.parametrize("target, needle", [
    ("trail.db", "Permission denied"),
    ("checkpoints", "checkpoints"),
    ("keys/trusted", "trusted keys"),
])
def test_files_rai_may_not_read_are_not_tampered(ws, target, needle):
    (ws.root / target).chmod(0)
    _cannot_read(["trail", "verify"], ws, needle)


@needs_permissions
def test_an_evidence_blob_rai_may_not_read_is_not_tampered(ws):
    with open_trail(ws) as t:
        digest = t.put_blob(b"per-group rates")
        t.append("stage.completed", run_id="r1", payload={"evidence_blob": digest})
    (ws.blobs / "sha256" / digest[:2] / digest).chmod(0)
    _cannot_read(["trail", "verify"], ws, "cannot read evidence blob")


@needs_permissions
def test_the_api_says_which_too(ws):
    _read_only(ws.root)
    probe = ("import sys\nfrom governance.trail import verify_trail\n"
             "from governance.trail.errors import TrailUnavailable\n"
             "try:\n    verify_trail(sys.argv[1])\nexcept TrailUnavailable as err:\n    print('unavailable', err.exit_code)\n")
    proc = python_process(["-c", probe, str(ws.root)], honour_permissions=True)
    assert proc.stdout.strip() == "unavailable 3", proc.stderr


def _directory(ws):
    ws.trail_db.unlink()
    ws.trail_db.mkdir()


def _fifo(ws):
    ws.trail_db.unlink()
    os.mkfifo(ws.trail_db)


def _device(ws):
    ws.trail_db.unlink()
    ws.trail_db.symlink_to("/dev/zero")


@pytest.mark.parametrize("replace", [_directory, _fifo, _device], ids=["directory", "fifo", "symlink-to-dev-zero"])
def test_a_trail_file_that_is_not_a_file_cannot_be_read_and_nothing_hangs(ws, replace):
    replace(ws)
    for args in (["trail", "verify"], ["trail", "show"], ["approve", "r1", "--role", "x", "--decision", "approve"]):
        proc = cli_process([*args, "--workspace", str(ws.root)], timeout=30)
        assert proc.returncode == 3, proc.stderr
        one_clean_line(proc.stderr, "not a regular file")


def test_a_full_disk_at_checkpoint_loses_nothing(ws, rai, monkeypatch):
    files_before = sorted(ws.checkpoints.iterdir())

    def no_space(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", no_space)
    code, out, err = run(rai, "trail", "checkpoint", "--workspace", str(ws.root))
    monkeypatch.undo()
    assert code == 3 and out == ""
    one_clean_line(err, "No space left on device", "signed and stored in the trail")
    assert sorted(ws.checkpoints.iterdir()) == files_before  # no partial or temporary file
    report = verify_trail(ws)
    assert report.ok and report.size == 10


def _cap_database_at_its_size(ws, monkeypatch):
    (pages,) = sqlite3.connect(ws.trail_db).execute("PRAGMA page_count").fetchone()
    opened = SQLiteStore._open

    def capped(self, create, busy_timeout):
        opened(self, create, busy_timeout)
        self._conn.execute(f"PRAGMA max_page_count = {pages}")  # SQLite's own "database or disk is full"

    monkeypatch.setattr(SQLiteStore, "_open", capped)


def test_a_full_database_at_checkpoint_and_at_append_loses_nothing(ws, rai, monkeypatch):
    _cap_database_at_its_size(ws, monkeypatch)
    signed = 1  # build_history's
    for _ in range(20):  # each checkpoint record takes room; the page fills within a few
        code, out, err = run(rai, "trail", "checkpoint", "--workspace", str(ws.root))
        if code:
            break
        signed += 1
    assert code == 3 and out == ""
    one_clean_line(err, "storing the checkpoint failed, nothing recorded", "database or disk is full")
    code, _, err = run(rai, "approve", "r1", "--role", "auditor", "--decision", "reject",
                       "--comment", "x" * 20_000, "--workspace", str(ws.root))
    assert code == 3
    one_clean_line(err, "append failed, nothing recorded")
    monkeypatch.undo()
    report = verify_trail(ws)
    assert report.ok and report.size == 10
    with open_trail(ws, create=False) as t:
        assert len(t.store.checkpoint_docs()) == signed


@pytest.mark.parametrize("where, needle", [
    ("{tmp}/missing-dir/out", "No such file or directory"),
    ("{ws}/trail.db/out", "Not a directory"),
])
@pytest.mark.parametrize("command", [
    ["trail", "export", "-o"], ["trail", "export", "--format", "csv", "-o"], ["trail", "prove", "3", "-o"],
], ids=["export-jsonl", "export-csv", "prove"])
def test_an_output_path_that_cannot_be_written_is_one_line(ws, rai, tmp_path, command, where, needle):
    target = where.format(tmp=tmp_path, ws=ws.root)
    code, out, err = run(rai, *command, target, "--workspace", str(ws.root))
    assert code == 2 and out == ""
    one_clean_line(err, "cannot write", needle)
    assert not list(tmp_path.glob("**/.*.tmp"))


def test_an_output_path_that_is_a_directory_is_a_usage_error(ws, rai, tmp_path):
    code, out, err = run(rai, "trail", "export", "-o", str(tmp_path), "--workspace", str(ws.root))
    assert code == 2 and out == "" and "is a directory" in err  # click's own usage message


def test_checkpoint_export_that_cannot_be_written_keeps_the_checkpoint(ws, rai, tmp_path):
    code, _, err = run(rai, "trail", "checkpoint", "--export", str(tmp_path / "nowhere" / "cp.json"),
                       "--workspace", str(ws.root))
    assert code == 2
    one_clean_line(err, "cannot write", "signed and saved to")
    report = verify_trail(ws)
    assert report.ok and report.latest_checkpoint.tree_size == 10


@needs_permissions
def test_export_into_a_read_only_directory_is_one_line_and_leaves_nothing(ws, tmp_path):
    out_dir = tmp_path / "published"
    out_dir.mkdir()
    out_dir.chmod(0o555)
    proc = cli_process(["trail", "export", "-o", str(out_dir / "trail.jsonl"), "--workspace", str(ws.root)],
                       honour_permissions=True)
    # The workspace itself is writable, so the trail opens; only the output fails.
    assert proc.returncode == 2, proc.stderr
    one_clean_line(proc.stderr, "cannot write", "Permission denied")
    assert list(out_dir.iterdir()) == []


@pytest.mark.parametrize("args, code, needle", [
    (["--limit", "1e20"], 2, "Invalid value for '--limit'"),
    (["--limit", "0"], 2, "Invalid value for '--limit'"),
    (["--limit", "-3"], 2, "Invalid value for '--limit'"),
    (["--limit", str(10**20)], 0, None),
    (["--limit", str(2**63)], 0, None),
    (["--since", "0001-01-01T00:00:00+01:00"], 2, "out of range"),
    (["--since", "9999-12-31T23:59:59-01:00"], 2, "out of range"),
    (["--since", "2025-13-45"], 2, "expected an ISO 8601 date"),
    (["--run", "\x00"], 0, None),
])
def test_show_options_out_of_range(ws, rai, args, code, needle):
    got, out, err = run(rai, "trail", "show", "--json", *args, "--workspace", str(ws.root))
    assert got == code, err
    if code == 0:
        assert len(json.loads(out)) in (0, 10)
    else:
        assert needle in err


def test_show_after_the_end_and_a_damaged_row_are_clean(ws, rai):
    with sqlite3.connect(ws.trail_db) as db:
        for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall():
            db.execute(f"DROP TRIGGER {name}")
        db.execute("UPDATE events SET body = 'garbage' WHERE seq = 4")
    code, out, err = run(rai, "trail", "export", "--workspace", str(ws.root))
    assert code == 1 and len(out.splitlines()) == 3
    one_clean_line(err, "entry 4: the recorded event cannot be read")
    with pytest.raises(TrailIntegrityError, match="entry 4"):
        with open_trail(ws, create=False) as t:
            t.events()
