"""What every trail store offers; the SQL both backends share.

A store keeps rows (:class:`~governance.trail.chain.Row`) and checkpoint records, and does one
thing the chain relies on: :meth:`Store.append` runs the caller's ``build(seq, prev_hash)``
while holding the store's write lock, so that seq and prev_hash always come from the true head.

Reads with ``scan=True`` read the table itself in seq order, never an index (``events NOT
INDEXED`` in SQLite; index scans switched off for the statement in PostgreSQL): an index is a
second copy of the data that the hash chain does not cover, and a forged one (a partial index
whose stored definition was restored) could hide an entry from a reader while the chain verifies
intact. Verification, proofs and every read through :class:`~governance.trail.trail.Trail` scan,
but one: :meth:`~governance.trail.trail.Trail.listing`, for lists shown beside a verification
(the dashboard's pages), lets the database use its indexes (``rows()``/``count()`` without
``scan``). Seq numbers start at 1; rows outside (seq <= 0) are never read as events
(verification reports them).

A failing read raises :class:`UnreadableTrail` (a damaged database, exit 1) naming the last good
seq, or :class:`~governance.trail.errors.TrailUnavailable` (exit 3) when the machine keeps rai
from reading (permissions, I/O error, lost connection): unreadable is not tampered.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from governance.trail.chain import Row
from governance.trail.errors import TrailBusy, TrailIntegrityError, TrailUnavailable

COLUMNS = "seq, time, run_id, actor, kind, body, prev_hash, entry_hash"
SCHEMA_VERSION = "1"
MAX_SEQ = 2**63 - 1  # both databases store seq as a signed 64-bit integer


class UnreadableTrail(TrailIntegrityError):
    """The database failed while reading; ``after_seq`` is the last row read intact."""

    def __init__(self, where: str, after_seq: int, detail: str):
        self.after_seq = after_seq
        super().__init__(f"{where}: unreadable after seq {after_seq}: {detail}")


class Store:
    """Base of the SQLite and PostgreSQL stores: filtered reads built once for both."""

    events = "events"
    scan = "events"  # how reads name the events table (SQLite: "events NOT INDEXED")
    checkpoints_table = "checkpoints"
    ph = "?"  # parameter placeholder of the driver
    location = "trail"

    # -- what a backend provides ------------------------------------------------------------
    def append(self, build: Callable[[int, str], Row]) -> Row:
        raise NotImplementedError

    def add_checkpoint(self, tree_size: int, doc: str) -> None:
        raise NotImplementedError

    def warnings(self) -> list[str]:
        return []

    def schema_problems(self, deep: bool = False) -> list[tuple[str, int | None, str]]:
        """How the database's structure differs from what rai creates: ``(problem kind, seq or None,
        message)``. ``deep`` also checks every index against the table (reads the whole database)."""
        return self._guarded(lambda: self._schema_problems(deep))

    def _schema_problems(self, deep: bool) -> list[tuple[str, int | None, str]]:
        return []

    def close(self) -> None:
        raise NotImplementedError

    def _query(self, sql: str, params: Iterable[Any] = (), scan: bool = False) -> list[tuple]:
        raise NotImplementedError

    def _stream(self, sql: str, params: Iterable[Any] = (), scan: bool = False) -> Iterator[tuple]:
        raise NotImplementedError

    def _error_kind(self, err: Exception) -> str | None:
        """``"busy"``, ``"environment"`` or ``"damaged"`` for a driver error; ``None`` otherwise."""
        raise NotImplementedError

    # -- shared reads -----------------------------------------------------------------------
    def rows(self, *, after_seq: int = 0, upto: int | None = None, run_id: str | None = None,
             kinds: list[str] | None = None, since: str | None = None, limit: int | None = None,
             body_needle: str | None = None, scan: bool = False) -> Iterator[Row]:
        """Rows in seq order, filtered; a read failure raises :class:`UnreadableTrail`.

        ``scan`` reads the table, never an index (see the module docstring). ``body_needle``
        widens the ``run_id`` filter to rows whose body contains that text, so that a reader can
        see rows whose run id column was changed (see ``checked`` reads).
        """
        where, params = self._where(after_seq, upto, run_id, kinds, since, body_needle)
        sql = f"SELECT {COLUMNS} FROM {self._table(scan)} WHERE {where} ORDER BY seq"
        if limit is not None and limit < MAX_SEQ:
            sql += f" LIMIT {max(0, int(limit))}"
        last = after_seq
        try:
            for raw in self._stream(sql, params, scan):
                row = Row(*raw)
                last = row.seq
                yield row
        except UnreadableTrail:
            raise
        except Exception as err:  # the driver's own error classes differ
            kind = self._error_kind(err)
            if kind is None:
                raise
            if kind != "damaged":
                raise self._failure(err, kind) from None
            raise UnreadableTrail(self.location, last, _first_line(err)) from None

    def count(self, run_id: str | None = None, kinds: list[str] | None = None, scan: bool = False) -> int:
        where, params = self._where(0, None, run_id, kinds, None, None)
        return self._read(f"SELECT COUNT(*) FROM {self._table(scan)} WHERE {where}", params, scan)[0][0]

    def runs(self, scan: bool = False) -> list[str]:
        sql = (f"SELECT run_id FROM {self._table(scan)} WHERE seq >= 1 AND run_id IS NOT NULL "
               "GROUP BY run_id ORDER BY MIN(seq)")
        return [r[0] for r in self._read(sql, (), scan)]

    def head(self) -> tuple[int, str | None]:
        """(highest seq, its entry hash), or (0, None) for an empty trail (found by seq, the key)."""
        got = self._read(f"SELECT seq, entry_hash FROM {self.events} WHERE seq >= 1 ORDER BY seq DESC LIMIT 1")
        return (got[0][0], got[0][1]) if got else (0, None)

    def shape(self) -> tuple[int, int | None, int | None]:
        """(number of rows, lowest seq, highest seq) over the whole table, seq <= 0 included."""
        (count,) = self._read(f"SELECT COUNT(*) FROM {self.scan}", (), True)[0]
        (low,) = self._read(f"SELECT MIN(seq) FROM {self.scan}", (), True)[0]
        (high,) = self._read(f"SELECT MAX(seq) FROM {self.scan}", (), True)[0]
        return count, low, high

    def first_rows(self, limit: int) -> list[Row]:
        """The first ``limit`` entries by seq, found through the primary key.

        Only for telling a trail's entry format (:mod:`governance.trail.formats`): a key that
        lies can only make the entries fail to verify, never hide one, since every reader that
        judges entries scans them.
        """
        return [Row(*r) for r in self._read(
            f"SELECT {COLUMNS} FROM {self.events} WHERE seq >= 1 ORDER BY seq LIMIT {int(limit)}")]

    def seqs_outside(self, limit: int = 100) -> list[int]:
        """Seqs of rows below 1 (never written by rai), lowest first."""
        return [r[0] for r in self._read(
            f"SELECT seq FROM {self.scan} WHERE seq <= 0 ORDER BY seq LIMIT {int(limit)}", (), True)]

    def row_at(self, seq: int) -> Row | None:
        if not 1 <= seq <= MAX_SEQ:
            return None
        got = self._read(f"SELECT {COLUMNS} FROM {self.scan} WHERE seq = {self.ph}", [seq], True)
        return Row(*got[0]) if got else None

    def seq_of_entry_hash(self, digest: str) -> int | None:
        """Where an entry hash is stored now (a scan: used only to explain a broken chain)."""
        got = self._read(f"SELECT seq FROM {self.scan} WHERE entry_hash = {self.ph} AND seq >= 1 "
                         "ORDER BY seq LIMIT 1", [digest], True)
        return got[0][0] if got else None

    def checkpoint_docs(self) -> list[str]:
        """Every stored checkpoint record (JSON text), oldest first."""
        try:
            return [r[0] for r in self._read(
                f"SELECT doc FROM {self.checkpoints_table} ORDER BY tree_size, id")]
        except TrailIntegrityError:
            return []  # a damaged checkpoint table must not hide the events; files still count

    def latest_checkpoint_docs(self, limit: int = 5) -> list[str]:
        """The newest stored checkpoint records (largest tree size first)."""
        try:
            return [r[0] for r in self._read(
                f"SELECT doc FROM {self.checkpoints_table} ORDER BY tree_size DESC, id DESC LIMIT {int(limit)}")]
        except TrailIntegrityError:
            return []

    def _read(self, sql: str, params: Iterable[Any] = (), scan: bool = False) -> list[tuple]:
        return self._guarded(lambda: self._query(sql, params, scan))

    def _table(self, scan: bool) -> str:
        return self.scan if scan else self.events

    def _guarded(self, read: Callable[[], Any]) -> Any:
        """``read()``, with the driver's errors turned into the trail's (see the module docstring)."""
        try:
            return read()
        except Exception as err:
            kind = self._error_kind(err)
            if kind is None:
                raise
            if kind != "damaged":
                raise self._failure(err, kind) from None
            raise TrailIntegrityError(f"{self.location}: unreadable: {_first_line(err)}") from None

    def _failure(self, err: Exception, kind: str) -> Exception:
        if kind == "busy":
            return TrailBusy(f"{self.location}: trail is locked by another writer ({_first_line(err)})")
        return TrailUnavailable(f"{self.location}: cannot read the trail: {_first_line(err)}")

    def _where(self, after_seq, upto, run_id, kinds, since, body_needle) -> tuple[str, list[Any]]:
        ph = self.ph
        clauses, params = [f"seq > {ph}"], [min(max(0, int(after_seq)), MAX_SEQ)]
        if upto is not None:
            clauses.append(f"seq <= {ph}")
            params.append(min(max(0, int(upto)), MAX_SEQ))
        if run_id is not None and body_needle is not None:
            clauses.append(f"(run_id = {ph} OR {self._contains('body', ph)})")
            params.extend([run_id, body_needle])
        elif run_id is not None:
            clauses.append(f"run_id = {ph}")
            params.append(run_id)
        elif body_needle is not None:
            clauses.append(self._contains("body", ph))
            params.append(body_needle)
        if kinds:
            clauses.append(f"kind IN ({', '.join([ph] * len(kinds))})")
            params.extend(kinds)
        if since is not None:
            clauses.append(f"time >= {ph}")
            params.append(since)
        return " AND ".join(clauses), params

    def _contains(self, column: str, ph: str) -> str:
        return f"instr({column}, {ph}) > 0"


def _first_line(err: Exception) -> str:
    return (str(err).strip().splitlines() or [type(err).__name__])[0]
