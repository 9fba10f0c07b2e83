"""Events and the hash chain that links them.

Every entry stores its event as one canonical JSON text, the *body*::

    {"actor":..,"kind":..,"payload":{..},"run_id":..,"subjects":{..},"time":..}

and its ``entry_hash`` is SHA-256 over a domain-separated encoding::

    TAG || seq (8 bytes, big-endian) || prev_hash (32 bytes) || body (UTF-8)

Two entry formats exist. Format 2, which every new trail writes, encodes the body with RFC 8785
(:func:`~governance.trail.canonical.jcs`) under the tag ``b"rai.trail.entry.v2\x00"``, so that a
verifier in any language can rebuild the body from the event and its hash from the body. Format
1, which trails created before it keep, used Python's own JSON form
(:func:`~governance.trail.canonical.canonical_json`) under ``b"rai.trail.entry.v1\x00"``. A
trail's format is fixed by its first entry and never changes (see
:mod:`governance.trail.formats`).

The tag keeps these hashes apart from every other SHA-256 in the system (blob digests, Merkle
nodes, signatures); seq and prev_hash have fixed lengths, so the encoding is unambiguous.
The first entry's ``prev_hash`` is :data:`GENESIS_HASH`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from dataclasses import asdict, dataclass, field
from json.encoder import encode_basestring
from typing import Any, NamedTuple

from governance.provenance import UTC_FORMAT
from governance.trail.canonical import CanonicalJSONError, canonical_json, jcs
from governance.trail.errors import EventError

ENTRY_TAGS = {1: b"rai.trail.entry.v1\x00", 2: b"rai.trail.entry.v2\x00"}
ENTRY_FORMAT = 2  # what new trails write
_ENCODERS = {1: canonical_json, 2: jcs}
GENESIS_HASH = "0" * 64
KIND_RE = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")
SHA256_RE = re.compile(r"^[0-9a-f]{64}$")


class Row(NamedTuple):
    """One stored entry exactly as a store returns it (``body`` is the hashed text)."""

    seq: int
    time: str
    run_id: str | None
    actor: str
    kind: str
    body: str
    prev_hash: str
    entry_hash: str


@dataclass(frozen=True)
class Event:
    """One recorded event; ``entry_hash`` commits to all other fields."""

    seq: int
    time: str
    run_id: str | None
    actor: str
    kind: str
    subjects: dict[str, Any] = field(default_factory=dict)
    payload: dict[str, Any] = field(default_factory=dict)
    prev_hash: str = GENESIS_HASH
    entry_hash: str = ""

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able dict (the form ``rai trail export`` writes)."""
        return asdict(self)

    @classmethod
    def from_row(cls, row: Row) -> Event:
        content = json.loads(row.body)
        return cls(
            seq=row.seq, time=content["time"], run_id=content["run_id"], actor=content["actor"],
            kind=content["kind"], subjects=content["subjects"], payload=content["payload"],
            prev_hash=row.prev_hash, entry_hash=row.entry_hash,
        )


def entry_hash(seq: int, prev_hash: str, body: str, version: int = ENTRY_FORMAT) -> str:
    """SHA-256 of an entry of format ``version`` (see the module docstring for the exact encoding)."""
    return hashlib.sha256(ENTRY_TAGS[version] + seq.to_bytes(8, "big") + bytes.fromhex(prev_hash)
                          + body.encode("utf-8")).hexdigest()


def format_of(seq: int, prev_hash: str, body: str, digest: str) -> int | None:
    """The entry format under which ``(seq, prev_hash, body)`` hashes to ``digest``, if any.

    The arguments must be well formed (text, 64 lowercase hex characters for the hashes).
    """
    for version in ENTRY_TAGS:
        if entry_hash(seq, prev_hash, body, version) == digest:
            return version
    return None


def make_body(time: str, run_id: str | None, actor: str, kind: str,
              subjects: dict[str, Any] | None, payload: dict[str, Any] | None,
              version: int = ENTRY_FORMAT) -> str:
    """Validate an event's fields and return its canonical body text in entry format ``version``.

    Raises
    ------
    EventError
        for a malformed kind, a non-hash subject, or a payload without canonical JSON form
    """
    return body_head(run_id, actor, kind, subjects, payload, version) + body_tail(time)


def body_head(run_id: str | None, actor: str, kind: str, subjects: dict[str, Any] | None,
              payload: dict[str, Any] | None, version: int = ENTRY_FORMAT) -> str:
    """The canonical body up to its time: ``"time"`` sorts last, so the body is this plus
    :func:`body_tail`. An append encodes the event once, before taking the write lock, and adds
    the time under it. Raises :class:`EventError` as :func:`make_body` does."""
    if not isinstance(kind, str) or not KIND_RE.match(kind):
        raise EventError(f"event kind {kind!r}: must be dotted lowercase words, e.g. 'gate.decided'")
    if run_id is not None and (not isinstance(run_id, str) or not run_id):
        raise EventError(f"run_id {run_id!r}: must be a non-empty string or None")
    if not isinstance(actor, str) or not actor:
        raise EventError(f"actor {actor!r}: must be a non-empty string")
    subjects = dict(subjects or {})
    _check_subjects(subjects)
    payload = {} if payload is None else payload
    if not isinstance(payload, dict):
        raise EventError(f"payload: must be a dict, got {type(payload).__name__}")
    content = {"actor": actor, "kind": kind, "payload": payload, "run_id": run_id, "subjects": subjects}
    try:
        body = _ENCODERS[version](content, "event")
        body.encode("utf-8")
    except CanonicalJSONError as err:
        raise EventError(str(err).replace("event.", "", 1)) from None
    except UnicodeEncodeError as err:
        raise EventError(f"event: text is not valid Unicode ({err.reason})") from None
    return body[:-1] + ',"time":'


def body_tail(time: str) -> str:
    """The rest of a body after :func:`body_head`: the time (ASCII in rai's form) and ``}``."""
    if not isinstance(time, str) or not time.isascii():
        raise EventError(f"time {time!r}: must be RFC 3339 text")
    return encode_basestring(time) + "}"


def _check_subjects(subjects: dict[str, Any]) -> None:
    for name, value in subjects.items():
        values = value if isinstance(value, list) else [value]
        for v in values:
            if not isinstance(v, str) or not SHA256_RE.match(v):
                raise EventError(
                    f"subjects.{name}: {v!r} is not a SHA-256 hex digest (64 lowercase hex characters)"
                )


def normalize_time(value: str | dt.datetime | dt.date) -> str:
    """Turn a date, datetime or ISO 8601 text into the stored RFC 3339 UTC form.

    Naive values are taken as UTC. Stored times all have this one fixed-width form, so that
    comparing the text compares the instants.
    """
    if isinstance(value, str):
        text = value.strip()
        try:
            value = dt.datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
        except ValueError:
            raise EventError(
                f"time {text!r}: expected an ISO 8601 date or time, e.g. 2025-01-31 or 2025-01-31T09:30:00Z"
            ) from None
    elif isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        value = dt.datetime(value.year, value.month, value.day)
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    try:
        return value.astimezone(dt.UTC).strftime(UTC_FORMAT)
    except OverflowError:  # e.g. 0001-01-01T00:00+01:00 falls before year 1 in UTC
        raise EventError(f"time {value.isoformat()!r}: out of range once converted to UTC") from None
