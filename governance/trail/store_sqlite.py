"""The default store: one SQLite file in the workspace.

Durability and order come from SQLite itself: WAL journal with ``synchronous=FULL`` (a commit
is on disk when ``append`` returns), every append in ``BEGIN IMMEDIATE`` (one writer at a time;
others wait up to the busy timeout), and triggers that refuse UPDATE and DELETE, so that the
only way to change history is to go around rai, which verification then detects.

Opening checks the schema (see :mod:`governance.trail.schema_sqlite`): a database altered
outside rai is refused with :class:`TrailIntegrityError`, except by verification, which reports
it. SQLite's errors are sorted by what they say: a damaged file is an integrity problem (exit 1),
a file the machine will not let rai read or write (permissions, read-only or full disk, I/O) is
:class:`TrailUnavailable` (exit 3), a lock held too long is :class:`TrailBusy` (exit 2).
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from governance.trail import schema_sqlite
from governance.trail.chain import GENESIS_HASH, Row
from governance.trail.errors import (
    TrailBusy,
    TrailIntegrityError,
    TrailMissing,
    TrailUnavailable,
    unavailable,
)
from governance.trail.store import Store

# SQLite primary result codes (err.sqlite_errorcode & 0xff) by what they mean for the trail.
_BUSY = {5, 6}  # BUSY, LOCKED
_ENVIRONMENT = {3, 7, 8, 10, 13, 14, 22, 23}  # PERM, NOMEM, READONLY, IOERR, FULL, CANTOPEN, NOLFS, AUTH


def error_kind(err: BaseException) -> str | None:
    """``"busy"``, ``"environment"`` or ``"damaged"`` for a SQLite error, else ``None``."""
    if not isinstance(err, sqlite3.Error):
        return None
    code = (getattr(err, "sqlite_errorcode", None) or 0) & 0xFF
    if code in _BUSY or "locked" in str(err):
        return "busy"
    if code in _ENVIRONMENT:
        return "environment"
    return "damaged"


def _text(raw: bytes) -> str | bytes:
    # A TEXT value that is not UTF-8 is kept as bytes, for verification to locate, instead of
    # failing the whole read.
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw


class SQLiteStore(Store):
    """Trail rows in a SQLite file.

    Parameters
    ----------
    path : the database file (``.rai/trail.db``)
    create : create the file and schema if missing; readers pass ``False`` so that a mistyped
        workspace is reported instead of silently created
    busy_timeout : seconds an append waits for another writer before giving up
    check_schema : refuse a database whose schema was altered outside rai (verification passes
        ``False`` and reports it instead)
    """

    scan = "events NOT INDEXED"

    def __init__(self, path: Path, create: bool = True, busy_timeout: float = 60.0, check_schema: bool = True):
        self.path = Path(path)
        self.location = str(self.path)
        self._precheck(create)
        deadline = time.monotonic() + busy_timeout
        while True:
            try:
                self._open(create, busy_timeout)
                break
            except sqlite3.Error as err:
                kind = error_kind(err)
                # Switching a new file to WAL takes an exclusive lock for which SQLite does not
                # always call its busy handler: when writers start together, wait our own way.
                if kind == "busy" and time.monotonic() < deadline:
                    time.sleep(0.02)
                    continue
                raise self._open_error(err, kind) from None
        if check_schema:
            self._refuse_altered_schema()

    def _precheck(self, create: bool) -> None:
        """Tell "not there" (exit 2) and "not readable here" (exit 3) apart before SQLite does."""
        try:
            if self.path.exists() and not self.path.is_file():  # a directory, FIFO or device
                raise TrailUnavailable(f"{self.path}: cannot open trail: not a regular file")
            if not create and not self.path.is_file():
                raise TrailMissing(f"no audit trail at {self.path} (nothing recorded in this workspace yet?)")
            if create:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            if self.path.is_file():
                with open(self.path, "rb") as f:
                    f.read(100)
        except OSError as err:
            raise unavailable(err, "open trail", self.path) from None

    def _open_error(self, err: sqlite3.Error, kind: str | None) -> Exception:
        if kind == "busy":
            return TrailBusy(f"{self.path}: trail is locked by another writer ({err})")
        if kind == "environment":
            return TrailUnavailable(f"{self.path}: cannot open trail: {err} (a read-only workspace or file "
                                    "system? reading a SQLite trail needs write access to its directory)")
        return TrailIntegrityError(f"{self.path}: cannot open trail: {err}")

    def _open(self, create: bool, busy_timeout: float) -> None:
        self._conn = sqlite3.connect(self.path, timeout=busy_timeout, isolation_level=None)
        self._conn.text_factory = _text
        try:
            if create and self._conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                self._conn.execute("PRAGMA journal_mode=WAL")
            # FULL: the WAL is fsynced at every commit, so a returned append survives power loss.
            self._conn.execute("PRAGMA synchronous=FULL")
            if create:
                self._create_schema()
            else:
                self._conn.execute("SELECT 1 FROM sqlite_master LIMIT 1").fetchall()  # fail here, not later
        except sqlite3.Error:
            self._conn.close()
            raise

    def _create_schema(self) -> None:
        have = {r[0] for r in self._conn.execute("SELECT name FROM sqlite_master")}
        if {"events", "checkpoints", "meta", "events_by_run_kind", *schema_sqlite.TRIGGERS} <= have:
            return  # nothing to do; skip taking the write lock
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            for statement in schema_sqlite.SCHEMA:
                self._conn.execute(statement)
            self._conn.execute("COMMIT")
        except BaseException:
            self._conn.execute("ROLLBACK")
            raise

    def _refuse_altered_schema(self) -> None:
        try:
            problems = schema_sqlite.schema_problems(self._conn, deep=False)
        except sqlite3.Error as err:
            self._conn.close()
            raise self._open_error(err, error_kind(err)) from None
        if problems:
            self._conn.close()
            raise TrailIntegrityError(f"{self.path}: the database was altered outside rai: {problems[0][2]}; "
                                      "run `rai trail verify`")

    def append(self, build: Callable[[int, str], Row]) -> Row:
        """Run ``build(seq, prev_hash)`` under the write lock and insert its row durably."""
        conn = self._conn
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as err:
            raise self._write_error(err, "append") from None
        try:
            last = conn.execute(f"SELECT seq, entry_hash FROM {self.scan} ORDER BY seq DESC LIMIT 1").fetchone()
            seq, prev = (last[0] + 1, last[1]) if last else (1, GENESIS_HASH)
            row = build(seq, prev)
            conn.execute("INSERT INTO events VALUES (?, ?, ?, ?, ?, ?, ?, ?)", row)
            conn.execute("COMMIT")
        except BaseException as err:
            self._rollback()
            if isinstance(err, sqlite3.Error):
                raise self._write_error(err, "append") from None
            raise
        return row

    def add_checkpoint(self, tree_size: int, doc: str) -> None:
        conn = self._conn
        try:
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("INSERT INTO checkpoints (tree_size, doc) VALUES (?, ?)", (tree_size, doc))
            conn.execute("COMMIT")
        except BaseException as err:
            self._rollback()
            if isinstance(err, sqlite3.Error):
                raise self._write_error(err, "storing the checkpoint") from None
            raise

    def _rollback(self) -> None:
        try:
            if self._conn.in_transaction:
                self._conn.execute("ROLLBACK")
        except sqlite3.Error:
            pass  # SQLite rolls back by itself when it cannot; the original error is the one to report

    def _write_error(self, err: sqlite3.Error, what: str) -> Exception:
        kind = error_kind(err)
        if kind == "busy":
            return TrailBusy(f"{self.path}: trail stayed locked by another writer ({err})")
        if kind == "environment":  # disk full, read-only file, I/O error
            return TrailUnavailable(f"{self.path}: {what} failed, nothing recorded: {err}")
        return TrailIntegrityError(f"{self.path}: {what} failed, nothing recorded: {err}")

    def warnings(self) -> list[str]:
        try:
            missing = schema_sqlite.missing_triggers(self._conn)
        except sqlite3.Error:
            return []
        return [f"append-only trigger(s) {', '.join(missing)} missing: the database was altered "
                "outside rai (a writer restores them when it next opens the trail)"] if missing else []

    def _schema_problems(self, deep: bool) -> list[tuple[str, int | None, str]]:
        return schema_sqlite.schema_problems(self._conn, deep)

    def integrity_check(self) -> str:
        """SQLite's own page-level check (``ok`` when the file is sound)."""
        return self._conn.execute("PRAGMA integrity_check").fetchone()[0]

    def close(self) -> None:
        self._conn.close()

    def _query(self, sql: str, params: Iterable[Any] = (), scan: bool = False) -> list[tuple]:
        return self._conn.execute(sql, list(params)).fetchall()

    def _stream(self, sql: str, params: Iterable[Any] = (), scan: bool = False) -> Iterator[tuple]:
        cursor = self._conn.execute(sql, list(params))
        cursor.arraysize = 1000
        while batch := cursor.fetchmany():
            yield from batch

    def _error_kind(self, err: Exception) -> str | None:
        return error_kind(err)
