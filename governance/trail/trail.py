"""The :class:`Trail`: append, read, blobs, checkpoints, verification and proofs on one store."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

from governance.errors import UserError
from governance.provenance import current_actor, utc_now
from governance.trail.blobs import BlobStore
from governance.trail.chain import (
    ENTRY_FORMAT,
    GENESIS_HASH,
    Event,
    Row,
    body_head,
    body_tail,
    entry_hash,
    normalize_time,
)
from governance.trail.checkpoints import Checkpoint, sign_checkpoint
from governance.trail.errors import TrailIntegrityError, TrailMissing, TrailUnavailable
from governance.trail.formats import trail_format
from governance.trail.reads import checked_events, event_of
from governance.trail.report import VerifyReport
from governance.trail.store import Store
from governance.workspace import Workspace


def default_actor() -> str:
    """The OS user name (``uid:N`` when the system cannot name the user): see
    :func:`governance.provenance.current_actor`."""
    return current_actor()


class Trail:
    """An open audit trail; see :mod:`governance.trail` for the contract.

    Parameters
    ----------
    store : where entries and checkpoint records live (SQLite or PostgreSQL)
    workspace : holds keys, checkpoint files and blobs
    signing_key : path of the private key that signs checkpoints (default: see
        :mod:`governance.trail.signing`)
    """

    def __init__(self, store: Store, workspace: Workspace, signing_key: str | Path | None = None):
        self.store, self.workspace = store, workspace
        self.blobs = BlobStore(workspace.blobs)
        self._signing_key = signing_key
        self._signer = None
        self._format: int | None = None  # the trail's entry format, once an entry fixes it

    @property
    def location(self) -> str:
        """Where the entries are stored (a file path or a password-free URL)."""
        return self.store.location

    # -- writing ------------------------------------------------------------------------
    def append(self, kind: str, run_id: str | None = None, actor: str | None = None,
               payload: dict[str, Any] | None = None, subjects: dict[str, Any] | None = None) -> Event:
        """Record one event; it is durable when this returns. Bad input raises ``EventError``.

        The entry is written in the trail's entry format (format 2 for a new trail; see
        :mod:`governance.trail.formats`).
        """
        actor = actor or current_actor()
        version = self._format or trail_format(self.store)
        head = body_head(run_id, actor, kind, subjects, payload, version)  # fail before taking the lock

        def build(seq: int, prev_hash: str) -> Row:
            nonlocal version, head
            fixed = self._format or (ENTRY_FORMAT if seq == 1 else trail_format(self.store))
            if fixed != version:  # a trail begun in format 1
                version, head = fixed, body_head(run_id, actor, kind, subjects, payload, fixed)
            time = utc_now()  # taken under the lock, so time never runs backwards along seq
            body = head + body_tail(time)
            return Row(seq, time, run_id, actor, kind, body, prev_hash, entry_hash(seq, prev_hash, body, version))

        row = self.store.append(build)
        self._format = version  # entry 1 fixes the format for good
        return Event.from_row(row)

    # -- reading ------------------------------------------------------------------------
    def iter_events(self, run_id: str | None = None, kind: str | Iterable[str] | None = None,
                    since: str | dt.datetime | dt.date | None = None, after_seq: int = 0,
                    limit: int | None = None, *, checked: bool = False) -> Iterator[Event]:
        """Events in seq order, filtered; ``kind`` may be one kind or several.

        Reads scan the table, never an index (an index is not covered by the hash chain). With
        ``checked=True`` (readers that decide, such as
        approvals) the read also refuses, with :class:`TrailIntegrityError`, a trail whose seq
        numbers do not run 1..n without gaps, and every entry of the run whose content does not
        hash to its entry hash or whose columns disagree with it; the filters then apply to the
        hashed content, so an edited run id, kind or time column cannot hide an event.
        """
        kinds = [kind] if isinstance(kind, str) else (list(kind) if kind is not None else None)
        since_text = normalize_time(since) if since is not None else None
        if limit is not None and limit <= 0:
            return
        if checked:
            yield from checked_events(self.store, run_id, kinds, since_text, after_seq, limit)
            return
        for row in self.store.rows(after_seq=after_seq, run_id=run_id, kinds=kinds, since=since_text, limit=limit,
                                   scan=True):
            yield event_of(row)

    def events(self, run_id: str | None = None, kind: str | Iterable[str] | None = None,
               since: str | dt.datetime | dt.date | None = None, after_seq: int = 0,
               limit: int | None = None, *, checked: bool = False) -> list[Event]:
        """Like :meth:`iter_events`, as a list."""
        return list(self.iter_events(run_id, kind, since, after_seq, limit, checked=checked))

    def count(self, run_id: str | None = None, kind: str | Iterable[str] | None = None) -> int:
        kinds = [kind] if isinstance(kind, str) else (list(kind) if kind is not None else None)
        return self.store.count(run_id, kinds, scan=True)

    def runs(self) -> list[str]:
        """Run ids in order of their first event."""
        return self.store.runs(scan=True)

    def head(self) -> tuple[int, str]:
        """(number of entries, entry hash of the last one; the genesis hash when empty)."""
        size, digest = self.store.head()
        return size, digest or GENESIS_HASH

    # -- blobs --------------------------------------------------------------------------
    def put_blob(self, data: bytes) -> str:
        """Store evidence bytes; return their SHA-256 hex to put in an event."""
        return self.blobs.put(data)

    def put_blob_file(self, path: str | Path) -> str:
        """Store a file's content as a blob; return its SHA-256 hex."""
        return self.blobs.put_file(path)

    def get_blob(self, digest: str) -> bytes:
        """A blob's bytes, checked against ``digest``."""
        return self.blobs.get(digest)

    # -- checkpoints, verification, proofs ----------------------------------------------
    def checkpoint(self) -> Checkpoint:
        """Sign the current size, Merkle root and head; store it and write ``checkpoints/*.json``.

        Refuses (``TrailIntegrityError``) when the trail does not verify: a signature must
        never vouch for a tampered trail.
        """
        from governance.trail import keys

        signer = keys.active_signer(self)
        trusted = keys.ensure_trusted(self, signer)
        from governance.trail.verify import verify_for_checkpoint

        report, frontier = verify_for_checkpoint(self.store, trusted, self.workspace.checkpoints)
        if not report.ok:
            raise TrailIntegrityError(f"refusing to sign a checkpoint over a damaged trail: "
                                      f"{report.first}; run `rai trail verify`")
        cp = sign_checkpoint(signer, report.size, report.root_hash, report.head_hash or GENESIS_HASH, utc_now())
        # The stored record keeps the Merkle frontier, so the next checkpoint reads only newer entries.
        self.store.add_checkpoint(cp.tree_size, json.dumps({**cp.to_dict(), "frontier": frontier}, sort_keys=True))
        try:
            path = cp.save(self.workspace.checkpoints)
        except TrailUnavailable as err:
            raise TrailUnavailable(f"{err} (the checkpoint of {cp.tree_size} entries is signed and stored in "
                                   "the trail; only its file copy is missing)") from None
        return replace(cp, source=str(path))

    def checkpoints(self) -> list[Checkpoint]:
        """Every known checkpoint (table and files), smallest first, signatures not checked."""
        from governance.trail.verify import gather_checkpoints

        return gather_checkpoints(self.store, self.workspace.checkpoints)[0]

    def latest_checkpoint(self) -> Checkpoint | None:
        """The largest checkpoint whose signature verifies under a trusted key."""
        from governance.trail.signing import KeyRing
        from governance.trail.verify import check_signature

        trusted = KeyRing(self.workspace.keys).trusted()
        good = [cp for cp in self.checkpoints() if check_signature(cp, trusted) is None]
        return good[-1] if good else None

    def verify(self, checkpoint: str | Path | Checkpoint | Iterable | None = None,
               blobs: bool = True) -> VerifyReport:
        """Recompute the chain and Merkle root, check all checkpoints (and blobs); never raises
        for tampering, which the report describes."""
        from governance.trail.signing import KeyRing
        from governance.trail.verify import verify_store

        return verify_store(self.store, KeyRing(self.workspace.keys).trusted(),
                            checkpoint_dir=self.workspace.checkpoints, extra=_as_checkpoints(checkpoint),
                            blobs=self.blobs if blobs else None)

    def prove(self, seq: int, checkpoint: str | Path | Checkpoint | None = None) -> dict[str, Any]:
        """Inclusion proof (JSON-able dict) of entry ``seq`` against the latest or a given checkpoint."""
        from governance.trail.proofs import make_proof

        given = _as_checkpoints(checkpoint)
        cp = given[0] if given else self.latest_checkpoint()
        if cp is None:
            raise UserError("no verified checkpoint yet: run `rai trail checkpoint` first")
        return make_proof(self.store, cp, seq)

    def rotate_key(self) -> tuple[str, str, Checkpoint]:
        """Replace the workspace signing key; record ``key.rotated``; sign a checkpoint with the new key.

        Returns (old key id, new key id, the new checkpoint).
        """
        from governance.trail import keys

        return keys.rotate(self)

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> Trail:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _as_checkpoints(value: Any) -> list[Checkpoint]:
    if value is None:
        return []
    if isinstance(value, Checkpoint):
        return [value]
    if isinstance(value, (str, Path)):
        return [Checkpoint.load(value)]
    return [c for v in value for c in _as_checkpoints(v)]


_SQLITE_SUFFIXES = {".db", ".sqlite", ".sqlite3"}


def open_trail(workspace_or_path: Workspace | str | Path | None = None, url: str | None = None, *,
               create: bool = True, signing_key: str | Path | None = None) -> Trail:
    """Open the trail of a workspace.

    Parameters
    ----------
    workspace_or_path : a :class:`Workspace`, a workspace directory, or a SQLite file (its
        directory then holds keys, checkpoints and blobs); default: ``Workspace.at()``
    url : ``postgresql://...`` (or ``sqlite:///path``); default: the workspace's ``trail_url``,
        else SQLite in ``trail.db``
    create : create the store if missing; readers pass ``False`` so that a wrong workspace is an
        error (``TrailMissing``) rather than a new, empty trail
    signing_key : private key file that signs checkpoints (overrides ``RAI_SIGNING_KEY``)
    """
    return _open(workspace_or_path, url, create, signing_key, check_schema=True)


def _open(workspace_or_path, url: str | None, create: bool, signing_key, check_schema: bool) -> Trail:
    ws, sqlite_path = _resolve(workspace_or_path)
    url = url or (None if sqlite_path else ws.trail_url)
    return Trail(_store(ws, sqlite_path, url, create, check_schema), ws, signing_key)


def _store(ws: Workspace, sqlite_path: Path | None, url: str | None, create: bool, check_schema: bool) -> Store:
    from governance.trail.store_sqlite import SQLiteStore

    if url is None:
        return SQLiteStore(sqlite_path or ws.trail_db, create=create, check_schema=check_schema)
    if url.startswith(("postgresql://", "postgres://")):
        from governance.trail.store_postgres import PostgresStore

        return PostgresStore(url, create=create, check_schema=check_schema)
    if url.startswith("sqlite:"):
        path = url[len("sqlite:"):]
        path = path[2:] if path.startswith("//") else path  # sqlite:///abs and sqlite:rel both work
        return SQLiteStore(Path(path), create=create, check_schema=check_schema)
    scheme = url.split(":", 1)[0]
    raise UserError(f"trail URL scheme '{scheme}:' is not supported (use postgresql://... or sqlite:///PATH)")


def _resolve(workspace_or_path) -> tuple[Workspace, Path | None]:
    """The workspace, and the SQLite file when one was named directly."""
    if isinstance(workspace_or_path, Workspace):
        return workspace_or_path, None
    if workspace_or_path is None:
        return Workspace.at(), None
    p = Path(workspace_or_path)
    if p.suffix in _SQLITE_SUFFIXES or p.is_file():
        return Workspace(p.parent), p
    return Workspace(p), None


def verify_trail(workspace_or_path: Workspace | str | Path | None = None, url: str | None = None,
                 checkpoint: str | Path | Checkpoint | Iterable | None = None,
                 blobs: bool = True) -> VerifyReport:
    """Verify a workspace's trail, also when its database is gone, damaged or altered.

    A missing database with no checkpoint anywhere is a usage mistake (``TrailMissing``); with a
    checkpoint it is a truncation to zero entries. A damaged database file is ``unreadable`` from
    entry 1; an altered schema is reported, not refused.

    Raises
    ------
    TrailUnavailable
        when the machine keeps rai from reading the trail (permissions, a read-only workspace,
        an I/O error, an unreachable server): that is not evidence of tampering (exit 3)
    """
    try:
        trail = _open(workspace_or_path, url, create=False, signing_key=None, check_schema=False)
    except (TrailMissing, TrailIntegrityError) as err:
        from governance.trail.verify import report_without_store

        ws = _resolve(workspace_or_path)[0]
        return report_without_store(ws, _as_checkpoints(checkpoint), err)
    with trail:
        return trail.verify(checkpoint, blobs)
