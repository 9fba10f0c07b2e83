"""What rai creates in a SQLite trail, and how a database file differs from it.

rai creates three tables (``events``, ``checkpoints``, ``meta``), three indexes on ``events``
(for listings; no read that decides and no verification uses them, see
:mod:`governance.trail.store`) and four append-only triggers, and nothing else. Anything else in
``sqlite_master`` (an index, view, trigger or table rai does not create, or a changed definition)
was put there outside rai and is reported as tampering; an index whose text is right but whose
content disagrees with the table is found by ``PRAGMA integrity_check``. A missing trigger or
index is only a warning or nothing: triggers stop accidents, not an administrator, and the next
writer re-creates them.
"""

from __future__ import annotations

import re
import sqlite3
from functools import cache

from governance.trail.store import SCHEMA_VERSION

TRIGGERS = {
    f"{table}_no_{op.lower()}": (
        f"CREATE TRIGGER IF NOT EXISTS {table}_no_{op.lower()} BEFORE {op} ON {table} "
        f"BEGIN SELECT RAISE(ABORT, 'rai audit trail is append-only: {op} on {table} refused'); END"
    )
    for table in ("events", "checkpoints")
    for op in ("UPDATE", "DELETE")
}

TABLES = [
    "CREATE TABLE IF NOT EXISTS events (seq INTEGER PRIMARY KEY, time TEXT NOT NULL, run_id TEXT, "
    "actor TEXT NOT NULL, kind TEXT NOT NULL, body TEXT NOT NULL, prev_hash TEXT NOT NULL, "
    "entry_hash TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS checkpoints (id INTEGER PRIMARY KEY, tree_size INTEGER NOT NULL, "
    "doc TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
]

INDEXES = [
    "CREATE INDEX IF NOT EXISTS events_by_run ON events (run_id, seq)",
    "CREATE INDEX IF NOT EXISTS events_by_kind ON events (kind, seq)",
    # run + kind together (a run's gates): without it SQLite scans a whole kind
    "CREATE INDEX IF NOT EXISTS events_by_run_kind ON events (run_id, kind, seq)",
]

SCHEMA = [*TABLES, *INDEXES, f"INSERT OR IGNORE INTO meta VALUES ('schema_version', '{SCHEMA_VERSION}')",
          *TRIGGERS.values()]

_MISSING_ROW = re.compile(r"row (\d+) missing from index (\S+)")
_INDEX_LINE = re.compile(r"index (\S+)")

Object = tuple[str, str, str, str | None]  # type, name, table, SQL text as SQLite stores it


@cache
def _reference() -> tuple[dict[str, Object], dict[str, Object]]:
    """(objects every trail has, objects a trail may have), as this SQLite library stores them."""
    conn = sqlite3.connect(":memory:")
    try:
        for statement in TABLES:
            conn.execute(statement)
        required = _objects(conn)
        for statement in [*TRIGGERS.values(), *INDEXES]:
            conn.execute(statement)
        optional = {k: v for k, v in _objects(conn).items() if k not in required}
    finally:
        conn.close()
    return required, optional


def _objects(conn: sqlite3.Connection) -> dict[str, Object]:
    rows = conn.execute("SELECT type, name, tbl_name, sql FROM sqlite_master").fetchall()
    return {name: (kind, name, table, sql) for kind, name, table, sql in rows}


def schema_problems(conn: sqlite3.Connection, deep: bool) -> list[tuple[str, int | None, str]]:
    """``(problem kind, seq or None, message)`` for every way the file differs from rai's schema.

    ``deep`` adds ``PRAGMA integrity_check``: an index that does not list every row (the forged
    index that hides an entry from indexed reads, whatever its stored text says) is located at
    the entry it hides; damaged pages are reported as ``unreadable``.
    """
    required, optional = _reference()
    actual = _objects(conn)
    problems: list[tuple[str, int | None, str]] = []
    for name, (kind, _, table, sql) in sorted(actual.items()):
        expected = required.get(name) or optional.get(name)
        if expected is None:
            problems.append(("schema", None, f"{kind} '{name}' on table '{table}' is not part of a rai trail "
                                             f"(added outside rai): {_clip(sql)}"))
        elif expected != (kind, name, table, sql):
            problems.append(("schema", None, f"{kind} '{name}' is not as rai creates it: {_clip(sql)}"))
    for name in sorted(set(required) - set(actual)):
        problems.append(("schema", None, f"{required[name][0]} '{name}' is missing"))
    if deep:
        problems += _integrity(conn, {n: o[2] for n, o in actual.items()})
    return problems


def missing_triggers(conn: sqlite3.Connection) -> list[str]:
    have = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")}
    return sorted(set(TRIGGERS) - have)


def _integrity(conn: sqlite3.Connection, table_of: dict[str, str]) -> list[tuple[str, int | None, str]]:
    out: list[tuple[str, int | None, str]] = []
    for (line,) in conn.execute("PRAGMA integrity_check"):
        if line == "ok":
            continue
        missing = _MISSING_ROW.search(line)
        if missing and table_of.get(missing.group(2)) == "events":
            seq = int(missing.group(1))
            out.append(("schema", seq, f"index '{missing.group(2)}' does not list entry {seq}: a read through "
                                       "it would not see the entry (the index was forged or damaged)"))
        elif _INDEX_LINE.search(line):
            out.append(("schema", None, f"an index disagrees with its table: {_clip(line)}"))
        else:
            out.append(("unreadable", None, f"SQLite integrity check: {_clip(line)}"))
    return out


def _clip(text: str | None, size: int = 200) -> str:
    text = "(no SQL)" if text is None else " ".join(text.split())
    return text if len(text) <= size else text[: size - 1] + "…"
