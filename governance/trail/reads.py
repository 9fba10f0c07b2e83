"""Turning stored rows into events for readers, and the checked reads that decisions rely on.

A plain read trusts the store's columns to filter (run id, kind, time) and only refuses a row that
holds no readable event. A *checked* read, for readers that decide (approvals read by a deploy
gate), reads the chain the way verification does: the seq numbers must run 1..n without gaps,
every candidate row must hash to its entry hash with columns that agree with it, and the filters
apply to the hashed content, so that an edited column or a deleted, renumbered or hidden entry
raises :class:`TrailIntegrityError` instead of reading as "nothing recorded".
"""

from __future__ import annotations

from collections.abc import Iterator

from governance.trail.chain import Event, Row
from governance.trail.errors import TrailIntegrityError
from governance.trail.formats import trail_format
from governance.trail.rowcheck import content_fault, run_id_needle
from governance.trail.store import Store


def event_of(row: Row) -> Event:
    """The event of a row; a row that holds no readable event is an integrity error at its seq."""
    try:
        return Event.from_row(row)
    except (ValueError, TypeError, KeyError, AttributeError, RecursionError) as err:
        raise TrailIntegrityError(f"entry {row.seq}: the recorded event cannot be read ({type(err).__name__}); "
                                  "run `rai trail verify`") from None


def checked_events(store: Store, run_id: str | None, kinds: list[str] | None, since: str | None,
                   after_seq: int, limit: int | None) -> Iterator[Event]:
    """Events matching the filters, read as described in the module docstring."""
    count, low, high = store.shape()
    if count and (low != 1 or high != count):
        raise TrailIntegrityError(f"{store.location}: the entries are not numbered 1..{count} without gaps "
                                  f"(seq {low}..{high}); run `rai trail verify`")
    needle = run_id_needle(run_id) if run_id is not None else None
    version = trail_format(store)
    shown = 0
    for row in store.rows(after_seq=after_seq, run_id=run_id, body_needle=needle, scan=True):
        fault = content_fault(row, version)
        if fault:
            raise TrailIntegrityError(f"{store.location}: entry {row.seq}: {fault}; run `rai trail verify`")
        event = event_of(row)
        if ((run_id is not None and event.run_id != run_id) or (kinds and event.kind not in kinds)
                or (since is not None and event.time < since)):
            continue
        yield event
        shown += 1
        if limit is not None and shown >= limit:
            return
