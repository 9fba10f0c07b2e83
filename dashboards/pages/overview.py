"""Overview: every run with its decision, and the trail's integrity badge."""

import streamlit as st

from dashboards import queries
from dashboards.state import head_key, integrity_badge, md, trail, verification, workspace

st.title("rai audit dashboard")
st.caption(f"Workspace: {md(workspace().root)}")
with trail() as t:
    key = head_key(t)
    integrity_badge(verification(str(workspace().root), key))
    runs = queries.run_summaries(t)

if runs.empty:
    st.info("No runs recorded yet. Run `rai run PIPELINE.yaml` or `rai audit ... --record`.")
else:
    counts = runs["decision"].value_counts()
    cols = st.columns(4)
    cols[0].metric("Runs", len(runs))
    cols[1].metric("Passed", int(counts.get("passed", 0)))
    cols[2].metric("Blocked", int(counts.get("blocked", 0)))
    cols[3].metric("Awaiting approval", int(counts.get("awaiting_approval", 0)))
    runs.insert(0, "", runs["decision"].map(lambda d: queries.RUN_STATUS_ICON.get(d, "")))
    st.dataframe(runs, hide_index=True, width="stretch")
