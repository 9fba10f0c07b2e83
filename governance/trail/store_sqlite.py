"""The default store: one SQLite file in the workspace.

Durability and order come from SQLite itself: WAL journal with ``synchronous=FULL`` (a commit
is on disk when ``append`` returns), every append in ``BEGIN IMMEDIATE`` (one writer at a time;
others wait up to the busy timeout), and triggers that refuse UPDATE and DELETE, so that the
only way to change history is to go around rai, which verification then detects.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from governance.trail.chain import GENESIS_HASH, Row
from governance.trail.errors import TrailBusy, TrailIntegrityError, TrailMissing, TrailUnavailable
from governance.trail.store import SCHEMA_VERSION, Store

_TRIGGERS = {
    f"{table}_no_{op.lower()}": (
        f"CREATE TRIGGER IF NOT EXISTS {table}_no_{op.lower()} BEFORE {op} ON {table} "
        f"BEGIN SELECT RAISE(ABORT, 'rai audit trail is append-only: {op} on {table} refused'); END"
    )
    for table in ("events", "checkpoints")
    for op in ("UPDATE", "DELETE")
}

_SCHEMA = [
    "CREATE TABLE IF NOT EXISTS events (seq INTEGER PRIMARY KEY, time TEXT NOT NULL, run_id TEXT, "
    "actor TEXT NOT NULL, kind TEXT NOT NULL, body TEXT NOT NULL, prev_hash TEXT NOT NULL, "
    "entry_hash TEXT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS events_by_run ON events (run_id, seq)",
    "CREATE INDEX IF NOT EXISTS events_by_kind ON events (kind, seq)",
    # run + kind together (approvals of a run, a run's gates): without it SQLite scans a whole kind
    "CREATE INDEX IF NOT EXISTS events_by_run_kind ON events (run_id, kind, seq)",
    "CREATE TABLE IF NOT EXISTS checkpoints (id INTEGER PRIMARY KEY, tree_size INTEGER NOT NULL, "
    "doc TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    f"INSERT OR IGNORE INTO meta VALUES ('schema_version', '{SCHEMA_VERSION}')",
    *_TRIGGERS.values(),
]


class SQLiteStore(Store):
    """Trail rows in a SQLite file.

    Parameters
    ----------
    path : the database file (``.rai/trail.db``)
    create : create the file and schema if missing; readers pass ``False`` so that a mistyped
        workspace is reported instead of silently created
    busy_timeout : seconds an append waits for another writer before giving up
    """

    def __init__(self, path: Path, create: bool = True, busy_timeout: float = 60.0):
        self.path = Path(path)
        self.location = str(self.path)
        if not create and not self.path.is_file():
            raise TrailMissing(f"no audit trail at {self.path} (nothing recorded in this workspace yet?)")
        if create:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        deadline = time.monotonic() + busy_timeout
        while True:
            try:
                self._open(create, busy_timeout)
                return
            except sqlite3.OperationalError as err:
                if "locked" not in str(err):
                    raise TrailIntegrityError(f"{self.path}: cannot open trail: {err}") from None
                # Switching a new file to WAL takes an exclusive lock for which SQLite does not
                # always call its busy handler: when writers start together, wait our own way.
                if time.monotonic() >= deadline:
                    raise TrailBusy(f"{self.path}: trail is locked by another writer ({err})") from None
                time.sleep(0.02)
            except sqlite3.DatabaseError as err:
                raise TrailIntegrityError(f"{self.path}: cannot open trail: {err}") from None

    def _open(self, create: bool, busy_timeout: float) -> None:
        self._conn = sqlite3.connect(self.path, timeout=busy_timeout, isolation_level=None)
        try:
            if create and self._conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                self._conn.execute("PRAGMA journal_mode=WAL")
            # FULL: the WAL is fsynced at every commit, so a returned append survives power loss.
            self._conn.execute("PRAGMA synchronous=FULL")
            if create:
                self._create_schema()
        except sqlite3.Error:
            self._conn.close()
            raise

    def _create_schema(self) -> None:
        have = {r[0] for r in self._conn.execute("SELECT name FROM sqlite_master")}
        if {"events", "checkpoints", "meta", "events_by_run_kind", *_TRIGGERS} <= have:
            return  # nothing to do; skip taking the write lock
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            for statement in _SCHEMA:
                self._conn.execute(statement)
            self._conn.execute("COMMIT")
        except BaseException:
            self._conn.execute("ROLLBACK")
            raise

    def append(self, build: Callable[[int, str], Row]) -> Row:
        """Run ``build(seq, prev_hash)`` under the write lock and insert its row durably."""
        conn = self._conn
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as err:
            raise TrailBusy(f"{self.path}: trail stayed locked by another writer ({err})") from None
        try:
            last = conn.execute("SELECT seq, entry_hash FROM events ORDER BY seq DESC LIMIT 1").fetchone()
            seq, prev = (last[0] + 1, last[1]) if last else (1, GENESIS_HASH)
            row = build(seq, prev)
            conn.execute("INSERT INTO events VALUES (?, ?, ?, ?, ?, ?, ?, ?)", row)
            conn.execute("COMMIT")
        except BaseException as err:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            if isinstance(err, sqlite3.OperationalError):  # disk full, read-only file, I/O error
                raise TrailUnavailable(f"{self.path}: append failed, nothing recorded: {err}") from None
            if isinstance(err, sqlite3.DatabaseError):
                raise TrailIntegrityError(f"{self.path}: append failed, nothing recorded: {err}") from None
            raise
        return row

    def add_checkpoint(self, tree_size: int, doc: str) -> None:
        conn = self._conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.execute("INSERT INTO checkpoints (tree_size, doc) VALUES (?, ?)", (tree_size, doc))
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise

    def warnings(self) -> list[str]:
        try:
            have = {r[0] for r in self._conn.execute("SELECT name FROM sqlite_master WHERE type='trigger'")}
        except sqlite3.DatabaseError:
            return []
        missing = sorted(set(_TRIGGERS) - have)
        return [f"append-only trigger(s) {', '.join(missing)} missing: the database was altered "
                "outside rai (a writer restores them when it next opens the trail)"] if missing else []

    def integrity_check(self) -> str:
        """SQLite's own page-level check (``ok`` when the file is sound)."""
        return self._conn.execute("PRAGMA integrity_check").fetchone()[0]

    def close(self) -> None:
        self._conn.close()

    def _query(self, sql: str, params: Iterable[Any] = ()) -> list[tuple]:
        return self._conn.execute(sql, list(params)).fetchall()

    def _stream(self, sql: str, params: Iterable[Any] = ()) -> Iterator[tuple]:
        cursor = self._conn.execute(sql, list(params))
        cursor.arraysize = 1000
        while batch := cursor.fetchmany():
            yield from batch

    def _is_db_error(self, err: Exception) -> bool:
        return isinstance(err, sqlite3.DatabaseError)
