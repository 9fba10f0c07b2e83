"""The prediction log of a server process: open segments, append decisions, commit closed segments.

Life of a segment (see :mod:`lifecycle.predlog`):

1. created as ``WORKSPACE/predictions/open/ID.jsonl``, locked, and announced in the audit trail
   (``predictions.segment_opened``) *before* it takes a decision;
2. every decision is written to it (one ``write``, no fsync) before its response is sent; a
   background thread flushes it to disk every ``sync_seconds``;
3. when it is full (``segment_records``), old (``segment_seconds``) or the server stops, a new
   segment takes over and this one is committed: its bytes and its leaf hashes become blobs of
   the trail and ``predictions.segment_closed`` records its Merkle root, record count and time
   span. The open file is then removed.

A segment whose server died (no lock held) is committed by the next server that starts on the
workspace, or by ``rai predictions recover``, flagged ``recovered``.
"""

from __future__ import annotations

import fcntl
import os
import secrets
import sys
import threading
import time
from pathlib import Path
from typing import Any

from governance.provenance import utc_stamp
from governance.trail import open_trail
from governance.trail.merkle import root_of
from governance.workspace import Workspace
from lifecycle.predlog.segment import SUFFIX, PredictionLogError, SegmentWriter, parse_segment, read_all

OPENED = "predictions.segment_opened"
CLOSED = "predictions.segment_closed"


def log_dir(ws: Workspace) -> Path:
    """Where open segments live: ``WORKSPACE/predictions/open``."""
    return ws.root / "predictions" / "open"


class PredictionLog:
    """Append-only decision log of one server process for one model.

    Parameters
    ----------
    ws : the workspace whose trail commits the segments
    model : ``{"name", "version", "model_sha256"}`` of the served entry
    settings : recorded with each segment (e.g. whether inputs are kept)
    """

    def __init__(self, ws: Workspace, model: dict[str, Any], settings: dict[str, Any] | None = None, *,
                 segment_records: int = 100_000, segment_seconds: float = 600.0, sync_seconds: float = 1.0):
        self.ws, self.model, self.settings = ws, dict(model), dict(settings or {})
        self.segment_records, self.segment_seconds, self.sync_seconds = segment_records, segment_seconds, sync_seconds
        self.committed = 0
        self.failures: list[str] = []
        self._current: SegmentWriter | None = None
        self._opened_at = 0.0
        self._retry = False
        self._swap = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- life cycle ---------------------------------------------------------------------
    def start(self) -> list[dict[str, Any]]:
        """Commit segments left by dead servers, open the first segment, start flushing.

        Returns the payloads of the recovered segments' commits.
        """
        recovered = recover_orphans(self.ws)
        self._current, self._opened_at = self._open_segment(), time.monotonic()
        self._thread = threading.Thread(target=self._background, name="prediction-log", daemon=True)
        self._thread.start()
        return recovered

    def stop(self) -> None:
        """Commit the open segment (and sign a trail checkpoint); the log takes no more records."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        with self._swap:
            writer, self._current = self._current, None
        if writer is not None:
            self._commit(writer)

    # -- the request path ---------------------------------------------------------------
    def append(self, lines: list[bytes]) -> None:
        """Write the records of one request; raises :class:`PredictionLogError` if it cannot."""
        with self._swap:
            writer = self._current
            if writer is None:
                raise PredictionLogError(0, "prediction log is closed")
            writer.write(lines)

    # -- background ---------------------------------------------------------------------
    def _background(self) -> None:
        while not self._stop.wait(self.sync_seconds):
            writer = self._current
            try:
                if self._retry:  # a commit failed earlier: its file waits in open/, unlocked
                    recover_orphans(self.ws)
                    self._retry = False
                if writer is not None:
                    writer.sync()
                if writer is not None and (writer.records >= self.segment_records
                                           or time.monotonic() - self._opened_at >= self.segment_seconds):
                    self.roll()
            except Exception as err:  # the log must outlive a full disk or a busy trail; it retries
                self._retry = True
                self._failed(f"prediction log: {err}")

    def roll(self) -> None:
        """Start a new segment and commit the current one."""
        fresh = self._open_segment()
        with self._swap:
            old, self._current, self._opened_at = self._current, fresh, time.monotonic()
        if old is not None:
            self._commit(old)

    def _open_segment(self) -> SegmentWriter:
        writer = SegmentWriter.create(log_dir(self.ws), new_segment_id())
        with open_trail(self.ws.ensure()) as trail:
            trail.append(OPENED, payload={"segment": writer.segment_id, "model": self.model, "pid": os.getpid(),
                                          "settings": self.settings}, subjects={"model": self.model.get("model_sha256")})
        return writer

    def _commit(self, writer: SegmentWriter) -> None:
        """Commit what this process wrote, read back from its own descriptor: a path removed or
        replaced under the server changes nothing committed, and the event records it."""
        try:
            writer.sync()
            data, replaced = writer.content(), writer.replaced()
            commit_segment(self.ws, data, writer.segment_id, self.model, expected=(writer.records, writer.digest.hexdigest()),
                           remove=None if replaced else writer.path, replaced=replaced)
        finally:
            writer.close()
        self.committed += 1

    def _failed(self, message: str) -> None:
        self.failures.append(message)
        print(f"warning: {message}", file=sys.stderr, flush=True)


def new_segment_id() -> str:
    """``YYYYmmddTHHMMSSZ-PID-RANDOM``: sortable by opening time, unique across processes."""
    return f"{utc_stamp()}-{os.getpid()}-{secrets.token_hex(4)}"


def commit_segment(ws: Workspace, data: bytes, segment_id: str, model: dict[str, Any] | None, *,
                   expected: tuple[int, str] | None = None, recovered: bool = False, remove: Path | None = None,
                   replaced: bool = False) -> dict[str, Any]:
    """Put a segment's bytes and leaves in the trail's blobs and record its root; then delete ``remove``.

    ``expected`` is the (records, SHA-256 of the bytes) the writing process wrote: a file edited
    while open no longer matches it, and the event says so (``changed_while_open``), as it says
    when the segment's path was removed or replaced while open (``replaced``).
    """
    parsed = parse_segment(data)
    records = parsed.records()
    times = [r.get("time") for r in records if r is not None]
    root = root_of(parsed.leaves).hex()
    changed = None if expected is None or expected == (len(parsed.lines), _sha256(data)) else \
        {"records_written": expected[0], "sha256_written": expected[1]}
    with open_trail(ws.ensure()) as trail:
        payload = {
            "segment": segment_id, "model": model or _model_of(records), "records": len(parsed.lines),
            "first_time": times[0] if times else None, "last_time": times[-1] if times else None,
            "merkle_root": root, "size_bytes": len(parsed.content),
            "segment_blob": trail.put_blob(parsed.content), "leaves_blob": trail.put_blob(b"".join(parsed.leaves)),
            "recovered": recovered, "discarded_tail_bytes": parsed.discarded_tail,
            "unreadable_lines": parsed.unreadable[:100], "changed_while_open": changed, "replaced": replaced,
        }
        trail.append(CLOSED, payload=payload, subjects={"segment": payload["segment_blob"]})
        if remove is not None:
            remove.unlink(missing_ok=True)
        try:
            trail.checkpoint()
        except Exception as err:  # a checkpoint is a convenience for proofs; the commit already stands
            print(f"warning: prediction log: no trail checkpoint after {segment_id}: {err}", file=sys.stderr)
    return payload


def _sha256(data: bytes) -> str:
    import hashlib

    return hashlib.sha256(data).hexdigest()


def _model_of(records: list[dict[str, Any] | None]) -> dict[str, Any] | None:
    first = next((r for r in records if r is not None), None)
    return None if first is None else {"name": first.get("model"), "version": first.get("version"),
                                       "model_sha256": first.get("model_sha256")}


def recover_orphans(ws: Workspace) -> list[dict[str, Any]]:
    """Commit every open segment that no live process holds (its server was killed)."""
    directory = log_dir(ws)
    done = []
    for path in sorted(directory.glob(f"*{SUFFIX}")) if directory.is_dir() else []:
        try:
            fd = os.open(path, os.O_RDONLY)
        except FileNotFoundError:
            continue  # committed meanwhile by another process
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            continue  # a live server is writing it
        try:
            if os.fstat(fd).st_nlink:  # still linked: nobody committed it while we waited
                done.append(commit_segment(ws, read_all(fd), path.name[: -len(SUFFIX)], None, recovered=True,
                                           remove=path))
        finally:
            os.close(fd)
    return done
