"""The team store: PostgreSQL, selected by a ``postgresql://`` URL.

Appends are serialised by a transaction-scoped advisory lock: each append takes the lock, reads
the head, inserts the next row and commits (``synchronous_commit = on``, so the commit is on
disk when ``append`` returns), so seq and chain stay contiguous however many processes and
machines write. Triggers refuse UPDATE, DELETE and TRUNCATE. Table names carry a ``rai_trail_``
prefix so the trail can share a database; use one database (or schema, via ``options=-csearch_path=``)
per trail.

Reads that must not trust an index (see :mod:`governance.trail.store`) switch index scans off
for their transaction; the append's head lookup uses the primary key, and a forged one there
makes a duplicate seq that verification reports. Opening checks the catalog (see :mod:`governance.trail.schema_postgres`):
rules, row-level security, foreign triggers or indexes on rai's tables are refused, and reported
by verification. A lost connection, missing privileges or a full disk are
:class:`TrailUnavailable` (exit 3), not tampering.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import psycopg

from governance.trail import schema_postgres
from governance.trail.chain import GENESIS_HASH, Row
from governance.trail.errors import TrailBusy, TrailIntegrityError, TrailMissing, TrailUnavailable
from governance.trail.store import Store

# Advisory lock keys: fixed 64-bit numbers derived from names, so every rai process agrees.
APPEND_LOCK = int.from_bytes(hashlib.sha256(b"rai.trail.append").digest()[:8], "big", signed=True)
SCHEMA_LOCK = int.from_bytes(hashlib.sha256(b"rai.trail.schema").digest()[:8], "big", signed=True)

_TABLES = schema_postgres.TABLES
_SCHEMA = [
    "CREATE TABLE IF NOT EXISTS rai_trail_events (seq BIGINT PRIMARY KEY, time TEXT NOT NULL, "
    "run_id TEXT, actor TEXT NOT NULL, kind TEXT NOT NULL, body TEXT NOT NULL, "
    "prev_hash TEXT NOT NULL, entry_hash TEXT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS rai_trail_events_by_run ON rai_trail_events (run_id, seq)",
    "CREATE INDEX IF NOT EXISTS rai_trail_events_by_kind ON rai_trail_events (kind, seq)",
    "CREATE INDEX IF NOT EXISTS rai_trail_events_by_run_kind ON rai_trail_events (run_id, kind, seq)",
    "CREATE TABLE IF NOT EXISTS rai_trail_checkpoints (id BIGSERIAL PRIMARY KEY, "
    "tree_size BIGINT NOT NULL, doc TEXT NOT NULL)",
    "CREATE OR REPLACE FUNCTION rai_trail_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$ "
    "BEGIN RAISE EXCEPTION 'rai audit trail is append-only: % on % refused', TG_OP, TG_TABLE_NAME; END $$",
    *[f"CREATE OR REPLACE TRIGGER {t}_append_only BEFORE UPDATE OR DELETE ON {t} "
      "FOR EACH ROW EXECUTE FUNCTION rai_trail_refuse_change()" for t in _TABLES],
    *[f"CREATE OR REPLACE TRIGGER {t}_no_truncate BEFORE TRUNCATE ON {t} "
      "FOR EACH STATEMENT EXECUTE FUNCTION rai_trail_refuse_change()" for t in _TABLES],
]
_TRIGGERS = schema_postgres.TRIGGERS
# Reads scan the tables: an index is not evidence (see governance.trail.store).
_NO_INDEX_SCANS = ("enable_indexscan", "enable_bitmapscan", "enable_indexonlyscan")


def redact(url: str) -> str:
    """The URL without its password, for messages."""
    url = re.sub(r"(://[^:/@]*):[^@/]*@", r"\1@", url)
    return re.sub(r"(password=)[^&\s]*", r"\1***", url)


class PostgresStore(Store):
    """Trail rows in PostgreSQL tables ``rai_trail_events`` and ``rai_trail_checkpoints``.

    Parameters
    ----------
    url : libpq connection URL, e.g. ``postgresql://rai@db.example/audit``
    create : create the tables (and triggers) if missing
    lock_timeout : seconds an append waits for other writers before giving up
    """

    events = scan = "rai_trail_events"
    checkpoints_table, ph = "rai_trail_checkpoints", "%s"

    def __init__(self, url: str, create: bool = True, lock_timeout: float = 60.0, check_schema: bool = True):
        self.location = redact(url)
        try:
            self._conn = psycopg.connect(url, autocommit=True, connect_timeout=10)
            self._conn.execute("SET synchronous_commit = on")  # a returned append is on disk
            self._conn.execute(f"SET lock_timeout = {int(lock_timeout * 1000)}")
            missing = self._missing_tables()
            if missing and not create and "rai_trail_events" in missing:
                raise TrailMissing(f"no audit trail in {self.location} (table rai_trail_events does not exist)")
            if missing and create:  # a new database (tables that exist are left as they are)
                self._create_schema()
            # Check what is there before restoring triggers on it (not on a forged view, say).
            problems = self.schema_problems() if check_schema else []
            if create and not problems and _TRIGGERS - self._triggers():
                self._create_schema()
        except psycopg.Error as err:
            raise TrailUnavailable(f"{self.location}: cannot use PostgreSQL: {_first_line(err)}") from None
        if problems:
            self._conn.close()
            raise TrailIntegrityError(f"{self.location}: the database was altered outside rai: {problems[0][2]}; "
                                      "run `rai trail verify`")

    def _missing_tables(self) -> set[str]:
        """rai's tables that the session's search path does not resolve to anything."""
        return {t for t in _TABLES if self._conn.execute("SELECT to_regclass(%s)", [t]).fetchone()[0] is None}

    def _triggers(self) -> set[str]:
        return {r[0] for r in self._conn.execute(
            "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal AND tgenabled <> 'D' "
            "AND tgrelid IN (SELECT to_regclass(t) FROM unnest(%s::text[]) AS t)", [list(_TABLES)])}

    def _create_schema(self) -> None:
        with self._conn.transaction():
            # DDL from several processes at once can collide in the catalogs; take turns.
            self._conn.execute("SELECT pg_advisory_xact_lock(%s)", [SCHEMA_LOCK])
            for statement in _SCHEMA:
                self._conn.execute(statement)

    def append(self, build: Callable[[int, str], Row]) -> Row:
        """Run ``build(seq, prev_hash)`` under the append lock and insert its row durably."""
        try:
            with self._conn.transaction():
                self._conn.execute("SELECT pg_advisory_xact_lock(%s)", [APPEND_LOCK])
                # READ COMMITTED: this statement sees every append committed before we got the lock.
                last = self._conn.execute(
                    "SELECT seq, entry_hash FROM rai_trail_events ORDER BY seq DESC LIMIT 1").fetchone()
                seq, prev = (last[0] + 1, last[1]) if last else (1, GENESIS_HASH)
                row = build(seq, prev)
                self._conn.execute("INSERT INTO rai_trail_events VALUES (%s, %s, %s, %s, %s, %s, %s, %s)", row)
        except psycopg.Error as err:
            raise self._write_error(err, "append") from None
        return row

    def add_checkpoint(self, tree_size: int, doc: str) -> None:
        try:
            self._conn.execute("INSERT INTO rai_trail_checkpoints (tree_size, doc) VALUES (%s, %s)",
                               [tree_size, doc])
        except psycopg.Error as err:
            raise self._write_error(err, "storing the checkpoint") from None

    def _write_error(self, err: psycopg.Error, what: str) -> Exception:
        kind = error_kind(err)
        if kind == "busy":
            return TrailBusy(f"{self.location}: trail stayed locked by another writer ({_first_line(err)})")
        if kind == "environment":
            return TrailUnavailable(f"{self.location}: {what} failed, nothing recorded: {_first_line(err)}")
        return TrailIntegrityError(f"{self.location}: {what} failed, nothing recorded: {_first_line(err)}")

    def warnings(self) -> list[str]:
        try:
            return schema_postgres.catalog_problems(self._conn)[1]
        except psycopg.Error:
            return []

    def _schema_problems(self, deep: bool) -> list[tuple[str, int | None, str]]:
        found = [("schema", None, message) for message in schema_postgres.catalog_problems(self._conn)[0]]
        if deep:
            found += schema_postgres.index_problems(
                self._conn, lambda err: isinstance(err, (psycopg.errors.DataCorrupted, psycopg.errors.IndexCorrupted)))
        return found

    def close(self) -> None:
        self._conn.close()

    def _query(self, sql: str, params: Iterable[Any] = (), scan: bool = False) -> list[tuple]:
        if not scan:
            return self._conn.execute(sql, list(params)).fetchall()
        with self._conn.transaction():
            self._no_index_scans()
            return self._conn.execute(sql, list(params)).fetchall()

    def _stream(self, sql: str, params: Iterable[Any] = (), scan: bool = False) -> Iterator[tuple]:
        # A server-side cursor streams a million rows without holding them all in memory.
        with self._conn.transaction():
            if scan:
                self._no_index_scans()
            with self._conn.cursor(name=f"rai_trail_{uuid.uuid4().hex}") as cur:
                cur.itersize = 5000
                cur.execute(sql, list(params))
                yield from cur

    def _no_index_scans(self) -> None:
        for setting in _NO_INDEX_SCANS:  # for this transaction only
            self._conn.execute(f"SET LOCAL {setting} = off")

    def _contains(self, column: str, ph: str) -> str:
        return f"strpos({column}, {ph}) > 0"

    def _error_kind(self, err: Exception) -> str | None:
        return error_kind(err)


def error_kind(err: BaseException) -> str | None:
    """``"busy"``, ``"environment"`` or ``"damaged"`` for a psycopg error, else ``None``."""
    if isinstance(err, psycopg.errors.LockNotAvailable):
        return "busy"
    if isinstance(err, (psycopg.OperationalError, psycopg.errors.InsufficientPrivilege,
                        psycopg.errors.ReadOnlySqlTransaction, psycopg.InterfaceError)):
        return "environment"
    return "damaged" if isinstance(err, psycopg.Error) else None


def _first_line(err: Exception) -> str:
    return (str(err).strip().splitlines() or [type(err).__name__])[0]
