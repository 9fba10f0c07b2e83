"""Overview: every run with its status, model, policy, decision and time; the trail's integrity."""

from urllib.parse import quote

import streamlit as st

from dashboards import data, integrity
from dashboards.queries import RUN_STATUS_ICON
from dashboards.state import md, trail, trail_key, workspace

st.title("rai audit dashboard")
st.caption(f"Workspace {md(workspace().root)}")
with trail() as t:
    key = trail_key(t)
    integrity.badge(key)
    runs = data.runs(t, key)

if runs.empty:
    st.info("No runs recorded yet. Run `rai run PIPELINE.yaml`, `rai monitor` or `rai audit ... --record`.")
    st.stop()

counts = runs["decision"].value_counts()
cols = st.columns(5)
cols[0].metric("Runs", f"{len(runs):,}")
cols[1].metric("Passed", f"{int(counts.get('passed', 0)):,}")
cols[2].metric("Blocked", f"{int(counts.get('blocked', 0)):,}")
cols[3].metric("Awaiting approval", f"{int(counts.get('awaiting_approval', 0)):,}")
cols[4].metric("Failed", f"{int(counts.get('failed', 0)):,}")

c1, c2, c3 = st.columns([1, 1, 2])
kinds = c1.multiselect("Kind", sorted(runs["kind"].dropna().unique()))
decisions = c2.multiselect("Decision", sorted(runs["decision"].dropna().unique()))
search = c3.text_input("Search run id, model or policy").strip().lower()
shown = runs
if kinds:
    shown = shown[shown["kind"].isin(kinds)]
if decisions:
    shown = shown[shown["decision"].isin(decisions)]
if search:
    text = (shown["run_id"] + " " + shown["model"].fillna("") + " " + shown["policy"].fillna("")).str.lower()
    shown = shown[text.str.contains(search, regex=False)]

table = shown[["run_id", "kind", "model", "policy", "decision", "blocked_at", "started", "finished", "duration_s",
               "actor"]].copy()
table.insert(0, "status", table["decision"].map(lambda d: RUN_STATUS_ICON.get(d, "")))
# A relative link keeps the dashboard's own address; the id is URL-encoded, never markup.
table.insert(2, "open", "run?run=" + table["run_id"].map(lambda r: quote(str(r), safe="")))
st.caption(f"{len(table):,} of {len(runs):,} runs, newest first")
st.dataframe(table, hide_index=True, width="stretch", column_config={
    "open": st.column_config.LinkColumn("open", display_text="open ↗"),
    "started": st.column_config.DatetimeColumn("started", format="YYYY-MM-DD HH:mm:ss"),
    "finished": st.column_config.DatetimeColumn("finished", format="YYYY-MM-DD HH:mm:ss"),
    "duration_s": st.column_config.NumberColumn("duration (s)", format="%.1f"),
})
