"""Charts of the PDF report: horizontal bars against a limit, and points with interval whiskers.

Both are drawn with fpdf2's lines and shapes, text in the embedded font; a chart that does not
fit the rest of a page keeps its title with its first rows on the next one.
"""

from __future__ import annotations

import math

from fpdf import FPDF

from governance.report.blocks import BarChart, IntervalChart
from governance.report.pdf_base import (
    BAR_COLOUR,
    FAMILY,
    KEEP_ROWS,
    SMALL,
    STATUS_COLOUR,
    TONE_COLOUR,
    drawable,
    new_page_unless_at_top,
)
from governance.report.text import fmt_interval, fmt_value

_ROW_H = 4.0  # mm per bar or point
_VERDICT_COLOUR = {"pass": BAR_COLOUR, "fail": STATUS_COLOUR["failed"], "inconclusive": STATUS_COLOUR["inconclusive"]}


def _text_lines(pdf: FPDF, lines: list[str]) -> None:
    for line in lines:
        pdf.multi_cell(0, 4, drawable(line), new_x="LMARGIN", new_y="NEXT", align="L")


def _limit_line(pdf: FPDF, x: float, top: float) -> None:
    """A dashed vertical line at ``x`` from ``top`` (or the page's top, if the rows moved on) down."""
    pdf.set_draw_color(*TONE_COLOUR["alert"])
    pdf.set_dash_pattern(dash=1, gap=0.8)
    pdf.line(x, top if top < pdf.get_y() else pdf.t_margin, x, pdf.get_y())
    pdf.set_dash_pattern()
    pdf.set_draw_color(0, 0, 0)


def bar_chart(pdf: FPDF, b: BarChart) -> None:
    """``b``'s bars, those beyond the limit in red, and the limit as a dashed line."""
    label_w, plot_w = 60.0, pdf.epw - 80.0
    new_page_unless_at_top(pdf, 4 + min(len(b.bars), KEEP_ROWS) * (_ROW_H + 1))  # title with its first bars
    pdf.set_font(FAMILY, "I", SMALL)
    _text_lines(pdf, [b.title])
    scale = b.scale_max
    pdf.set_font(FAMILY, size=SMALL)
    top = pdf.get_y()
    for label, value in b.bars:
        if pdf.will_page_break(_ROW_H + 1):
            pdf.add_page()
        x, y = pdf.l_margin, pdf.get_y()
        pdf.set_xy(x, y)
        pdf.cell(label_w - 2, _ROW_H, drawable(label)[:40], align="R")
        width = max(0.0, min(1.0, value / scale)) * plot_w if scale else 0.0
        pdf.set_fill_color(*(TONE_COLOUR["alert"] if b.violates(value) else BAR_COLOUR))
        pdf.rect(x + label_w, y + 0.4, max(width, 0.2), _ROW_H - 0.8, style="F")
        pdf.set_xy(x + label_w + width + 1.5, y)
        pdf.cell(20, _ROW_H, fmt_value(value))
        pdf.set_y(y + _ROW_H + 1)
    if b.limit is not None and scale:
        _limit_line(pdf, pdf.l_margin + label_w + max(0.0, min(1.0, b.limit / scale)) * plot_w, top)
        _text_lines(pdf, [f"{b.limit_label or 'limit'}: {fmt_value(b.limit)}"])
    _text_lines(pdf, b.notes)
    pdf.ln(2)


def interval_chart(pdf: FPDF, b: IntervalChart) -> None:
    """``b``'s points with whiskers (coloured by verdict: straddling a limit in the inconclusive
    colour), the limits as dashed lines, and ``value [low, high]`` beside each."""
    label_w, value_w = 55.0, 42.0
    plot_w = pdf.epw - label_w - value_w
    new_page_unless_at_top(pdf, 8 + min(len(b.points), KEEP_ROWS) * (_ROW_H + 1))
    pdf.set_font(FAMILY, "I", SMALL)
    _text_lines(pdf, [b.title])
    pdf.set_font(FAMILY, size=SMALL)
    top = pdf.get_y()
    for label, value, low, high in b.points:
        if pdf.will_page_break(_ROW_H + 1):
            pdf.add_page()
        x, y = pdf.l_margin, pdf.get_y()
        pdf.set_xy(x, y)
        pdf.cell(label_w - 2, _ROW_H, drawable(label)[:40], align="R")
        _whisker(pdf, b, x + label_w, plot_w, y + _ROW_H / 2, (value, low, high))
        pdf.set_xy(x + label_w + plot_w + 1.5, y)
        pdf.cell(value_w - 1.5, _ROW_H, drawable(fmt_interval(value, [low, high])))
        pdf.set_text_color(0, 0, 0)
        pdf.set_y(y + _ROW_H + 1)
    for limit in b.limits:
        _limit_line(pdf, pdf.l_margin + label_w + b.x(limit.value, plot_w), top)
    _text_lines(pdf, [f"{limit.label}: {fmt_value(limit.value)}" for limit in b.limits] + b.notes)
    pdf.ln(2)


def _whisker(pdf: FPDF, b: IntervalChart, left: float, plot_w: float, cy: float,
             numbers: tuple[float, float | None, float | None]) -> None:
    """One group's whisker, end caps (on bounded ends) and point; text colour set to its verdict's."""
    value, low, high = numbers
    colour = _VERDICT_COLOUR[b.verdict(low, high)]
    x0, x1 = left + b.x(low, plot_w, -math.inf), left + b.x(high, plot_w, math.inf)
    pdf.set_draw_color(*colour)
    pdf.set_fill_color(*colour)
    pdf.set_line_width(0.4)
    pdf.line(x0, cy, x1, cy)
    for end, bound in ((x0, low), (x1, high)):
        if bound is not None:
            pdf.line(end, cy - 1.2, end, cy + 1.2)
    x = left + b.x(value, plot_w)
    pdf.ellipse(x - 0.9, cy - 0.9, 1.8, 1.8, style="F")
    pdf.set_line_width(0.2)
    pdf.set_draw_color(0, 0, 0)
    pdf.set_text_color(*colour)
