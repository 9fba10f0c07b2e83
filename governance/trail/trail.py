"""The :class:`Trail`: append, read, blobs, checkpoints, verification and proofs on one store.

Opening one (and verifying one that may not open) is :mod:`governance.trail.opening`'s.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

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
from governance.trail.errors import TrailIntegrityError, TrailUnavailable
from governance.trail.formats import trail_format
from governance.trail.problems import VerifyReport
from governance.trail.reads import checked_events, event_of
from governance.trail.store import Store
from governance.workspace import Workspace

if TYPE_CHECKING:
    from governance.trail.signing import Signer


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

    # -- the signing key ------------------------------------------------------------------
    @property
    def signing_key_path(self) -> Path | None:
        """The private key file given to :func:`open_trail`, if one was."""
        return Path(self._signing_key) if self._signing_key else None

    def signer(self) -> Signer:
        """The key that signs this trail's checkpoints (which one: :mod:`governance.trail.signing`),
        read on first use, when a workspace without a key gets one."""
        if self._signer is None:
            from governance.trail.signing import resolve_signer

            self._signer = resolve_signer(self.workspace.keys, self._signing_key)
        return self._signer

    def reload_signer(self) -> Signer:
        """Read the signing key again, after the workspace's key file was replaced (a rotation)."""
        self._signer = None
        return self.signer()

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

    def listing(self, run_id: str | None = None, kind: str | Iterable[str] | None = None,
                since: str | dt.datetime | dt.date | None = None) -> Iterator[Row]:
        """Stored rows in seq order, filtered, found through the database's indexes: for lists
        shown beside a verification (the dashboard's pages), never for deciding.

        Every other read scans the table, because an index is a copy of the columns that the
        hash chain does not cover: a forged one could leave an entry out of this listing (and
        ``verify`` reports it). In exchange, a page of a large trail comes back in milliseconds.
        Rows are not decoded (``Event.from_row`` reads one), so a listing of seqs or run ids
        costs a tenth of reading the events.
        """
        kinds = [kind] if isinstance(kind, str) else (list(kind) if kind is not None else None)
        since_text = normalize_time(since) if since is not None else None
        return self.store.rows(run_id=run_id, kinds=kinds, since=since_text)

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

        signer = self.signer()
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
                            checkpoint_dir=self.workspace.checkpoints, extra=as_checkpoints(checkpoint),
                            blobs=self.blobs if blobs else None)

    def prove(self, seq: int, checkpoint: str | Path | Checkpoint | None = None) -> dict[str, Any]:
        """Inclusion proof (JSON-able dict) of entry ``seq`` against the latest or a given checkpoint."""
        from governance.trail.proofs import make_proof

        given = as_checkpoints(checkpoint)
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


def as_checkpoints(value: Any) -> list[Checkpoint]:
    """Checkpoints given as one, a file path, or several of either."""
    if value is None:
        return []
    if isinstance(value, Checkpoint):
        return [value]
    if isinstance(value, (str, Path)):
        return [Checkpoint.load(value)]
    return [c for v in value for c in as_checkpoints(v)]
