"""The tabs of the Run page, one function each, drawing a :class:`~dashboards.runview.RunView`.

Recorded text reaches Markdown only through :func:`dashboards.state.md`; tables, JSON and charts
show it as data.
"""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from dashboards import runview
from dashboards.runview import RunView
from dashboards.state import md
from governance.display import format_value
from governance.report.blocks import interval_verdict
from governance.report.layout_intervals import group_limits, inconclusive_paragraph, observed_text
from governance.vocabulary import STATUS_ORDER, finding_blocks

# Streamlit's coloured text for a finding's status; inconclusive reads apart from pass and fail.
STATUS_COLOUR = {"passed": "green", "failed": "red", "error": "red", "warning": "orange", "waived": "orange",
                 "inconclusive": "violet"}
VERDICT_COLOURS = alt.Scale(domain=["pass", "inconclusive", "fail"], range=["#4c78a8", "#6b2fa0", "#e45756"])


def timeline_tab(view: RunView) -> None:
    """Stages as spans in time, then every event of the run."""
    spans = runview.stage_spans(view.timeline)
    if not spans.empty:
        chart = alt.Chart(spans).mark_bar().encode(
            x=alt.X("start:T", title="time (UTC)"), x2="end:T", y=alt.Y("stage:N", sort=None, title=None),
            color=alt.Color("status:N", legend=None), tooltip=["stage", "status", "seconds"])
        st.altair_chart(chart, width="stretch")
    st.dataframe(view.timeline, hide_index=True, width="stretch", column_config={
        "time": st.column_config.DatetimeColumn("time", format="YYYY-MM-DD HH:mm:ss"),
        "elapsed_s": st.column_config.NumberColumn("elapsed (s)", format="%.1f"),
        "took_s": st.column_config.NumberColumn("since previous (s)", format="%.1f")})


def gates_tab(view: RunView) -> None:
    """Every gate decision; gates of LiteRT variants that are not deployed do not bind."""
    if view.gates.empty:
        st.info("No gate has decided in this run.")
        return
    st.dataframe(view.gates, hide_index=True, width="stretch")


def findings_tab(view: RunView) -> None:
    """Findings with filters, and the evidence of the one selected."""
    frame = view.findings_frame()
    if frame.empty:
        st.info("No findings recorded for this run.")
        return
    c = st.columns(4)
    statuses = c[0].multiselect("Status", _ordered(frame["status"]), key="f_status")
    stages = c[1].multiselect("Stage", sorted(frame["stage"].dropna().unique()), key="f_stage")
    severities = c[2].multiselect("Severity", sorted(frame["severity"].dropna().unique()), key="f_severity")
    text = c[3].text_input("Search rule, check, subject or message", key="f_text").strip().lower()
    keep = pd.Series(True, index=frame.index)
    for column, chosen in (("status", statuses), ("stage", stages), ("severity", severities)):
        if chosen:
            keep &= frame[column].isin(chosen)
    if text:
        haystack = frame[["rule_id", "check", "subject", "message"]].fillna("").agg(" ".join, axis=1)
        keep &= haystack.str.lower().str.contains(text, regex=False)
    shown = frame[keep]
    st.caption(f"{len(shown)} of {len(frame)} findings")
    st.dataframe(shown, hide_index=True, width="stretch")
    if not shown.empty:
        _evidence(view, list(shown.index))


def _evidence(view: RunView, indexes: list[int]) -> None:
    def label(i: int) -> str:
        f = view.findings[i]
        subject = f" ({f.get('subject')})" if f.get("subject") else ""
        return f"{f.get('stage')}{subject} · {f.get('rule_id')} · {f.get('status')}"

    # Open on the first blocking finding: the one a reviewer of a blocked run came to see.
    failed = [i for i in indexes if finding_blocks(view.findings[i])]
    blocking = [i for i in failed if view.findings[i].get("binding")] or failed
    pick = st.selectbox("Evidence of finding", indexes, index=indexes.index(blocking[0]) if blocking else 0,
                        format_func=label, key="f_pick")
    finding = view.findings[pick]
    st.text(str(finding.get("message") or ""))
    table = runview.group_table(finding)
    if table is None:
        table = runview.drift_table(finding.get("evidence"))
    if table is not None:
        st.dataframe(table, hide_index=True, width="stretch")
    st.json(finding.get("evidence") or {}, expanded=table is None)


def fairness_tab(view: RunView) -> None:
    """Per-group rates of every fairness finding (a group metric as points with its confidence
    intervals as error bars), and the group sizes of ``data.group_size``, charted and tabled
    (numeric bands such as ages in numeric order)."""
    shown = 0
    for f in view.findings:
        table = runview.group_table(f)
        if table is None:
            continue
        shown += 1
        subject = f" on {f['subject']}" if f.get("subject") else ""
        status = md(f.get("status"))
        if f.get("status") in STATUS_COLOUR:
            status = f":{STATUS_COLOUR[f['status']]}[**{status}**]"
        st.markdown(f"**{md(f.get('rule_id'))}** ({md(f.get('check'))}) at {md(f.get('stage'))}{md(subject)}: "
                    f"{status}, observed {md(observed_text(f))} against {md(view.threshold(f))}")
        if f.get("status") == "inconclusive":
            note = inconclusive_paragraph(f, view.rule_params.get(f.get("rule_id"), {})).text
            st.markdown(f":violet[{md(note)}]")
        chart = _interval_chart(table, f) or _rates_chart(table) or _sizes_chart(table, f.get("threshold"))
        if chart is not None:
            st.altair_chart(chart, width="stretch")
        st.dataframe(table, hide_index=True, width="stretch")
    if not shown:
        st.info("No fairness findings in this run.")


def _interval_chart(table: pd.DataFrame, finding: dict) -> alt.LayerChart | None:
    """Each compared group's metric as a point, its confidence interval as an error bar coloured
    by where it lies against the policy's bound (a dashed line), groups in the table's order."""
    evidence = finding.get("evidence") or {}
    metric = str(evidence.get("metric") or "value")
    if not {"low", "high", metric} <= set(table.columns):
        return None
    data = table[table[metric].notna() & (table["low"].notna() | table["high"].notna())]
    if "excluded" in data:
        data = data[~data["excluded"].fillna(False).astype(bool)]
    if data.empty:
        return None
    limits = group_limits(str(evidence.get("aggregate") or ""), finding.get("threshold"), data[metric].tolist())
    ends = pd.concat([data[metric], data["low"], data["high"], pd.Series([x.value for x in limits] + [0.0])])
    # An end the bootstrap could not close is recorded as null: its bar runs to the axis' end.
    data = data.assign(verdict=[interval_verdict(lo, hi, limits) for lo, hi in zip(data["low"], data["high"], strict=True)],
                       low=data["low"].fillna(ends.min()), high=data["high"].fillna(ends.max()))
    level = (evidence.get("confidence") or {}).get("level")
    title = f"{metric}, {level:.0%} interval" if isinstance(level, (int, float)) else metric
    base = alt.Chart(data).encode(y=alt.Y("group:N", sort=None, title=None),
                                  color=alt.Color("verdict:N", scale=VERDICT_COLOURS, title="interval"))
    tooltip = [c for c in ("group", "count", metric, "low", "high", runview.MDE, "verdict") if c in data]
    layers = [base.mark_errorbar(ticks=True, thickness=2).encode(x=alt.X("low:Q", title=title), x2="high:Q",
                                                                  tooltip=tooltip),
              base.mark_point(filled=True, size=70, opacity=1).encode(x=f"{metric}:Q", tooltip=tooltip)]
    if limits:
        lines = pd.DataFrame({"limit": [x.value for x in limits], "bound": [x.label for x in limits]})
        layers.append(alt.Chart(lines).mark_rule(strokeDash=[4, 3], color="#b3261e", size=2).encode(
            x="limit:Q", tooltip=["bound", "limit"]))
    return alt.layer(*layers)


def _rates_chart(table: pd.DataFrame) -> alt.Chart | None:
    """Selection rate, TPR and FPR side by side per group, groups in the table's order."""
    rates = [c for c in ("selection_rate", "tpr", "fpr") if c in table and table[c].notna().any()]
    if not rates:
        return None
    long = table.melt(id_vars="group", value_vars=rates, var_name="rate", value_name="value")
    return alt.Chart(long).mark_bar().encode(
        x=alt.X("group:N", title=None, sort=None), xOffset="rate:N", y=alt.Y("value:Q", title="rate"),
        color="rate:N", tooltip=["group", "rate", "value"])


def _sizes_chart(table: pd.DataFrame, minimum) -> alt.Chart | None:
    """Rows per group against the rule's minimum (``data.group_size``), groups too small in red."""
    if "count" not in table or not table["count"].notna().any():
        return None
    small = table["too_small"] if "too_small" in table else pd.Series(False, index=table.index)
    data = table.assign(too_small=small.fillna(False).astype(bool))
    bars = alt.Chart(data).mark_bar().encode(
        x=alt.X("group:N", title=None, sort=None), y=alt.Y("count:Q", title="rows"),
        color=alt.Color("too_small:N", scale=alt.Scale(domain=[False, True], range=["#4c78a8", "#e45756"]),
                        title="too small"), tooltip=["group", "count", "too_small"])
    if isinstance(minimum, (int, float)) and not isinstance(minimum, bool):
        return bars + alt.Chart(pd.DataFrame({"minimum": [minimum]})).mark_rule(strokeDash=[4, 3]).encode(y="minimum:Q")
    return bars


def privacy_tab(view: RunView) -> None:
    """The privacy budget spent against the policy's limit."""
    record = (view.privacy or {}).get("record") or {}
    if not record.get("dp"):
        st.info("This run did not train with differential privacy.")
        if view.privacy:
            st.text(str(view.privacy.get("statement") or ""))
        return
    epsilon, limit = record.get("epsilon"), view.epsilon_limit
    c = st.columns(4)
    c[0].metric("ε spent", format_value(epsilon))
    c[1].metric("δ", format_value(record.get("delta")))
    c[2].metric("Noise multiplier", format_value(record.get("noise_multiplier")))
    c[3].metric("ε limit (policy)", format_value(limit) if limit is not None else "none")
    if isinstance(epsilon, (int, float)) and limit:
        share = float(epsilon) / limit
        st.progress(min(1.0, share), text=f"{100 * share:.0f}% of the policy's privacy budget spent")
        bars = pd.DataFrame({"budget": ["ε spent", "ε limit"], "epsilon": [float(epsilon), float(limit)]})
        st.altair_chart(alt.Chart(bars).mark_bar().encode(x="epsilon:Q", y=alt.Y("budget:N", sort=None, title=None),
                                                          color=alt.Color("budget:N", legend=None)), width="stretch")
    st.text(str(view.privacy.get("statement") or ""))
    st.json(record, expanded=False)


def variants_tab(view: RunView) -> None:
    """The parent model beside each LiteRT variant: size, latency, accuracy, group gaps, gate."""
    if not view.optimization:
        st.info("No LiteRT variants recorded for this run.")
        return
    table = runview.variants_frame(view.optimization)
    st.dataframe(table, hide_index=True, width="stretch", column_config={
        "size_ratio": st.column_config.NumberColumn("size ratio", format="%.3f"),
        "accuracy_change": st.column_config.NumberColumn("accuracy change", format="%+.4f")})
    c1, c2 = st.columns(2)
    c1.caption("Accuracy")
    c1.bar_chart(table.set_index("model")[["accuracy"]], horizontal=True)
    c2.caption("Size (bytes)")
    c2.bar_chart(table.set_index("model")[["size_bytes"]], horizontal=True)


def drift_tab(view: RunView) -> None:
    """Per-column drift statistics against their thresholds."""
    if not view.drift:
        st.info("No drift report in this run.")
        return
    for report in view.drift:
        status = f": **{md(report['status'])}**" if report["status"] else ""
        share = f", {md(format_value(report['share']))} of columns drifted" if report["share"] is not None else ""
        st.markdown(f"{md(report['title'])}{status}{share}")
        table = report["table"]
        if {"column", "statistic"} <= set(table.columns):
            st.altair_chart(alt.Chart(table).mark_bar().encode(
                x=alt.X("statistic:Q"), y=alt.Y("column:N", sort="-x", title=None),
                color=alt.Color("drifted:N", scale=alt.Scale(domain=[False, True], range=["#4c78a8", "#e45756"])),
                tooltip=[c for c in ("column", "method", "statistic", "threshold", "drifted") if c in table]),
                width="stretch")
        st.dataframe(table, hide_index=True, width="stretch")


def oversight_tab(view: RunView) -> None:
    """Human approvals and waivers recorded for the run."""
    st.caption("Approvals")
    if view.approvals:
        st.dataframe(pd.DataFrame(view.approvals), hide_index=True, width="stretch")
    else:
        st.text("No approval recorded.")
    st.caption("Waivers applied")
    if view.waivers:
        st.dataframe(pd.DataFrame(view.waivers), hide_index=True, width="stretch")
    else:
        st.text("No waiver applied.")


def _ordered(values: pd.Series) -> list[str]:
    present = set(values.dropna())
    return [s for s in STATUS_ORDER if s in present] + sorted(present - set(STATUS_ORDER))
