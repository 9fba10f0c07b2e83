"""Monitoring: the served model's decisions over time, window by window, against the policy."""

import altair as alt
import pandas as pd
import streamlit as st

from dashboards import monitoring
from dashboards.state import md, trail, trail_key

SERIES = {"drift_share": "Share of drifted columns", "selection_rate_gap": "Largest selection-rate gap between groups",
          "accuracy": "Accuracy (windows with outcomes)"}


@st.cache_data(show_spinner=False, max_entries=8)
def _windows(_t, key) -> tuple[pd.DataFrame, pd.DataFrame]:
    return monitoring.windows(_t)


def chart(table: pd.DataFrame, limits: pd.DataFrame, metric: str) -> alt.Chart | None:
    """One metric per window as a line, blocked windows marked, the policy's threshold as a rule."""
    points = table[table[metric].notna()][["start", metric, "decision", "rows", "run_id"]]
    if points.empty:
        return None
    line = alt.Chart(points).mark_line(point=True).encode(
        x=alt.X("start:T", title="window start (UTC)"), y=alt.Y(f"{metric}:Q", title=SERIES[metric]),
        tooltip=["start:T", f"{metric}:Q", "rows:Q", "decision:N", "run_id:N"])
    blocked = alt.Chart(points[points["decision"] == "blocked"]).mark_point(size=120, filled=True, color="#d62728").encode(
        x="start:T", y=f"{metric}:Q")
    layers = [line, blocked]
    bound = limits[(limits["metric"] == metric) & limits["threshold"].notna()]
    if not bound.empty:
        rule = pd.DataFrame({"threshold": [float(bound["threshold"].iloc[-1])]})
        layers.append(alt.Chart(rule).mark_rule(strokeDash=[6, 4], color="#7f7f7f").encode(y="threshold:Q"))
    return alt.layer(*layers)


st.title("Monitoring")
with trail() as t:
    table, limits = _windows(t, trail_key(t))
if table.empty:
    st.info("No monitoring windows yet. Serve a model with `rai serve`, then audit its prediction log with "
            "`rai monitor --log --model NAME --window 1h` (add `--labels FILE` when outcomes arrive).")
    st.stop()
models = sorted(table["model"].unique())
model = st.selectbox("Model", models, index=len(models) - 1)
table = table[table["model"] == model].reset_index(drop=True)
limits = limits[limits["run_id"].isin(set(table["run_id"]))]
blocked = table[table["decision"] == "blocked"]
cols = st.columns(4)
cols[0].metric("Windows", len(table))
cols[1].metric("Blocked windows", len(blocked))
cols[2].metric("Decisions", int(table["rows"].sum()))
cols[3].metric("With outcomes", int(table["labelled"].sum()))
if len(blocked):
    st.error(f"{len(blocked)} of {len(table)} windows blocked; the latest from {md(blocked['start'].iloc[-1])}.")
for metric in SERIES:
    drawn = chart(table, limits, metric)
    if drawn is not None:
        st.subheader(SERIES[metric])
        st.altair_chart(drawn, width="stretch")
st.subheader("Windows")
st.dataframe(table.assign(open="run?run=" + table["run_id"]), hide_index=True, width="stretch", column_config={
    "start": st.column_config.DatetimeColumn("start", format="YYYY-MM-DD HH:mm:ss"),
    "end": st.column_config.DatetimeColumn("end", format="YYYY-MM-DD HH:mm:ss"),
    "open": st.column_config.LinkColumn("run", display_text="open"),
})
