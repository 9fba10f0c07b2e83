"""Monitoring: the served model's decisions over time, window by window, against the policy.

Each model's windows are charted in its task's terms (:data:`dashboards.monitoring.SERIES`):
selection-rate gap and accuracy for classifiers (multiclass: the worst class's gap), mean-prediction
gap and MAE for regression. One model at a time, so that numbers of different models never share
an axis.
"""

import altair as alt
import pandas as pd
import streamlit as st

from dashboards import monitoring
from dashboards.state import md, trail, trail_key

TITLES = {"drift_share": "Share of drifted columns", "selection_rate_gap": "Largest selection-rate gap between groups",
          "accuracy": "Accuracy (windows with outcomes)", "mean_prediction_gap": "Largest gap in mean prediction between groups",
          "mae": "MAE (windows with outcomes)"}
#: What a title adds for a task whose number is not the binary one.
QUALIFIERS = {("multiclass", "selection_rate_gap"): " (worst class)"}
TASK_NOTES = {
    "binary": "Binary model: the gap is the largest difference in selection rate between the groups of a sensitive column.",
    "multiclass": "Multiclass model: the gap is that of the worst class, the class whose selection rate differs most "
                  "between the groups of a sensitive column; accuracy is the share of decisions of the right class.",
    "regression": "Regression model: the gap is the largest difference in mean prediction between the groups of a "
                  "sensitive column; MAE is the mean absolute error, in the target's units.",
}
_TASK_COLUMNS = {c for series in monitoring.SERIES.values() for c in series} - {"drift_share"}


@st.cache_data(show_spinner=False, max_entries=8)
def _windows(_t, key) -> tuple[pd.DataFrame, pd.DataFrame]:
    return monitoring.windows(_t)


def title(task: str, metric: str) -> str:
    """The chart title of ``metric`` for a model of ``task``."""
    return TITLES[metric] + QUALIFIERS.get((task, metric), "")


def thresholds(limits: pd.DataFrame, metric: str) -> pd.DataFrame:
    """Each rule's threshold on ``metric`` as of the latest window it judged (``rule_id``, ``threshold``)."""
    bound = limits[(limits["metric"] == metric) & limits["threshold"].notna()]
    latest = bound.sort_values("start", kind="stable").groupby("rule_id", sort=True).tail(1)
    return latest[["rule_id", "threshold"]].astype({"threshold": float}).reset_index(drop=True)


def chart(table: pd.DataFrame, limits: pd.DataFrame, metric: str, name: str) -> alt.Chart | None:
    """One metric per window as a line, blocked windows marked, each rule's threshold as a dashed rule."""
    points = table[table[metric].notna()][["start", metric, "decision", "rows", "run_id"]]
    if points.empty:
        return None
    line = alt.Chart(points).mark_line(point=True).encode(
        x=alt.X("start:T", title="window start (UTC)"), y=alt.Y(f"{metric}:Q", title=name),
        tooltip=["start:T", f"{metric}:Q", "rows:Q", "decision:N", "run_id:N"])
    blocked = alt.Chart(points[points["decision"] == "blocked"]).mark_point(size=120, filled=True, color="#d62728").encode(
        x="start:T", y=f"{metric}:Q")
    layers = [line, blocked]
    rules = thresholds(limits, metric)
    if not rules.empty:
        layers.append(alt.Chart(rules).mark_rule(strokeDash=[6, 4], color="#7f7f7f").encode(
            y="threshold:Q", tooltip=["rule_id:N", "threshold:Q"]))
    return alt.layer(*layers)


st.title("Monitoring")
with trail() as t:
    table, limits = _windows(t, trail_key(t))
if table.empty:
    st.info("No monitoring windows yet. Serve a model with `rai serve`, then audit its prediction log with "
            "`rai monitor --log --model NAME --window 1h` (add `--labels FILE` when outcomes arrive).")
    st.stop()
tasks = table.groupby("model")["task"].last().to_dict()
models = sorted(tasks)
model = st.selectbox("Model", models, index=models.index(table["model"].iloc[-1]),
                     format_func=lambda m: f"{m} ({tasks[m]})")
task = tasks[model]
table = table[table["model"] == model].reset_index(drop=True)
limits = limits[limits["run_id"].isin(set(table["run_id"]))]
blocked = table[table["decision"] == "blocked"]
st.caption(TASK_NOTES[task])
cols = st.columns(4)
cols[0].metric("Windows", len(table))
cols[1].metric("Blocked windows", len(blocked))
cols[2].metric("Decisions", int(table["rows"].sum()))
cols[3].metric("With outcomes", int(table["labelled"].sum()))
if len(blocked):
    st.error(f"{len(blocked)} of {len(table)} windows blocked; the latest from {md(blocked['start'].iloc[-1])}.")
for metric in monitoring.SERIES[task]:
    drawn = chart(table, limits, metric, title(task, metric))
    if drawn is not None:
        st.subheader(title(task, metric))
        st.altair_chart(drawn, width="stretch")
st.subheader("Windows")
shown = table.drop(columns=[c for c in _TASK_COLUMNS if c not in monitoring.SERIES[task]] + ["task"])
st.dataframe(shown.assign(open="run?run=" + shown["run_id"]), hide_index=True, width="stretch", column_config={
    "start": st.column_config.DatetimeColumn("start", format="YYYY-MM-DD HH:mm:ss"),
    "end": st.column_config.DatetimeColumn("end", format="YYYY-MM-DD HH:mm:ss"),
    "open": st.column_config.LinkColumn("run", display_text="open"),
})
