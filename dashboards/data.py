"""Cached reads for the pages, keyed on the trail's state (:func:`dashboards.state.trail_key`).

A key changes whenever the trail does, so a cached answer is never stale; and one cache serves
every session, so a second reader of the same trail state pays nothing. Arguments starting with
``_`` (the open trail) are not part of the key.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from dashboards import queries, runview
from dashboards.runindex import RunIndex
from dashboards.state import TrailKey
from governance.manifest import verify_manifest
from governance.trail.signing import KeyRing


@st.cache_resource(show_spinner=False)
def _run_index(root: str) -> RunIndex:
    return RunIndex()


def runs(t, key: TrailKey) -> pd.DataFrame:
    """Every run of the trail, newest first (see :mod:`dashboards.runindex`)."""
    return _run_index(key[0]).refresh(t, key)


def run_details(t, key: TrailKey, run_ids: list[str]) -> pd.DataFrame:
    """Start, actor, model, policy and required approvals of some runs (after :func:`runs`)."""
    return _run_index(key[0]).details(t, run_ids)


def with_details(t, key: TrailKey, runs: pd.DataFrame) -> pd.DataFrame:
    """``runs`` (rows of :func:`runs`) with their details, and each run's duration."""
    light = runs.drop(columns=["model", "started", "actor"])
    out = light.merge(run_details(t, key, list(runs["run_id"])), on="run_id", how="left")
    out["duration_s"] = (out["finished"] - out["started"]).dt.total_seconds()
    return out


@st.cache_data(max_entries=4, show_spinner=False)
def run_ids(_t, key: TrailKey) -> list[str]:
    """Every run id, newest first (by first event; a single indexed query, no event is decoded)."""
    return list(reversed(_t.runs()))


@st.cache_data(max_entries=4, show_spinner=False)
def pipeline_run_ids(_t, key: TrailKey) -> list[str]:
    """Ids of the runs that started a pipeline, newest first."""
    return queries.started_run_ids(_t)


@st.cache_data(max_entries=32, show_spinner="Reading the run…")
def run_view(_t, key: TrailKey, run_id: str) -> runview.RunView:
    """One run's view (see :func:`dashboards.runview.build_view`)."""
    return runview.build_view(_t, run_id)


@st.cache_data(max_entries=16, show_spinner="Filtering the log…")
def event_seqs(_t, key: TrailKey, run_id: str | None, kinds: tuple[str, ...], since: str | None) -> list[int]:
    """Seqs of the events matching the log's filters."""
    return queries.matching_seqs(_t, run_id, list(kinds), since)


@st.cache_data(max_entries=4, show_spinner=False)
def checkpoints(_t, key: TrailKey) -> pd.DataFrame:
    """Every known checkpoint (signatures are checked by verification, not here)."""
    rows = [{"tree_size": cp.tree_size, "time": cp.time, "key_id": cp.key_id, "root_hash": cp.root_hash,
             "source": cp.source} for cp in _t.checkpoints()]
    return pd.DataFrame(rows, columns=["tree_size", "time", "key_id", "root_hash", "source"])


@st.cache_data(max_entries=4, show_spinner=False)
def registrations(_t, key: TrailKey) -> pd.DataFrame:
    """Registered model versions (see :func:`dashboards.queries.registrations`)."""
    return queries.registrations(_t)


def manifest_status(entry: Path, keys_dir: Path) -> dict[str, Any]:
    """:func:`governance.manifest.verify_manifest` of a registry entry, re-run when a file changes."""
    return _manifest_status(str(entry), str(keys_dir), _stamp(entry), _stamp(keys_dir / "trusted"))


@st.cache_data(max_entries=512, show_spinner=False)
def _manifest_status(entry: str, keys_dir: str, entry_stamp: tuple, keys_stamp: tuple) -> dict[str, Any]:
    check = verify_manifest(Path(entry), KeyRing(Path(keys_dir)).trusted())
    return {"ok": check.ok, "problems": list(check.problems), "body": check.body, "key_id": check.key_id}


def _stamp(directory: Path) -> tuple:
    """Names, sizes and modification times of a directory's files: changes when any file does."""
    if not directory.is_dir():
        return ()
    return tuple((p.name, s.st_size, s.st_mtime_ns) for p in sorted(directory.iterdir()) if p.is_file()
                 for s in [p.stat()])
