"""Overview: every run with its status, model, policy, decision and time; the trail's integrity."""

from urllib.parse import quote

import streamlit as st

from dashboards import data, integrity
from dashboards.queries import RUN_STATUS_ICON
from dashboards.state import md, trail, trail_key, workspace

PAGE_SIZES = [50, 100, 200, 500]
COLUMNS = ["status", "run_id", "open", "kind", "model", "policy", "decision", "blocked_at", "started", "finished",
           "duration_s", "actor"]


def counts(runs) -> None:
    """How many runs, and how many of them passed, blocked, wait or failed."""
    by_decision = runs["decision"].value_counts()
    cols = st.columns(5)
    cols[0].metric("Runs", f"{len(runs):,}")
    for col, (label, decision) in zip(cols[1:], [("Passed", "passed"), ("Blocked", "blocked"),
                                                 ("Awaiting approval", "awaiting_approval"), ("Failed", "failed")],
                                      strict=True):
        col.metric(label, f"{int(by_decision.get(decision, 0)):,}")


def filtered(runs):
    """The runs the reader's filters keep (kind, decision, part of the run id)."""
    c1, c2, c3 = st.columns([1, 1, 2])
    kinds = c1.multiselect("Kind", sorted(runs["kind"].dropna().unique()))
    decisions = c2.multiselect("Decision", sorted(runs["decision"].dropna().unique()))
    search = c3.text_input("Run id contains").strip().lower()
    if kinds:
        runs = runs[runs["kind"].isin(kinds)]
    if decisions:
        runs = runs[runs["decision"].isin(decisions)]
    if search:
        runs = runs[runs["run_id"].str.lower().str.contains(search, regex=False)]
    return runs


st.title("rai audit dashboard")
st.caption(f"Workspace {md(workspace().root)}")
with trail() as t:
    key = trail_key(t)
    integrity.badge(key)
    runs = data.runs(t, key)
    if runs.empty:
        st.info("No runs recorded yet. Run `rai run PIPELINE.yaml`, `rai monitor` or `rai audit ... --record`.")
        st.stop()
    counts(runs)
    shown = filtered(runs)
    c1, c2, c3 = st.columns([1, 1, 4], vertical_alignment="bottom")
    size = c1.selectbox("Runs per page", PAGE_SIZES, index=1)
    pages = max(1, -(-len(shown) // size))
    page = c2.number_input("Page", min_value=1, max_value=pages, value=1, help="1 is the newest")
    # Model, policy, start and actor come from each run's start event, decoded only for this page.
    table = data.with_details(t, key, shown.iloc[(page - 1) * size: page * size])

table["status"] = table["decision"].map(lambda d: RUN_STATUS_ICON.get(d, ""))
# A relative link keeps the dashboard's own address; the id is URL-encoded, never markup.
table["open"] = "run?run=" + table["run_id"].map(lambda r: quote(str(r), safe=""))
c3.caption(f"{len(shown):,} of {len(runs):,} runs · page {page:,} of {pages:,}, newest first")
st.dataframe(table[COLUMNS], hide_index=True, width="stretch", column_config={
    "open": st.column_config.LinkColumn("open", display_text="open ↗"),
    "started": st.column_config.DatetimeColumn("started", format="YYYY-MM-DD HH:mm:ss"),
    "finished": st.column_config.DatetimeColumn("finished", format="YYYY-MM-DD HH:mm:ss"),
    "duration_s": st.column_config.NumberColumn("duration (s)", format="%.1f"),
})
