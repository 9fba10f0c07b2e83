"""Which entry format a trail hashes, and how every reader tells without being told.

A trail's format is fixed by its first entry: the format under whose tag entry 1 hashes to its
entry hash (see :mod:`governance.trail.chain`). New trails write format 2 (RFC 8785 bodies);
trails begun in format 1 keep it, so that every entry of a trail is hashed one way. Nothing
outside the hashed entries says which format a trail has, so there is no label to forge: an
entry that hashes only under the other format, such as a format-1 entry after format-2 ones,
was not written by rai and is reported as edited, and a format-1 copy of a whole format-2 trail
is a rewritten chain, which its checkpoints expose.
"""

from __future__ import annotations

from governance.trail.chain import ENTRY_FORMAT, Row, format_of
from governance.trail.errors import TrailIntegrityError
from governance.trail.rowcheck import malformed

WINDOW = 64  # entries looked at when entry 1 itself does not hash (edited or deleted)


def row_format(row: Row) -> int | None:
    """The format under which the row hashes to its entry hash at its own seq, if any."""
    if malformed(row) is not None:
        return None
    return format_of(row.seq, row.prev_hash, row.body, row.entry_hash)


def trail_format(store) -> int:
    """The entry format of the trail in ``store`` (a :class:`~governance.trail.store.Store`).

    That of entry 1; when entry 1 hashes under no format (edited, or deleted), that of the first
    of the next entries that does, which verification then reports; the current format for an
    empty trail, or when no entry can tell. A damaged database reads as the current format
    here: the reader that walks it reports the damage. The entries are found by key (see
    :meth:`~governance.trail.store.Store.first_rows`): a wrong answer would fail every entry
    loudly, so nothing can hide behind it.
    """
    try:
        rows = store.first_rows(WINDOW)
    except TrailIntegrityError:
        return ENTRY_FORMAT
    for row in rows:
        found = row_format(row)
        if found is not None:
            return found
    return ENTRY_FORMAT
