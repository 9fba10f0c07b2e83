"""Whether one stored row is the entry rai recorded: the checks that need no other row.

Used by verification (which also checks the links between rows) and by the readers that decide
(approvals, see :meth:`~governance.trail.trail.Trail.iter_events` with ``checked=True``), so that
both judge a row the same way. A row can be wrong in three ways, checked in this order: a column
of the wrong type or a hash that is not 64 lowercase hex characters (*malformed*: nothing rai
writes), content that no longer hashes to its entry hash, or an indexed column (time, run id,
actor, kind) that disagrees with the hashed body.
"""

from __future__ import annotations

import hashlib
import json
import re
from json.encoder import encode_basestring

from governance.trail.chain import Row, entry_hash, format_of

HEX64 = re.compile(r"[0-9a-f]{64}")


def malformed(row: Row) -> str | None:
    """Why the row cannot be an entry rai wrote (wrong type, non-canonical hash), or ``None``."""
    for column in ("body", "prev_hash", "entry_hash"):
        value = getattr(row, column)
        if isinstance(value, bytes):
            return f"column '{column}' holds bytes (a BLOB or text that is not UTF-8), not the recorded text"
        if not isinstance(value, str):
            return f"column '{column}' holds {type(value).__name__} {value!r}, not the recorded text"
    for column in ("prev_hash", "entry_hash"):
        if not HEX64.fullmatch(getattr(row, column)):
            return (f"column '{column}' reads {getattr(row, column)[:80]!r}, which is not a hash as rai "
                    "records it (64 lowercase hex characters)")
    return None


def content_fault(row: Row, version: int) -> str | None:
    """Why the row is not the entry recorded at its place (ignoring links) in a trail of entry
    format ``version`` (see :mod:`governance.trail.formats`), or ``None``."""
    fault = malformed(row)
    if fault:
        return fault
    if entry_hash(row.seq, row.prev_hash, row.body, version) != row.entry_hash:
        other = format_of(row.seq, row.prev_hash, row.body, row.entry_hash)
        if other is not None:
            return (f"it is hashed as an entry of format {other} in a trail of format {version}: rai never "
                    "changes a trail's format, so it was written outside rai")
        return "its content does not match its entry hash (changed after it was recorded)"
    if not columns_match(row):
        return column_fault(row)
    return None


def digest_bytes(text: object) -> bytes:
    """The 32 bytes of a stored hash; a malformed one still gets a (mismatching) stand-in."""
    if isinstance(text, str) and HEX64.fullmatch(text):
        return bytes.fromhex(text)
    return hashlib.sha256(b"rai.trail.malformed\x00" + repr(text).encode("utf-8", "replace")).digest()


def _str(value) -> str:
    # The canonical encoding of one column value: text is escaped the same way in both entry
    # formats (only '"', '\\' and control characters).
    if value is None:
        return "null"
    if not isinstance(value, str):
        raise TypeError
    return encode_basestring(value)


def columns_match(row: Row) -> bool:
    """Whether the indexed columns (actor, kind, run_id, time) agree with the hashed body.

    Compares text instead of parsing the body (parsing a million bodies dominates verification
    otherwise). This is exact because the body is canonical, in both entry formats, with keys in
    the order actor, kind, payload, run_id, subjects, time, and because ``,"`` can only occur in
    JSON at a structural place (inside strings ``"`` is escaped): the last ``,"subjects":{`` is
    the real key, since subjects hold only digests (no nested objects).
    """
    body = row.body
    try:
        head = '{"actor":' + _str(row.actor) + ',"kind":' + _str(row.kind) + ',"payload":'
        tail = ',"time":' + _str(row.time) + "}"
        run = ',"run_id":' + _str(row.run_id)
    except TypeError:
        return False
    subjects = body.rfind(',"subjects":{')
    return body.startswith(head) and body.endswith(tail) and subjects > 0 and body.endswith(run, 0, subjects)


def column_fault(row: Row) -> str:
    """Which column disagrees with the recorded event, in words."""
    try:
        event = json.loads(row.body)
    except ValueError:
        return "its recorded event is not valid JSON"
    if not isinstance(event, dict):
        return "its recorded event is not a JSON object"
    for column in ("time", "run_id", "actor", "kind"):
        if getattr(row, column) != event.get(column):
            return (f"column '{column}' reads {getattr(row, column)!r} but the recorded "
                    f"event says {event.get(column)!r}")
    return "its columns do not agree with the recorded event"


def run_id_needle(run_id: str) -> str:
    """Text that the canonical body of every event of ``run_id`` contains (see :func:`columns_match`)."""
    return ',"run_id":' + encode_basestring(run_id) + ',"subjects":{'
