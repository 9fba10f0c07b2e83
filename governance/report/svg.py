"""Inline SVG charts (bars; points with interval whiskers): drawn as text, so an HTML report needs
no script, font or image file."""

from __future__ import annotations

import math
from html import escape

from governance.report.blocks import BarChart, IntervalChart
from governance.report.text import fmt_interval, fmt_value

WIDTH = 640
LABEL_W = 210  # room for labels such as "race=Asian-Pac-Islander, sex=Female"
VALUE_W = 70
BAR_H = 18
GAP = 6
TOP = 8


def _label(text: str, limit: int = 34) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def bar_chart_svg(chart: BarChart) -> str:
    """An accessible SVG (``role="img"`` with a title) of ``chart``'s horizontal bars."""
    scale = chart.scale_max
    plot_w = WIDTH - LABEL_W - VALUE_W
    height = TOP + len(chart.bars) * (BAR_H + GAP) + (18 if chart.limit is not None else 4)
    parts = [
        f'<svg role="img" class="chart" width="{WIDTH}" height="{height}" '
        f'viewBox="0 0 {WIDTH} {height}"><title>{escape(chart.title)}</title>'
    ]
    for i, (label, value) in enumerate(chart.bars):
        y = TOP + i * (BAR_H + GAP)
        w = max(0.0, min(1.0, value / scale)) * plot_w if scale else 0.0
        bad = chart.violates(value)
        parts.append(
            f'<text x="{LABEL_W - 6}" y="{y + BAR_H - 5}" text-anchor="end">{escape(_label(label))}</text>'
            f'<rect x="{LABEL_W}" y="{y}" width="{w:.1f}" height="{BAR_H}" class="{"bar-bad" if bad else "bar"}">'
            f"<title>{escape(label)}: {escape(fmt_value(value))}</title></rect>"
            f'<text x="{LABEL_W + w + 4:.1f}" y="{y + BAR_H - 5}">{escape(fmt_value(value))}</text>'
        )
    axis_bottom = TOP + len(chart.bars) * (BAR_H + GAP)
    parts.append(f'<line x1="{LABEL_W}" y1="{TOP - 2}" x2="{LABEL_W}" y2="{axis_bottom}" class="axis"/>')
    if chart.limit is not None and scale:
        x = LABEL_W + max(0.0, min(1.0, chart.limit / scale)) * plot_w
        parts.append(
            f'<line x1="{x:.1f}" y1="{TOP - 4}" x2="{x:.1f}" y2="{axis_bottom}" class="limit"/>'
            f'<text x="{x:.1f}" y="{axis_bottom + 12}" text-anchor="middle" class="limit-label">'
            f"{escape(chart.limit_label or 'limit')} {escape(fmt_value(chart.limit))}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


# Interval charts: a point per group, its interval as a whisker, and the text "v [low, high]".
INTERVAL_WIDTH = 720
INTERVAL_VALUE_W = 170
ROW_H = 18
HEAD = 34  # the line naming the metric (and saying when the finding is inconclusive), then the axis' ends
CAP = 4  # half the height of a whisker's end caps


def interval_layout(chart: IntervalChart) -> tuple[float, float]:
    """``(left, width)`` of the plot area of ``chart``'s SVG, in pixels."""
    return LABEL_W, INTERVAL_WIDTH - LABEL_W - INTERVAL_VALUE_W


def interval_chart_svg(chart: IntervalChart) -> str:
    """An SVG of ``chart``: whiskers from each interval's low to its high end, a point at the value.

    A point, whisker and value are classed by the group's verdict against the limits (``pass``,
    ``fail``, ``inconclusive``); the chart of an inconclusive finding says so in its first line.
    """
    left, plot_w = interval_layout(chart)
    bottom = HEAD + len(chart.points) * (ROW_H + GAP)
    height = bottom + (16 * len(chart.limits) if chart.limits else 4)
    status = chart.status.lower()
    parts = [f'<svg role="img" class="chart interval st-{escape(status, quote=True)}" width="{INTERVAL_WIDTH}" '
             f'height="{height}" viewBox="0 0 {INTERVAL_WIDTH} {height}"><title>{escape(chart.title)}</title>'
             f'<text x="0" y="14" class="chart-head">{escape(_label(chart.title, 90))}</text>']
    if status == "inconclusive":
        parts.append(f'<text x="{INTERVAL_WIDTH - 4}" y="14" text-anchor="end" class="badge-inconclusive">'
                     "INCONCLUSIVE</text>")
    for i, (label, value, low, high) in enumerate(chart.points):
        cy = HEAD + i * (ROW_H + GAP) + ROW_H / 2
        x0, x1 = left + chart.x(low, plot_w, -math.inf), left + chart.x(high, plot_w, math.inf)
        x, said = left + chart.x(value, plot_w), fmt_interval(value, [low, high])
        verdict = chart.verdict(low, high)
        parts.append(
            f'<text x="{left - 6}" y="{cy + 4:.1f}" text-anchor="end">{escape(_label(label))}</text>'
            f'<g class="{verdict}"><title>{escape(label)}: {escape(said)}</title>'
            f'<line class="whisker" x1="{x0:.1f}" y1="{cy:.1f}" x2="{x1:.1f}" y2="{cy:.1f}"/>'
            + "".join(f'<line class="cap" x1="{end:.1f}" y1="{cy - CAP:.1f}" x2="{end:.1f}" y2="{cy + CAP:.1f}"/>'
                      for end, bound in ((x0, low), (x1, high)) if bound is not None)
            + f'<circle class="point" cx="{x:.1f}" cy="{cy:.1f}" r="4"/></g>'
            f'<text x="{left + plot_w + 8}" y="{cy + 4:.1f}" class="{verdict}">{escape(said)}</text>')
    parts.append(f'<line x1="{left}" y1="{HEAD - 2}" x2="{left}" y2="{bottom}" class="axis"/>')
    for x, end, anchor in ((left, chart.scale[0], "start"), (left + plot_w, chart.scale[1], "end")):
        parts.append(f'<text x="{x:.1f}" y="{HEAD - 6}" text-anchor="{anchor}" class="tick">{escape(fmt_value(end, 3))}</text>')
    for k, limit in enumerate(chart.limits):
        x = left + chart.x(limit.value, plot_w)
        parts.append(f'<line x1="{x:.1f}" y1="{HEAD - 4}" x2="{x:.1f}" y2="{bottom}" class="limit"/>'
                     f'<text x="{x:.1f}" y="{bottom + 12 + 16 * k}" text-anchor="middle" class="limit-label">'
                     f"{escape(limit.label)} {escape(fmt_value(limit.value))}</text>")
    parts.append("</svg>")
    return "".join(parts)
