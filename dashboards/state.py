"""Workspace, trail access and caching shared by the dashboard pages."""

from __future__ import annotations

import os
import re
from contextlib import contextmanager
from typing import Iterator

import streamlit as st

from governance.trail import open_trail
from governance.workspace import Workspace

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$])")


def workspace() -> Workspace:
    """The workspace the dashboard was started on (``RAI_WORKSPACE``, default ``.rai``)."""
    return Workspace.at(os.environ.get("RAI_WORKSPACE"))


@contextmanager
def trail() -> Iterator:
    """A trail connection for one script run (SQLite connections must not cross threads)."""
    t = open_trail(workspace())
    try:
        yield t
    finally:
        t.close()


def md(text: object) -> str:
    """Escape data for Markdown so that recorded strings can never inject markup or HTML."""
    return _MD_SPECIAL.sub(r"\\\1", str(text))


def head_key(t) -> tuple[int, str]:
    """A cache key that changes whenever the trail grows."""
    size, head_hash = t.head()
    return size, head_hash


@st.cache_data(show_spinner="Verifying the trail…", max_entries=8)
def verification(root: str, key: tuple[int, str]) -> dict:
    """Verify the whole trail once per trail head (the key), return a plain dict."""
    t = open_trail(Workspace.at(root))
    try:
        report = t.verify()
    finally:
        t.close()
    problems = [str(p) for p in getattr(report, "problems", [])]
    return {"ok": bool(report.ok), "size": getattr(report, "size", key[0]), "problems": problems}


def integrity_badge(result: dict) -> None:
    """Green when the trail verifies, red naming the first problem otherwise."""
    if result["ok"]:
        st.success(f"Trail intact: {result['size']:,} events, hash chain and signed checkpoints verified.")
    else:
        first = result["problems"][0] if result["problems"] else "verification failed"
        st.error(f"Trail TAMPERED: {first}")
