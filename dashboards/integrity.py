"""The trail-integrity badge: a full verification, run beside the pages rather than inside them.

Verifying re-hashes every entry and evidence blob, which takes seconds on a trail of 100,000
events. So each trail state (see :func:`dashboards.state.trail_key`) is verified once, in a
separate process (it would otherwise hold the interpreter lock the pages need), shared by every
session; a page waits briefly for it, and otherwise shows "verifying" and polls until it is done.
That process is :mod:`dashboards.verify_process`. One runs at a time, and one whose trail state
was superseded while it waited is skipped: a trail that grows every second costs one
verification after another, not a pile of them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import streamlit as st

from dashboards.state import TrailKey, md

#: How long a page waits for a running verification before showing "verifying" (small trails
#: verify well within it, so their badge appears at once).
WAIT_S = 0.25
#: How often a waiting page asks again.
POLL_S = 1.0
#: A result is re-checked after this long even if nothing visible changed (e.g. PostgreSQL).
TTL_S = 600
_PROJECT = Path(__file__).resolve().parents[1]
_ONE_AT_A_TIME = threading.Lock()
_NEWEST: dict[str, TrailKey] = {}  # workspace root -> the newest trail state asked for


class Verification:
    """One verification of a trail state, run in a child process when its turn comes."""

    def __init__(self, key: TrailKey):
        self.key = key
        self.superseded = False
        self.result: dict[str, Any] | None = None
        self._done = threading.Event()
        _NEWEST[key[0]] = key
        threading.Thread(target=self._run, name="rai-verify", daemon=True).start()

    def _run(self) -> None:
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(_PROJECT), os.environ.get("PYTHONPATH")]))}
        try:
            with _ONE_AT_A_TIME:
                if _NEWEST.get(self.key[0]) != self.key:
                    self.superseded = True
                    return
                done = subprocess.run([sys.executable, "-m", "dashboards.verify_process", self.key[0]],
                                      capture_output=True, text=True, env=env, check=False)
            self.result = json.loads(done.stdout) if done.returncode == 0 else _failure(done.stderr)
        except (OSError, ValueError) as err:
            self.result = _failure(str(err))
        finally:
            self._done.set()

    def wait(self, seconds: float) -> dict[str, Any] | None:
        """The report as a dict; ``None`` while running (or when superseded) after ``seconds``."""
        self._done.wait(seconds)
        return self.result if self._done.is_set() else None

    @property
    def done(self) -> bool:
        """Finished, or skipped because the trail moved on."""
        return self._done.is_set()


def _failure(detail: str) -> dict[str, Any]:
    """A verification that could not run is not a pass: report it as a problem."""
    lines = [line for line in (detail or "").strip().splitlines() if line.strip()]
    message = f"verification could not run: {lines[-1] if lines else 'no output'}"
    return {"ok": False, "size": 0, "problems": [{"kind": "unreadable", "seq": None, "message": message}],
            "checkpoints_verified": 0, "latest_checkpoint": None, "blobs_checked": 0, "warnings": []}


@st.cache_resource(max_entries=8, ttl=TTL_S, show_spinner=False)
def verification(key: TrailKey) -> Verification:
    """The shared verification of one trail state (started on first request)."""
    return Verification(key)


def describe(problem: dict[str, Any]) -> str:
    """A problem as one line, e.g. ``entry 7: edited: ...``."""
    where = f"entry {problem['seq']}" if problem.get("seq") is not None else (problem.get("source") or "trail")
    return f"{where}: {problem.get('kind')}: {problem.get('message')}"


def badge(key: TrailKey) -> dict[str, Any] | None:
    """Show the integrity badge of the trail state ``key``; return the report once known."""
    result = verification(key).wait(WAIT_S)
    if result is None:
        _wait_for(key)
    elif result["ok"]:
        st.success(f"Trail intact: {result['size']:,} events; hash chain, Merkle root, "
                   f"{result['checkpoints_verified']} signed checkpoint(s) and {result['blobs_checked']} "
                   "evidence blob(s) verified.", icon="✅")
    else:
        problems = result["problems"]
        st.error(f"Trail TAMPERED or damaged: {len(problems)} problem(s). First: {md(describe(problems[0]))}",
                 icon="🚨")
    return result


def _wait_for(key: TrailKey) -> None:
    @st.fragment(run_every=POLL_S)
    def waiting() -> None:
        if verification(key).done:
            # The whole page, so that everything showing the result is redrawn; a superseded
            # state's page reruns on the trail's new state.
            st.rerun()
        st.info(f"Verifying the trail ({key[1]:,} events)… the badge appears when it is done.", icon="⏳")

    waiting()
