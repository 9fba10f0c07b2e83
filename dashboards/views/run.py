"""Run: outcome, stage timeline, gate decisions, findings and their evidence, fairness per group,
privacy budget, LiteRT variants beside the parent, drift per column, approvals and waivers."""

import streamlit as st

from dashboards import data, runtabs
from dashboards.state import md, trail, trail_key

OUTCOME = {"passed": st.success, "blocked": st.error, "failed": st.error, "awaiting_approval": st.warning}

st.title("Run")
with trail() as t:
    key = trail_key(t)
    ids = data.run_ids(t, key)
    if not ids:
        st.info("No runs recorded yet.")
        st.stop()
    wanted = st.query_params.get("run")
    if wanted is not None and wanted not in ids:
        st.warning(f"The trail has no run {md(wanted)}; showing the newest run instead.")
    run_id = st.selectbox("Run (newest first)", ids, index=ids.index(wanted) if wanted in ids else 0)
    st.query_params["run"] = run_id
    view = data.run_view(t, key, run_id)

about = view.summary
st.header(md(run_id))
where = f" at {md(view.blocked_at)}" if view.blocked_at else ""
OUTCOME.get(view.decision, st.info)(f"Decision: **{md(view.decision)}**{where}")
st.caption(" · ".join(md(part) for part in [
    f"{about['kind']} run", f"model {about['model'] or '?'}", f"policy {about['policy'] or '?'}",
    f"started {about['started']} by {about['actor']}", f"last event {about['last_event']}",
    f"code {view.identity.get('code_revision') or 'unknown'}"]))
if view.reasons:
    with st.container(border=True):
        st.markdown("**Why**")
        for reason in view.reasons:
            st.text(f"• {reason}")

tabs = st.tabs(["Findings", "Timeline", "Gates", "Fairness", "Privacy", "LiteRT variants", "Drift",
                "Approvals & waivers"])
for tab, draw in zip(tabs, [runtabs.findings_tab, runtabs.timeline_tab, runtabs.gates_tab, runtabs.fairness_tab,
                            runtabs.privacy_tab, runtabs.variants_tab, runtabs.drift_tab, runtabs.oversight_tab], strict=True):
    with tab:
        draw(view)
