"""One segment of the prediction log: a file of JSON lines, one decision per line.

A segment is written by one server process, which holds an exclusive ``flock`` on it while it
is open, so a segment left behind by a killed server is recognisable (nobody holds its lock).
Every line is the canonical JSON of a record (keys sorted, ASCII, no spaces); leaf ``i`` of
the segment's Merkle tree (RFC 6962, :mod:`governance.trail.merkle`) is ``SHA-256(0x00 ||
line i)`` without its newline.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from governance.trail.merkle import leaf_hash

SUFFIX = ".jsonl"


class PredictionLogError(OSError):
    """The log cannot take a record (disk full, file gone): no decision may be acknowledged."""


def encode_record(record: dict[str, Any]) -> bytes:
    """The canonical line of a record (no newline); NaN or infinity raise ValueError."""
    return json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False).encode("ascii")


@dataclass
class Parsed:
    """A segment's content as committed: its complete lines, leaves and what did not parse."""

    content: bytes
    lines: list[bytes]
    leaves: list[bytes]
    discarded_tail: int = 0
    unreadable: list[int] = field(default_factory=list)  # 1-based line numbers

    def records(self) -> list[dict[str, Any] | None]:
        return [_record(line) for line in self.lines]


def parse_segment(data: bytes) -> Parsed:
    """Split segment bytes into complete lines; a trailing line without newline is discarded.

    A write that was cut short (a full disk; the server truncates it, but a crash may not)
    leaves such a tail; it was never acknowledged, since the response waits for the write.
    """
    end = data.rfind(b"\n") + 1
    content, tail = data[:end], len(data) - end
    lines = content.split(b"\n")[:-1] if content else []
    unreadable = [i + 1 for i, line in enumerate(lines) if _record(line) is None]
    return Parsed(content, lines, [leaf_hash(line) for line in lines], tail, unreadable)


def _record(line: bytes) -> dict[str, Any] | None:
    try:
        value = json.loads(line)
    except (ValueError, RecursionError):
        return None
    return value if isinstance(value, dict) else None


class SegmentWriter:
    """The open segment of one server process: appends lines, keeps a running SHA-256 of them.

    Not thread-safe: its owner (:class:`lifecycle.predlog.log.PredictionLog`) serializes writes.
    The running digest is what the process wrote; a file edited under it no longer matches.
    """

    def __init__(self, path: Path, segment_id: str, fd: int):
        self.path, self.segment_id, self.fd = path, segment_id, fd
        self.records, self.size, self.dirty = 0, 0, False
        self.digest = hashlib.sha256()

    @classmethod
    def create(cls, directory: Path, segment_id: str) -> SegmentWriter:
        """A new, empty segment file (never an existing one), locked by this process."""
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / f"{segment_id}{SUFFIX}"
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_APPEND, 0o644)
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return cls(path, segment_id, fd)

    def write(self, lines: list[bytes]) -> None:
        """Append lines in one write; on failure the file is cut back and nothing is counted."""
        data = lines[0] + b"\n" if len(lines) == 1 else b"\n".join(lines) + b"\n"
        try:
            written = os.write(self.fd, data)
            while written < len(data):
                written += os.write(self.fd, data[written:])
        except OSError as err:
            self._cut_back()
            raise PredictionLogError(err.errno, f"prediction log {self.path.name}: {err.strerror}") from None
        self.size += len(data)
        self.records += len(lines)
        self.dirty = True
        self.digest.update(data)

    def _cut_back(self) -> None:
        try:
            os.ftruncate(self.fd, self.size)
        except OSError:
            pass  # the tail stays; parse_segment discards a line without its newline

    def sync(self) -> None:
        """Flush written lines to the disk (off the request path)."""
        if self.dirty:
            self.dirty = False
            os.fdatasync(self.fd)

    def content(self) -> bytes:
        """Everything in the file this writer holds open (even if its path was removed or replaced)."""
        return read_all(self.fd)

    def replaced(self) -> bool:
        """Whether the segment's path no longer names the file this writer holds."""
        try:
            return os.stat(self.path).st_ino != os.fstat(self.fd).st_ino
        except FileNotFoundError:
            return True

    def close(self) -> None:
        """Flush and close; the lock goes with the descriptor."""
        try:
            os.fsync(self.fd)
        finally:
            os.close(self.fd)


def read_all(fd: int) -> bytes:
    """The whole content of an open file, from its start."""
    chunks, offset = [], 0
    while chunk := os.pread(fd, 1 << 20, offset):
        chunks.append(chunk)
        offset += len(chunk)
    return b"".join(chunks)
