"""Approvals: runs waiting for a human decision; recording one goes through ``rai approve``'s code path."""

import streamlit as st

from dashboards import queries
from dashboards.auth import current_actor
from dashboards.state import md, trail
from governance.errors import UserError
from governance.trail.approvals import approvals_for, record_approval

st.title("Approvals")
with trail() as t:
    pending = queries.pending_approvals(t)
    if pending.empty:
        st.success("No run is waiting for an approval.")
    else:
        st.dataframe(pending, hide_index=True, width="stretch")

    runs = queries.run_summaries(t)
    runs = runs[runs["kind"] == "pipeline"]
    if runs.empty:
        st.stop()
    ids = list(pending["run_id"]) + [r for r in runs["run_id"] if r not in set(pending["run_id"])]
    with st.form("approve"):
        run_id = st.selectbox("Run", ids)
        role = st.text_input("Role", "risk-officer")
        decision = st.radio("Decision", ["approve", "reject"], horizontal=True)
        comment = st.text_area("Comment")
        actor = current_actor()
        st.caption(f"Recorded as: {md(actor)}")
        submitted = st.form_submit_button("Record decision")
    if submitted:
        try:
            ev = record_approval(t, run_id, role, decision, actor=actor, comment=comment)
        except UserError as err:
            st.error(str(err))
        else:
            st.success(f"Recorded as trail event #{ev.seq}. Continue the run with `rai run --resume {run_id}`.")
    st.subheader("Approvals recorded for the selected run")
    st.dataframe(approvals_for(t, run_id), hide_index=True, width="stretch")
