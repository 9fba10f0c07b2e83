"""PDF rendering with fpdf2 (pure Python, no system library), from the same blocks as HTML.

fpdf2's built-in Helvetica covers only Latin-1, so every text goes through :func:`latin1` first:
typographic characters get their ASCII spelling, accented letters outside Latin-1 lose their
accent, and anything else becomes ``?``. Nothing is dropped silently: a hash, a rule id or a
number is ASCII and always survives intact.
"""

from __future__ import annotations

import datetime as dt
import unicodedata

from fpdf import FPDF
from fpdf.fonts import FontFace

from governance.report.blocks import BarChart, Block, Bullets, Heading, KeyValues, Paragraph, Table
from governance.report.layout import report_blocks
from governance.report.text import fmt_value

_ASCII = {
    "\u2013": "-", "\u2014": "-", "\u2212": "-", "\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"',
    "\u2026": "...", "\u2264": "<=", "\u2265": ">=", "\u2260": "!=", "\u2248": "~", "\u2192": "->",
    "\u2190": "<-", "\u2022": "*", "\u2713": "ok", "\u2717": "x", "\u03b5": "epsilon", "\u03b4": "delta",
    "\u00a0": " ", "\u2009": " ", "\u202f": " ",
    # Letters without a decomposition into a Latin-1 base letter plus an accent.
    "\u0141": "L", "\u0142": "l", "\u0110": "D", "\u0111": "d", "\u0152": "OE", "\u0153": "oe", "\u0131": "i",
}
_TONE_COLOUR = {"alert": (179, 38, 30), "ok": (31, 122, 58), "note": (138, 90, 0)}
_HEADING_SIZE = {1: 17, 2: 13.5, 3: 11.5, 4: 10}
_BODY, _SMALL, _LINE = 9.5, 7.5, 4.6


def latin1(text: object) -> str:
    """``text`` using only characters the PDF core fonts can draw."""
    s = "".join(_ASCII.get(ch, ch) for ch in str(text))
    try:
        s.encode("latin-1")
        return s
    except UnicodeEncodeError:
        pass
    out = []
    for ch in s:
        if ord(ch) < 256:
            out.append(ch)
            continue
        base = unicodedata.normalize("NFKD", ch).encode("latin-1", "ignore").decode("latin-1")
        out.append(base if base and base.isprintable() else "?")
    return "".join(out)


class _Pdf(FPDF):
    def __init__(self, footer_text: str):
        super().__init__(format="A4")
        self._footer_text = latin1(footer_text)
        self.set_auto_page_break(True, margin=16)
        self.set_margins(16, 16, 16)

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font("Helvetica", size=7)
        self.set_text_color(110, 110, 110)
        self.cell(0, 5, f"{self._footer_text}  -  page {self.page_no()}/{{nb}}", align="C")
        self.set_text_color(0, 0, 0)


def _paragraph(pdf: FPDF, b: Paragraph) -> None:
    colour = _TONE_COLOUR.get(b.tone)
    pdf.set_font("Helvetica", "B" if b.tone == "alert" else "", _BODY)
    if colour:
        pdf.set_text_color(*colour)
    pdf.multi_cell(0, _LINE, latin1(b.text), new_x="LMARGIN", new_y="NEXT")
    pdf.set_text_color(0, 0, 0)
    pdf.ln(1.5)


def _column_widths(pdf: FPDF, body: list[list[str]]) -> tuple[float, ...]:
    """Widths that let short columns (numbers, hashes) keep their text on one line.

    Water-filling: a column that needs less than an equal share of what is left gets exactly
    what it needs; the columns that remain share the rest, so only long prose wraps.
    """
    n = max(len(r) for r in body)
    need = [max((pdf.get_string_width(r[i]) for r in body if i < len(r)), default=0) + 3.5 for i in range(n)]
    widths, left, todo = [0.0] * n, pdf.epw, list(range(n))
    while todo:
        share = left / len(todo)
        fits = [i for i in todo if need[i] <= share]
        if not fits:
            for i in todo:
                widths[i] = share
            break
        for i in fits:
            widths[i], left = need[i], left - need[i]
            todo.remove(i)
    if not todo and left > 0:  # everything fits: spread the spare width in proportion
        widths = [w + left * w / sum(widths) for w in widths]
    return tuple(widths)


def _table(pdf: FPDF, header: list[str], rows: list[list[str]], caption: str = "", headings: bool = True) -> None:
    if caption:
        pdf.set_font("Helvetica", "I", _SMALL)
        pdf.multi_cell(0, 4, latin1(caption), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=_SMALL)
    body = [[latin1(c) for c in row] for row in ([header] + rows if headings else rows)]
    if not body:
        return
    with pdf.table(text_align="LEFT", line_height=3.4, first_row_as_headings=headings, padding=0.8,
                   col_widths=_column_widths(pdf, body), width=pdf.epw,
                   headings_style=FontFace(emphasis="BOLD", fill_color=(238, 241, 245))) as table:
        for row in body:
            r = table.row()
            for cell in row:
                r.cell(cell)
    pdf.ln(2)


def _chart(pdf: FPDF, b: BarChart) -> None:
    pdf.set_font("Helvetica", "I", _SMALL)
    pdf.multi_cell(0, 4, latin1(b.title), new_x="LMARGIN", new_y="NEXT")
    label_w, plot_w, bar_h = 60.0, pdf.epw - 80.0, 4.0
    scale = b.scale_max
    pdf.set_font("Helvetica", size=_SMALL)
    for label, value in b.bars:
        if pdf.will_page_break(bar_h + 1):
            pdf.add_page()
        x, y = pdf.l_margin, pdf.get_y()
        pdf.set_xy(x, y)
        pdf.cell(label_w - 2, bar_h, latin1(label)[:40], align="R")
        width = max(0.0, min(1.0, value / scale)) * plot_w if scale else 0.0
        pdf.set_fill_color(*((179, 38, 30) if b.violates(value) else (74, 120, 181)))
        pdf.rect(x + label_w, y + 0.4, max(width, 0.2), bar_h - 0.8, style="F")
        pdf.set_xy(x + label_w + width + 1.5, y)
        pdf.cell(20, bar_h, fmt_value(value))
        pdf.set_y(y + bar_h + 1)
    if b.limit is not None and scale:
        pdf.multi_cell(0, 4, latin1(f"{b.limit_label or 'limit'}: {fmt_value(b.limit)}"), new_x="LMARGIN", new_y="NEXT")
    for note in b.notes:
        pdf.multi_cell(0, 4, latin1(note), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)


def _block(pdf: FPDF, b: Block) -> None:
    if isinstance(b, Heading):
        if b.level == 2 and pdf.get_y() > pdf.h - 60:  # do not strand a section title at a page foot
            pdf.add_page()
        pdf.ln(2 if b.level > 2 else 4)
        pdf.set_font("Helvetica", "B", _HEADING_SIZE.get(b.level, _BODY))
        pdf.multi_cell(0, _HEADING_SIZE.get(b.level, _BODY) * 0.5, latin1(b.text), new_x="LMARGIN", new_y="NEXT")
        pdf.ln(1)
    elif isinstance(b, Paragraph):
        _paragraph(pdf, b)
    elif isinstance(b, KeyValues):
        _table(pdf, [], [[k, v] for k, v in b.rows], headings=False)
    elif isinstance(b, Table):
        _table(pdf, b.header, b.rows, b.caption)
    elif isinstance(b, Bullets):
        pdf.set_font("Helvetica", size=_BODY)
        for item in b.items:
            pdf.multi_cell(0, _LINE, latin1(f"-  {item}"), new_x="LMARGIN", new_y="NEXT")
        pdf.ln(1.5)
    elif isinstance(b, BarChart):
        _chart(pdf, b)


def render_blocks_pdf(blocks: list[Block], title: str, created: str | None = None) -> bytes:
    """PDF bytes of ``blocks``; ``created`` (RFC 3339) becomes the document's creation date."""
    pdf = _Pdf(title)
    pdf.set_title(latin1(title))
    pdf.set_creator("rai")
    if created:
        stamp = dt.datetime.fromisoformat(created.replace("Z", "+00:00"))
        pdf.set_creation_date(stamp)
    pdf.add_page()
    for b in blocks:
        _block(pdf, b)
    return bytes(pdf.output())


def render_pdf(doc: dict) -> bytes:
    """The compliance report of ``doc`` (a ``ReportDocument.to_dict()``) as PDF bytes."""
    title = f"Compliance report: run {doc['run']['run_id']}"
    return render_blocks_pdf(report_blocks(doc), title, doc["generated"]["at"])
