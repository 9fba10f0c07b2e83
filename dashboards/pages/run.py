"""Run: stage timeline, gate decisions, findings and their evidence, privacy, LiteRT variants, drift."""

import streamlit as st

from dashboards import queries
from dashboards.state import md, trail

st.title("Run")
with trail() as t:
    runs = queries.run_summaries(t)
    if runs.empty:
        st.info("No runs recorded yet.")
        st.stop()
    ids = list(runs["run_id"])
    wanted = st.query_params.get("run")
    run_id = st.selectbox("Run", ids, index=ids.index(wanted) if wanted in ids else 0)
    st.query_params["run"] = run_id
    events = queries.run_events(t, run_id)

row = runs[runs["run_id"] == run_id].iloc[0]
icon = queries.RUN_STATUS_ICON.get(row["decision"], "")
st.subheader(f"{icon} {md(run_id)}: {md(row['decision'])}")
st.caption(f"model {md(row['model'])} · policy {md(row['policy'])} · started {md(row['started'])} by {md(row['actor'])}")

finished = [e for e in events if e.kind == "run.finished"]
if finished and finished[-1].payload.get("reasons"):
    with st.container(border=True):
        st.markdown("**Why:**")
        for reason in finished[-1].payload["reasons"]:
            st.text(str(reason))

timeline = queries.stage_timeline(events)
tab_findings, tab_timeline, tab_fair, tab_privacy, tab_variants, tab_drift = st.tabs(
    ["Findings", "Timeline", "Fairness", "Privacy", "LiteRT variants", "Drift"])

items = queries.findings(events)
with tab_timeline:
    st.dataframe(timeline, hide_index=True, width="stretch")

with tab_findings:
    frame = queries.findings_frame(items)
    c1, c2 = st.columns(2)
    statuses = c1.multiselect("Status", sorted(frame["status"].dropna().unique()))
    stages = c2.multiselect("Stage", sorted(frame["stage"].dropna().unique()))
    shown = frame
    if statuses:
        shown = shown[shown["status"].isin(statuses)]
    if stages:
        shown = shown[shown["stage"].isin(stages)]
    st.dataframe(shown, hide_index=True, width="stretch")
    if items:
        labels = [f"#{i} {f.get('stage')} · {f.get('rule_id')} · {f.get('status')}" for i, f in enumerate(items)]
        pick = st.selectbox("Evidence of finding", range(len(items)), format_func=lambda i: labels[i])
        st.json(items[pick].get("evidence") or {}, expanded=False)

with tab_fair:
    shown_any = False
    for f in items:
        table = queries.group_table(f)
        if table is None:
            continue
        shown_any = True
        subject = f" ({f['subject']})" if f.get("subject") else ""
        st.markdown(f"**{md(f.get('rule_id'))}** at {md(f.get('stage'))}{md(subject)}: {md(f.get('status'))}, "
                    f"observed {md(f.get('observed'))} vs threshold {md(f.get('threshold'))}")
        st.bar_chart(table.set_index("group")[["selection_rate", "tpr"]], stack=False)
        st.dataframe(table, hide_index=True, width="stretch")
    if not shown_any:
        st.info("No fairness findings in this run.")

with tab_privacy:
    record = queries.privacy_record(events)
    if not record or not record.get("dp"):
        st.info("This run did not use differential privacy.")
    else:
        limit = queries.epsilon_limit(events)
        c = st.columns(4)
        c[0].metric("ε spent", f"{record.get('epsilon', float('nan')):.3f}")
        c[1].metric("δ", f"{record.get('delta')}")
        c[2].metric("noise multiplier", f"{record.get('noise_multiplier', 0):.3f}")
        c[3].metric("ε limit", f"{limit:g}" if limit else "none")
        if limit:
            st.progress(min(1.0, float(record.get("epsilon", 0)) / limit),
                        text=f"{100 * float(record.get('epsilon', 0)) / limit:.0f}% of the policy's budget")
        st.json(record, expanded=False)

with tab_variants:
    table = queries.variants(events)
    if table is None:
        st.info("No LiteRT variants recorded for this run.")
    else:
        st.dataframe(table, hide_index=True, width="stretch")

with tab_drift:
    shown_any = False
    for f in items:
        table = queries.drift_table(f)
        if table is not None:
            shown_any = True
            st.markdown(f"**{md(f.get('rule_id'))}** at {md(f.get('stage'))}: {md(f.get('status'))}")
            st.dataframe(table, hide_index=True, width="stretch")
    if not shown_any:
        st.info("No drift findings in this run.")
