"""Workspace, trail access, cache keys and Markdown escaping shared by the dashboard pages."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import streamlit as st

from governance.trail import Trail, TrailIntegrityError, TrailMissing, open_trail
from governance.workspace import Workspace

# Every ASCII punctuation character may be backslash-escaped in CommonMark; escaping them all
# leaves no markup, link, HTML tag, emoji shortcode or LaTeX for recorded text to smuggle in.
_MD_SPECIAL = re.compile(r"([!-/:-@\[-`{-~])")
_UNSAFE_FILENAME = re.compile(r"[^A-Za-z0-9._-]+")

TrailKey = tuple[str, int, str, tuple[int, ...]]


def workspace() -> Workspace:
    """The workspace the dashboard was started on (``RAI_WORKSPACE``, default ``.rai``)."""
    return Workspace.at(os.environ.get("RAI_WORKSPACE"))


@contextmanager
def trail() -> Iterator[Trail]:
    """The workspace's trail for one script run, opened without creating anything.

    SQLite connections must not cross threads, and Streamlit runs each script run in its own
    thread: so every run opens, and closes, its own connection. A missing or unreadable trail
    stops the page with a message instead of a traceback.
    """
    ws = workspace()
    try:
        t = open_trail(ws, create=False)
    except TrailMissing:
        st.info(f"No audit trail in the workspace {md(ws.root)} yet. Run `rai run PIPELINE.yaml` first, "
                "or start the dashboard with `--workspace DIR`.")
        st.stop()
    except TrailIntegrityError as err:
        st.error(f"The audit trail cannot be opened: {md(err)}")
        st.stop()
    try:
        yield t
    finally:
        t.close()


def md(text: object) -> str:
    """Escape data for Markdown, so that recorded strings are shown as typed, never as markup."""
    return _MD_SPECIAL.sub(r"\\\1", " ".join(str(text).split()))


def safe_filename(text: object) -> str:
    """``text`` reduced to characters that are safe in a download's file name."""
    return _UNSAFE_FILENAME.sub("_", str(text)).strip("._") or "download"


def trail_key(t: Trail) -> TrailKey:
    """A cache key that changes whenever the trail does: its size, head hash and file stamps.

    The head alone would not notice an entry edited in the middle of a SQLite file, so the
    database file's modification time and size, and its write-ahead log's size, are part of it.
    """
    size, head_hash = t.head()
    db = Path(t.location)  # a PostgreSQL URL names no file: its key is the head alone
    stamp = (_stat(db, "st_mtime_ns"), _stat(db, "st_size"), _stat(db.with_name(db.name + "-wal"), "st_size"))
    return str(t.workspace.root.resolve()), size, head_hash, stamp


def _stat(path: Path, field: str) -> int:
    # Only the WAL's size counts: every connection re-creates it (a new mtime) and removes it
    # when the last one closes, while its size grows with each write.
    try:
        return getattr(path.stat(), field)
    except OSError:
        return 0
