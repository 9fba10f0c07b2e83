"""Inline SVG bar charts: drawn as text, so an HTML report needs no script, font or image file."""

from __future__ import annotations

from html import escape

from governance.report.blocks import BarChart
from governance.report.text import fmt_value

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
