"""Verify the prediction log against the audit trail: complete, and every committed line unedited.

Reads only; never commits, recovers or signs. Problems (each located by segment, trail entry and,
when an edit is found, the line and its request id):

``trail``             the trail itself does not verify (``rai trail verify`` says where)
``segment_missing``   a committed segment's content is gone from the workspace
``segment_edited``    a committed segment's content no longer matches its Merkle root
``edited_while_open`` the commit recorded that the file changed under its server
``lost``              a segment announced in the trail was neither committed nor is its file there
``unannounced``       an open segment file that no trail event announced (and no server holds)
``duplicate``         a segment committed twice

An open segment still being written, or left by a killed server and not yet recovered, is
``pending`` (a note, not a problem): ``rai predictions recover`` commits the latter.
"""

from __future__ import annotations

import fcntl
import os
from dataclasses import dataclass, field
from typing import Any

from governance.trail import open_trail, verify_trail
from governance.trail.blobs import BlobStore
from governance.trail.merkle import root_of
from governance.workspace import Workspace
from lifecycle.predlog.log import CLOSED, OPENED, log_dir
from lifecycle.predlog.segment import SUFFIX, parse_segment


@dataclass(frozen=True)
class LogProblem:
    kind: str
    message: str
    segment: str | None = None
    seq: int | None = None
    line: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "segment": self.segment, "seq": self.seq, "line": self.line, "message": self.message}


@dataclass
class LogReport:
    """``ok`` when the trail verifies and every announced segment is committed intact or open."""

    segments: int = 0
    records: int = 0
    pending: list[dict[str, Any]] = field(default_factory=list)
    problems: list[LogProblem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "segments": self.segments, "records": self.records, "pending": self.pending,
                "problems": [p.to_dict() for p in self.problems]}


def verify_log(ws: Workspace, check_trail: bool = True) -> LogReport:
    """Check every segment event of the trail against the stored segments (see the module doc)."""
    report = LogReport()
    if check_trail:
        trail_report = verify_trail(ws, blobs=False)
        report.problems += [LogProblem("trail", str(p), seq=p.seq) for p in trail_report.problems]
    with open_trail(ws, create=False) as trail:
        events = trail.events(kind=[OPENED, CLOSED])
    blobs = BlobStore(ws.blobs)
    opened: dict[str, int] = {}
    closed: dict[str, int] = {}
    for event in events:
        segment = str(event.payload.get("segment"))
        if event.kind == OPENED:
            opened.setdefault(segment, event.seq)
            continue
        if segment in closed:
            report.problems.append(LogProblem("duplicate", f"segment {segment} is committed again at entry {event.seq} "
                                                           f"(first at entry {closed[segment]})", segment, event.seq))
            continue
        closed[segment] = event.seq
        report.segments += 1
        report.records += int(event.payload.get("records") or 0)
        report.problems += check_committed(blobs, event.seq, event.payload)
    _check_open(ws, opened, closed, report)
    return report


def check_committed(blobs: BlobStore, seq: int, payload: dict[str, Any]) -> list[LogProblem]:
    """Problems with one committed segment (its content, root and recorded history)."""
    segment = str(payload.get("segment"))
    where = f"segment {segment} (trail entry {seq})"
    problems = []
    if payload.get("replaced"):
        problems.append(LogProblem("edited_while_open", f"{where}: its file was removed or replaced while its server "
                                   "wrote it (the server committed its own copy)", segment, seq))
    if payload.get("changed_while_open"):
        written = payload["changed_while_open"]
        problems.append(LogProblem("edited_while_open", f"{where}: the file changed while its server wrote it "
                                   f"(it wrote {written.get('records_written')} records; "
                                   f"{payload.get('records')} were committed)", segment, seq))
    status = blobs.status(payload["segment_blob"]) if _digest(payload.get("segment_blob")) else "missing"
    if status == "missing":
        return problems + [LogProblem("segment_missing", f"{where}: its content (blob {payload.get('segment_blob')}) "
                                                         "is missing", segment, seq)]
    parsed = parse_segment(blobs.path(payload["segment_blob"]).read_bytes())
    root = root_of(parsed.leaves).hex()
    if status == "ok" and root == payload.get("merkle_root") and len(parsed.lines) == payload.get("records"):
        return problems
    line = _first_difference(blobs, payload, parsed.leaves)
    at = ""
    if line is not None and line <= len(parsed.lines):
        record = parsed.records()[line - 1] or {}
        at = f" from line {line} (request {record.get('request_id')!s:.40})"
    return problems + [LogProblem("segment_edited", f"{where}: content no longer matches the committed Merkle root{at}",
                                  segment, seq, line)]


def _digest(value: Any) -> bool:
    return isinstance(value, str) and len(value) == 64 and all(c in "0123456789abcdef" for c in value)


def _first_difference(blobs: BlobStore, payload: dict[str, Any], leaves: list[bytes]) -> int | None:
    """1-based first line whose leaf differs from the committed leaves (None if they cannot be read)."""
    digest = payload.get("leaves_blob")
    if not _digest(digest) or blobs.status(digest) != "ok":
        return None
    data = blobs.path(digest).read_bytes()
    committed = [data[i: i + 32] for i in range(0, len(data), 32)]
    for i, (mine, theirs) in enumerate(zip(leaves, committed, strict=False)):
        if mine != theirs:
            return i + 1
    return min(len(leaves), len(committed)) + 1


def _check_open(ws: Workspace, opened: dict[str, int], closed: dict[str, int], report: LogReport) -> None:
    directory = log_dir(ws)
    files = {p.name[: -len(SUFFIX)]: p for p in directory.glob(f"*{SUFFIX}")} if directory.is_dir() else {}
    for segment, seq in opened.items():
        if segment in closed:
            continue
        path = files.get(segment) or _appeared(directory, segment)
        if path is None and not _committed_since(ws, segment):
            report.problems.append(LogProblem("lost", f"segment {segment} (announced at trail entry {seq}) was never "
                                                      "committed and its file is gone", segment, seq))
            continue
        if path is None:
            continue
        live = _held(path)
        try:
            records = len(parse_segment(path.read_bytes()).lines)
        except FileNotFoundError:
            continue  # committed by its server just now
        report.pending.append({"segment": segment, "seq": seq, "records": records,
                               "state": "open" if live else "orphaned: run `rai predictions recover`"})
    for segment, path in files.items():
        if segment not in opened and segment not in closed and not _held(path):
            report.problems.append(LogProblem("unannounced", f"{path.name}: an open segment no trail event announced",
                                              segment))


def _appeared(directory, segment: str):
    """The segment's file if it exists now (opened after the directory was listed)."""
    path = directory / f"{segment}{SUFFIX}"
    return path if path.exists() else None


def _committed_since(ws: Workspace, segment: str) -> bool:
    """Whether the segment was committed after the events were read (its server closed it meanwhile)."""
    with open_trail(ws, create=False) as trail:
        return any(str(e.payload.get("segment")) == segment for e in trail.iter_events(kind=CLOSED))


def _held(path) -> bool:
    """Whether a live server holds the segment's lock."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        return False
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
