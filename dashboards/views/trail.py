"""Audit trail: the paged, filterable event log; chain and checkpoint status; inclusion proofs."""

import datetime as dt
import json

import pandas as pd
import streamlit as st

from dashboards import data, integrity, queries
from dashboards.state import md, trail, trail_key
from governance.errors import UserError
from governance.trail import Checkpoint, TrailIntegrityError
from governance.trail.chain import normalize_time
from governance.trail.proofs import check_proof
from governance.vocabulary import EVENT_KINDS


def status(result: dict | None, checkpoints: pd.DataFrame, size: int) -> None:
    """What verification found, and how much of the trail signed checkpoints cover."""
    if result is None:
        return
    latest = result.get("latest_checkpoint") or {}
    covered = int(latest.get("tree_size") or 0)
    c = st.columns(4)
    c[0].metric("Events", f"{size:,}")
    c[1].metric("Checkpoints verified", f"{result.get('checkpoints_verified', 0)} of {len(checkpoints)}")
    c[2].metric("Covered by the latest checkpoint", f"{covered:,}")
    c[3].metric("Not yet checkpointed", f"{max(0, size - covered):,}")
    if latest:
        st.caption(f"Latest verified checkpoint: size {covered:,}, signed {md(latest.get('time'))} "
                   f"by key {md(str(latest.get('key_id'))[:16])}…")
    if result["problems"]:
        st.dataframe(pd.DataFrame(result["problems"]), hide_index=True, width="stretch")
    for warning in result.get("warnings") or []:
        st.warning(md(warning))


def log(t, key, size: int) -> None:
    """One page of the event log, newest first, under the chosen filters."""
    c = st.columns([2, 3, 2, 1, 1])
    run_id = c[0].text_input("Run id").strip() or None
    kinds = c[1].multiselect("Kinds", EVENT_KINDS)
    since_day = c[2].date_input("Since (UTC day)", value=None)
    page_size = c[4].selectbox("Per page", [25, 50, 100, 200], index=1)
    since = normalize_time(dt.datetime.combine(since_day, dt.time())) if since_day else None
    filtered = bool(run_id or kinds or since)
    seqs = data.event_seqs(t, key, run_id, tuple(kinds), since) if filtered else None
    total = len(seqs) if filtered else size
    pages = max(1, -(-total // page_size))
    page = c[3].number_input("Page", min_value=1, max_value=pages, value=1, help="1 is the newest")
    frame = queries.log_page(t, int(page), page_size, seqs, run_id, kinds, since)
    st.caption(f"{total:,} matching events · page {page:,} of {pages:,}, newest first")
    st.dataframe(frame, hide_index=True, width="stretch")


def proof(t, size: int) -> None:
    """An inclusion proof of one entry against the latest checkpoint, checked as a third party would."""
    st.subheader("Inclusion proof")
    seq = st.number_input("Entry (seq)", min_value=1, max_value=max(1, size), value=max(1, size))
    if st.button("Prove inclusion"):
        try:
            st.session_state["proof"] = t.prove(int(seq))
        except (UserError, TrailIntegrityError) as err:
            st.session_state.pop("proof", None)
            st.warning(f"No proof: {md(err)}")
    made = st.session_state.get("proof")
    if made is None or made["seq"] != int(seq):
        return
    failures, event = check_proof(made, Checkpoint.from_dict(made["checkpoint"], "the proof's checkpoint"))
    if failures:
        st.error(f"The proof does not check: {md('; '.join(failures))}")
    else:
        st.success(f"Entry {int(seq):,} is in the trail signed by the checkpoint of size {made['tree_size']:,} "
                   f"(audit path of {len(made['audit_path'])} hashes; the proof checks).")
    st.json(event or {}, expanded=False)
    st.download_button("Download proof (JSON)", json.dumps(made, indent=2, sort_keys=True),
                       file_name=f"proof-{int(seq)}.json", mime="application/json", on_click="ignore")


st.title("Audit trail")
with trail() as t:
    key = trail_key(t)
    size = key[1]
    result = integrity.badge(key)
    status(result, data.checkpoints(t, key), size)
    log(t, key, size)
    proof(t, size)
