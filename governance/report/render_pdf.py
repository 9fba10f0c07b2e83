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
_ROW_LINE, _PAD = 3.3, 0.9  # table text line height and cell padding (mm)


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


def _width(pdf: FPDF, text: str) -> float:
    """Width of ``text`` in mm in the current core font (what ``get_string_width`` returns).

    Summed from the font's character widths: fpdf2's own method builds text fragments on every
    call, which made measuring the cells of a large report take seconds.
    """
    widths = pdf.current_font.cw
    return sum(widths.get(ch, 600) for ch in text) * pdf.font_size / 1000


def _column_widths(pdf: FPDF, head: list[str] | None, body: list[list[str]]) -> tuple[float, ...]:
    """Widths that let short columns (numbers, hashes) keep their text on one line.

    Rows are rectangular. Water-filling: a column that needs less than an equal share of what
    is left gets exactly what it needs; the columns that remain share the rest, so only long
    prose wraps.
    """
    columns = list(zip(*body, strict=True)) if body else [()] * len(head or [])
    need = [max((_width(pdf, c) for c in col), default=0) for col in columns]
    if head:  # headings are bold, hence wider
        pdf.set_font("Helvetica", "B", _SMALL)
        need = [max(w, _width(pdf, h)) for w, h in zip(need, head, strict=True)]
        pdf.set_font("Helvetica", "", _SMALL)
    need = [w + 2 * _PAD + 0.5 for w in need]
    widths, left, todo = [0.0] * len(need), pdf.epw, list(range(len(need)))
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


def _wrap(pdf: FPDF, text: str, width: float) -> list[str]:
    """Lines of ``text`` within ``width`` mm: greedy by words, by characters inside a long word."""
    out: list[str] = []
    for paragraph in text.split("\n"):
        if _width(pdf, paragraph) <= width:
            out.append(paragraph)
            continue
        line = ""
        for word in paragraph.split(" "):
            candidate = f"{line} {word}" if line else word
            if _width(pdf, candidate) <= width:
                line = candidate
                continue
            if line:
                out.append(line)
            line = ""
            for ch in word:  # hashes and JSON have no spaces to break at
                if line and _width(pdf, line + ch) > width:
                    out.append(line)
                    line = ""
                line += ch
        out.append(line)
    return out


def _layout_row(pdf: FPDF, cells: list[str], widths: tuple[float, ...], bold: bool) -> tuple[list[list[str]], float]:
    """The wrapped lines of each cell and the row's height (its tallest cell)."""
    pdf.set_font("Helvetica", "B" if bold else "", _SMALL)
    lines = [_wrap(pdf, cell, w - 2 * _PAD) for cell, w in zip(cells, widths, strict=True)]
    return lines, max(len(cell) for cell in lines) * _ROW_LINE + 2 * _PAD


def _draw_row(pdf: FPDF, lines: list[list[str]], widths: tuple[float, ...], height: float, bold: bool) -> None:
    pdf.set_font("Helvetica", "B" if bold else "", _SMALL)
    x, y = pdf.l_margin, pdf.get_y()
    for cell_lines, w in zip(lines, widths, strict=True):
        pdf.rect(x, y, w, height, style="DF" if bold else "D")
        for k, text in enumerate(cell_lines):
            pdf.text(x + _PAD, y + _PAD + (k + 0.78) * _ROW_LINE, text)
        x += w
    pdf.set_y(y + height)


def _table(pdf: FPDF, header: list[str], rows: list[list[str]], caption: str = "", headings: bool = True) -> None:
    """A bordered table; the header row is repeated after every page break.

    Drawn directly rather than with ``FPDF.table``, which lays every cell out twice and took
    seconds for the per-group tables of a full run.
    """
    if caption:
        pdf.set_font("Helvetica", "I", _SMALL)
        pdf.multi_cell(0, 4, latin1(caption), new_x="LMARGIN", new_y="NEXT")
    n = max(len(r) for r in [header, *rows])
    head = [latin1(c) for c in header] + [""] * (n - len(header)) if headings and header else None
    body = [[latin1(c) for c in row] + [""] * (n - len(row)) for row in rows]
    if not n or not (body or head):
        return
    pdf.set_font("Helvetica", size=_SMALL)
    widths = _column_widths(pdf, head, body)
    pdf.set_draw_color(200, 205, 212)
    pdf.set_fill_color(238, 241, 245)
    head_layout = _layout_row(pdf, head, widths, bold=True) if head else None
    if head_layout:
        _draw_row(pdf, head_layout[0], widths, head_layout[1], True)
    for row in body:
        lines, height = _layout_row(pdf, row, widths, bold=False)
        if pdf.will_page_break(height):
            pdf.add_page()
            if head_layout:
                _draw_row(pdf, head_layout[0], widths, head_layout[1], True)
        _draw_row(pdf, lines, widths, height, False)
    pdf.set_draw_color(0, 0, 0)
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
