"""Approvals: runs waiting for a human decision, and recording one.

Recording goes through :func:`governance.trail.approvals.record_approval`, the function behind
``rai approve``, with the actor named: the signed-in user when sign-in is configured, otherwise
the name typed here (as ``rai approve --actor`` takes it).
"""

import pandas as pd
import streamlit as st

from dashboards import data, queries
from dashboards.auth import signed_in_identity
from dashboards.state import md, trail, trail_key
from governance.errors import UserError
from governance.trail import default_actor
from governance.trail.approvals import DECISIONS, approvals_for, record_approval


def pending(t, key, runs: pd.DataFrame) -> pd.DataFrame:
    """Runs whose latest decision is ``awaiting_approval``, with the approvals still missing."""
    waiting = data.with_details(t, key, runs[runs["decision"] == "awaiting_approval"])
    recorded = queries.approvals_by_run(t, set(waiting["run_id"]))
    rows = []
    for run in waiting.itertuples():
        missing = queries.missing_approvals(run.approvals_needed or (), recorded.get(run.run_id, []))
        rows.append({"run_id": run.run_id, "model": run.model, "waiting_since": run.finished,
                     "waiting_for": ", ".join(missing) or "nothing: ready to resume",
                     "resume": f"rai run --resume {run.run_id}"})
    return pd.DataFrame(rows, columns=["run_id", "model", "waiting_since", "waiting_for", "resume"])


def record_form(t, run_id: str, needed: tuple) -> None:
    """The approval form for ``run_id``; on submit, one ``approval.recorded`` event."""
    roles = [role for role, _ in needed] or ["risk-officer"]
    identity = signed_in_identity()
    with st.form("approve", clear_on_submit=True):
        role = st.selectbox("Role", roles, accept_new_options=True)
        decision = st.radio("Decision", DECISIONS, horizontal=True)
        comment = st.text_area("Comment (recorded with the decision)")
        if identity is None:
            actor = st.text_input("Your name (recorded as the actor)", value=default_actor())
        else:
            actor = identity
            st.caption(f"Recorded as {md(identity)} (signed in)")
        submitted = st.form_submit_button("Record decision", type="primary")
    if not submitted:
        return
    if not actor.strip():
        st.error("Name the person deciding: the trail records who approved.")
        return
    try:
        ev = record_approval(t, run_id, role, decision, actor=actor.strip(), comment=comment.strip() or None)
    except UserError as err:
        st.error(md(err))
        return
    # Shown after the rerun below, so that the tables above already include the new event.
    st.session_state["approval_recorded"] = md(
        f"Recorded as trail event #{ev.seq}: {ev.payload['role']} {decision}s run {run_id}, actor {ev.actor}. "
        f"Continue the run with: rai run --resume {run_id}")
    st.rerun()


st.title("Approvals")
if "approval_recorded" in st.session_state:
    st.success(st.session_state.pop("approval_recorded"), icon="✍️")
with trail() as t:
    key = trail_key(t)
    runs = data.runs(t, key)
    runs = runs[runs["kind"] == "pipeline"]
    waiting = pending(t, key, runs)
    if waiting.empty:
        st.success("No run is waiting for an approval.")
    else:
        st.dataframe(waiting, hide_index=True, width="stretch")
    if runs.empty:
        st.stop()
    first = list(waiting["run_id"])
    waiting_ids = set(first)
    ids = first + [r for r in runs["run_id"] if r not in waiting_ids]
    run_id = st.selectbox("Run to decide on (waiting runs first)", ids)
    record_form(t, run_id, data.run_details(t, key, [run_id])["approvals_needed"].iloc[0] or ())
    st.subheader("Decisions recorded for this run")
    recorded = approvals_for(t, run_id)
    if recorded:
        st.dataframe(pd.DataFrame(recorded), hide_index=True, width="stretch")
    else:
        st.text("None yet.")
