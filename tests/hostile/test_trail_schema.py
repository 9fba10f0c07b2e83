"""Forged SQLite structure: indexes, views, triggers and tables the trail's readers must not trust.

The attack this corpus starts from: replace the trail's indexes with partial ones that leave out
one entry (a recorded rejection), then restore their original text in ``sqlite_master`` with
``PRAGMA writable_schema``. Every read that goes through such an index no longer sees the
rejection, while the hash chain, read in seq order, is intact. rai's readers scan the table, so
they still see it; ``rai trail verify`` checks the database itself and locates the hidden entry.
"""

from __future__ import annotations

import sqlite3

import pytest
from trail.hostile import build_history, raw, restore_triggers, verify_json

from governance.trail import approvals_for, open_trail, verify_trail
from governance.trail.schema_sqlite import INDEXES

from .rai_case import one_clean_line, run, trail_case


@pytest.fixture(autouse=True)
def _deadline(monkeypatch):
    with trail_case(monkeypatch):
        yield


@pytest.fixture
def ws(tmp_path):
    from governance.workspace import Workspace

    return Workspace(tmp_path / "ws")


def _legacy_text(statement: str) -> str:
    return statement.replace("IF NOT EXISTS ", "")


def forge_hiding_indexes(ws, hidden_seq: int) -> None:
    """The attack: rai's indexes rebuilt without entry ``hidden_seq``, their stored text restored."""
    with raw(ws) as db:
        for statement in INDEXES:
            name = statement.split()[5]
            db.execute(f"DROP INDEX IF EXISTS {name}")
            db.execute(f"{_legacy_text(statement)} WHERE seq != {hidden_seq}")
            db.execute("PRAGMA writable_schema = ON")
            db.execute("UPDATE sqlite_master SET sql = ? WHERE name = ?", (_legacy_text(statement), name))
            db.execute("PRAGMA writable_schema = OFF")
    restore_triggers(ws)


def test_a_rejection_hidden_by_a_forged_partial_index_is_found_and_still_read(ws, rai):
    h = build_history(ws)
    forge_hiding_indexes(ws, h["reject_seq"])
    # The forgery works at the SQL level: a read through the index misses the rejection ...
    db = sqlite3.connect(ws.trail_db)
    through_index = db.execute("SELECT seq FROM events INDEXED BY events_by_run_kind "
                               "WHERE run_id = 'r1' AND kind = 'approval.recorded'").fetchall()
    db.close()
    assert through_index == [(9,)]
    # ... but not for rai: the approvals a deploy gate reads still hold the rejection,
    with open_trail(ws, create=False) as t:
        decisions = [(a["role"], a["decision"]) for a in approvals_for(t, "r1")]
        filtered = [e.seq for e in t.events(run_id="r1", kind="approval.recorded")]
    assert decisions == [("risk-officer", "reject"), ("model-owner", "approve")]
    assert filtered == [h["reject_seq"], 9]
    code, out, _ = run(rai, "trail", "show", "--run", "r1", "--kind", "approval.recorded", "--workspace", str(ws.root))
    assert code == 0 and "reject" in out
    # ... and verification says the database was forged, at the hidden entry.
    code, report = verify_json(lambda *a: run(rai, *a), ws)
    assert code == 1 and report["ok"] is False
    first = report["first_problem"]
    assert (first["kind"], first["seq"]) == ("schema", h["reject_seq"])
    assert "does not list entry 2" in first["message"]
    code, out, _ = run(rai, "trail", "verify", "--workspace", str(ws.root))
    assert code == 1 and out.startswith("TAMPERED: entry 2: schema: index '")


def test_a_trail_without_its_listing_indexes_verifies(ws, rai):
    build_history(ws)
    with sqlite3.connect(ws.trail_db) as db:
        for statement in INDEXES:
            db.execute(f"DROP INDEX {statement.split()[5]}")
    assert verify_trail(ws).ok  # nothing reads through them but listings: their absence hides nothing
    with open_trail(ws) as t:  # a writer puts them back
        t.append("run.finished", run_id="r1", payload={"decision": "passed"})
    code, report = verify_json(lambda *a: run(rai, *a), ws)
    assert code == 0 and report["ok"] and report["size"] == 11


def _visible_partial_index(db):
    db.execute("DROP INDEX events_by_run_kind")
    db.execute("CREATE INDEX events_by_run_kind ON events (run_id, kind, seq) WHERE seq != 2")


def _new_index(db):
    db.execute("CREATE INDEX events_by_actor ON events (actor)")


def _view(db):
    db.execute("CREATE VIEW approvals AS SELECT * FROM events WHERE kind = 'approval.recorded' AND seq != 2")


def _table(db):
    db.execute("CREATE TABLE shadow (seq INTEGER PRIMARY KEY, body TEXT)")


def _statistics(db):
    db.execute("CREATE INDEX events_by_time ON events (time)")
    db.execute("ANALYZE")
    db.execute("DROP INDEX events_by_time")


def _extra_trigger(db):
    db.execute("CREATE TABLE copies (body TEXT)")
    db.execute("CREATE TRIGGER events_copy AFTER INSERT ON events BEGIN INSERT INTO copies VALUES (NEW.body); END")


def _trigger_that_allows_deletes(db):
    db.execute("CREATE TRIGGER events_no_delete BEFORE DELETE ON events BEGIN SELECT 1; END")


def _table_text_edited(db):
    (sql,) = db.execute("SELECT sql FROM sqlite_master WHERE name = 'events'").fetchone()
    db.execute("PRAGMA writable_schema = ON")
    db.execute("UPDATE sqlite_master SET sql = ? WHERE name = 'events'", (sql.replace("body TEXT NOT NULL", "body TEXT"),))
    db.execute("PRAGMA writable_schema = OFF")


def _events_replaced_by_a_view(db):
    db.execute("ALTER TABLE events RENAME TO events_kept")
    db.execute("CREATE VIEW events AS SELECT * FROM events_kept WHERE seq != 2")


FORGERIES = [
    (_visible_partial_index, "index 'events_by_run_kind' is not as rai creates it"),
    (_new_index, "index 'events_by_actor' on table 'events' is not part of a rai trail"),
    (_view, "view 'approvals' on table 'approvals' is not part of a rai trail"),
    (_table, "table 'shadow' on table 'shadow' is not part of a rai trail"),
    (_statistics, "table 'sqlite_stat1'"),
    (_extra_trigger, "trigger 'events_copy' on table 'events' is not part of a rai trail"),
    (_trigger_that_allows_deletes, "trigger 'events_no_delete' is not as rai creates it"),
    (_table_text_edited, "table 'events' is not as rai creates it"),
    (_events_replaced_by_a_view, "view 'events' is not as rai creates it"),
]


@pytest.mark.parametrize("forge, message", FORGERIES, ids=[f[0].__name__.strip("_") for f in FORGERIES])
def test_structure_rai_does_not_create_is_tampering(ws, rai, forge, message):
    build_history(ws)
    with raw(ws) as db:
        forge(db)
    code, report = verify_json(lambda *a: run(rai, *a), ws)
    assert code == 1 and any(p["kind"] == "schema" and message in p["message"] for p in report["problems"]), report
    # Readers and writers refuse the altered database with one line (exit 1), and record nothing.
    with sqlite3.connect(ws.trail_db) as db:
        before = db.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
    for args in (["trail", "show"], ["approve", "r1", "--role", "owner", "--decision", "approve"]):
        code, out, err = run(rai, *args, "--workspace", str(ws.root))
        assert code == 1 and out == ""
        one_clean_line(err, "the database was altered outside rai", "rai trail verify")
    with sqlite3.connect(ws.trail_db) as db:
        assert db.execute("SELECT COUNT(*) FROM sqlite_master").fetchone() == before


def test_an_index_pointed_at_another_index_is_found(ws, rai):
    build_history(ws)
    with raw(ws) as db:  # events_by_kind now reads events_by_run's pages: its text is still rai's
        (other,) = db.execute("SELECT rootpage FROM sqlite_master WHERE name = 'events_by_run'").fetchone()
        db.execute("PRAGMA writable_schema = ON")
        db.execute("UPDATE sqlite_master SET rootpage = ? WHERE name = 'events_by_kind'", (other,))
        db.execute("PRAGMA writable_schema = OFF")
    code, report = verify_json(lambda *a: run(rai, *a), ws)
    assert code == 1 and report["first_problem"]["kind"] in ("schema", "unreadable"), report["problems"]
    assert any("events_by_kind" in p["message"] or "integrity check" in p["message"] for p in report["problems"])


def test_a_schema_sqlite_cannot_parse_is_a_damaged_trail(ws, rai):
    build_history(ws)
    with raw(ws) as db:
        db.execute("PRAGMA writable_schema = ON")
        db.execute("INSERT INTO sqlite_master VALUES ('index', 'evil', 'events', 0, 'CREATE INDEX evil ON events(')")
        db.execute("PRAGMA writable_schema = OFF")
    code, out, _ = run(rai, "trail", "verify", "--workspace", str(ws.root))
    assert code == 1 and out.startswith("TAMPERED: entry 1: unreadable:") and "malformed database schema" in out
    code, _, err = run(rai, "trail", "show", "--workspace", str(ws.root))
    assert code == 1
    one_clean_line(err, "cannot open trail")
