"""What every trail store offers; the SQL both backends share.

A store keeps rows (:class:`~governance.trail.chain.Row`) and checkpoint records, and does one
thing the chain relies on: :meth:`Store.append` runs the caller's ``build(seq, prev_hash)``
while holding the store's write lock, so that seq and prev_hash always come from the true head.
Read errors of the underlying database surface as
:class:`~governance.trail.errors.TrailIntegrityError` naming the last good seq.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from governance.trail.chain import Row
from governance.trail.errors import TrailIntegrityError

COLUMNS = "seq, time, run_id, actor, kind, body, prev_hash, entry_hash"
SCHEMA_VERSION = "1"


class UnreadableTrail(TrailIntegrityError):
    """The database failed while reading; ``after_seq`` is the last row read intact."""

    def __init__(self, where: str, after_seq: int, detail: str):
        self.after_seq = after_seq
        super().__init__(f"{where}: unreadable after seq {after_seq}: {detail}")


class Store:
    """Base of the SQLite and PostgreSQL stores: filtered reads built once for both."""

    events = "events"
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

    def close(self) -> None:
        raise NotImplementedError

    def _query(self, sql: str, params: Iterable[Any] = ()) -> list[tuple]:
        raise NotImplementedError

    def _stream(self, sql: str, params: Iterable[Any] = ()) -> Iterator[tuple]:
        raise NotImplementedError

    # -- shared reads -----------------------------------------------------------------------
    def rows(self, *, after_seq: int = 0, upto: int | None = None, run_id: str | None = None,
             kinds: list[str] | None = None, since: str | None = None,
             limit: int | None = None) -> Iterator[Row]:
        """Rows in seq order, filtered; a read failure raises :class:`UnreadableTrail`."""
        where, params = self._where(after_seq, upto, run_id, kinds, since)
        sql = f"SELECT {COLUMNS} FROM {self.events} WHERE {where} ORDER BY seq"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        last = after_seq
        try:
            for raw in self._stream(sql, params):
                row = Row(*raw)
                last = row.seq
                yield row
        except UnreadableTrail:
            raise
        except Exception as err:  # the driver's own error classes differ; all mean "cannot read"
            if not self._is_db_error(err):
                raise
            raise UnreadableTrail(self.location, last, str(err).splitlines()[0]) from None

    def count(self, run_id: str | None = None, kinds: list[str] | None = None) -> int:
        where, params = self._where(0, None, run_id, kinds, None)
        return self._read(f"SELECT COUNT(*) FROM {self.events} WHERE {where}", params)[0][0]

    def runs(self) -> list[str]:
        sql = (f"SELECT run_id FROM {self.events} WHERE run_id IS NOT NULL "
               "GROUP BY run_id ORDER BY MIN(seq)")
        return [r[0] for r in self._read(sql)]

    def head(self) -> tuple[int, str | None]:
        """(highest seq, its entry hash), or (0, None) for an empty trail."""
        got = self._read(f"SELECT seq, entry_hash FROM {self.events} ORDER BY seq DESC LIMIT 1")
        return (got[0][0], got[0][1]) if got else (0, None)

    def row_at(self, seq: int) -> Row | None:
        got = self._read(f"SELECT {COLUMNS} FROM {self.events} WHERE seq = {self.ph}", [seq])
        return Row(*got[0]) if got else None

    def seq_of_entry_hash(self, digest: str) -> int | None:
        """Where an entry hash is stored now (a scan: used only to explain a broken chain)."""
        got = self._read(f"SELECT seq FROM {self.events} WHERE entry_hash = {self.ph} LIMIT 1", [digest])
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

    def _read(self, sql: str, params: Iterable[Any] = ()) -> list[tuple]:
        try:
            return self._query(sql, params)
        except Exception as err:
            if not self._is_db_error(err):
                raise
            raise TrailIntegrityError(f"{self.location}: unreadable: {str(err).splitlines()[0]}") from None

    def _is_db_error(self, err: Exception) -> bool:
        raise NotImplementedError

    def _where(self, after_seq, upto, run_id, kinds, since) -> tuple[str, list[Any]]:
        ph = self.ph
        clauses, params = [f"seq > {ph}"], [after_seq]
        if upto is not None:
            clauses.append(f"seq <= {ph}")
            params.append(upto)
        if run_id is not None:
            clauses.append(f"run_id = {ph}")
            params.append(run_id)
        if kinds:
            clauses.append(f"kind IN ({', '.join([ph] * len(kinds))})")
            params.extend(kinds)
        if since is not None:
            clauses.append(f"time >= {ph}")
            params.append(since)
        return " AND ".join(clauses), params
