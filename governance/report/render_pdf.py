"""PDF rendering with fpdf2 (pure Python, no system library), from the same blocks as HTML.

The font, and how text outside it is written, are in :mod:`governance.report.pdf_base`; charts
are drawn by :mod:`governance.report.pdf_charts`.
"""

from __future__ import annotations

import datetime as dt

from fpdf import FPDF

from governance.report.blocks import (
    BarChart,
    Block,
    Bullets,
    Heading,
    IntervalChart,
    KeyValues,
    Paragraph,
    Table,
)
from governance.report.layout import report_blocks
from governance.report.pdf_base import (
    FAMILY,
    FONT_DIR,
    FONT_FILES,
    KEEP_ROWS,
    SMALL,
    STATUS_COLOUR,
    TONE_COLOUR,
    drawable,
    new_page_unless_at_top,
)
from governance.report.pdf_charts import bar_chart, interval_chart

__all__ = ["drawable", "render_blocks_pdf", "render_pdf"]

_HEADING_SIZE = {1: 16, 2: 13, 3: 11, 4: 9.5}
_BODY, _LINE = 9, 4.4
_ROW_LINE, _PAD = 3.2, 0.9  # table text line height and cell padding (mm)
_KEEP_AFTER_HEADING = 22.0  # mm of the next block a sub-heading needs below it on its page


class _Pdf(FPDF):
    def __init__(self, footer_text: str):
        super().__init__(format="A4")
        for style, name in FONT_FILES.items():
            self.add_font(FAMILY, style, FONT_DIR / name)
        self._footer_text = drawable(footer_text)
        self.set_auto_page_break(True, margin=16)
        self.set_margins(16, 16, 16)

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(FAMILY, size=6.5)
        self.set_text_color(110, 110, 110)
        self.cell(0, 5, f"{self._footer_text}  ·  page {self.page_no()}/{{nb}}", align="C")
        self.set_text_color(0, 0, 0)


def _paragraph(pdf: FPDF, b: Paragraph) -> None:
    if b.text.rstrip().endswith(":"):  # a lead-in ("Registered:") stays with what it introduces
        new_page_unless_at_top(pdf, _LINE + _KEEP_AFTER_HEADING)
    colour = TONE_COLOUR.get(b.tone)
    pdf.set_font(FAMILY, "B" if b.tone in ("alert", "unsure") else "", _BODY)
    if colour:
        pdf.set_text_color(*colour)
    pdf.multi_cell(0, _LINE, drawable(b.text), new_x="LMARGIN", new_y="NEXT", align="L")
    pdf.set_text_color(0, 0, 0)
    pdf.ln(1.5)


def _width(pdf: FPDF, text: str) -> float:
    """Width of ``text`` in mm in the current font (what ``get_string_width`` returns).

    Summed from the font's glyph widths: fpdf2's own method builds text fragments on every call,
    which made measuring the cells of a large report take seconds.
    """
    widths = pdf.current_font.cw
    return sum(widths[ord(ch)] for ch in text) * pdf.font_size / 1000


def _column_widths(pdf: FPDF, head: list[str] | None, body: list[list[str]]) -> tuple[float, ...]:
    """Widths that let short columns (numbers, hashes) keep their text on one line.

    Rows are rectangular. Water-filling: a column that needs less than an equal share of what
    is left gets exactly what it needs; the columns that remain share the rest, so only long
    prose wraps.
    """
    columns = list(zip(*body, strict=True)) if body else [()] * len(head or [])
    need = [max((_width(pdf, c) for c in col), default=0) for col in columns]
    if head:  # headings are bold, hence wider
        pdf.set_font(FAMILY, "B", SMALL)
        need = [max(w, _width(pdf, h)) for w, h in zip(need, head, strict=True)]
        pdf.set_font(FAMILY, "", SMALL)
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
    pdf.set_font(FAMILY, "B" if bold else "", SMALL)
    lines = [_wrap(pdf, cell, w - 2 * _PAD) for cell, w in zip(cells, widths, strict=True)]
    return lines, max(len(cell) for cell in lines) * _ROW_LINE + 2 * _PAD


def _draw_row(pdf: FPDF, lines: list[list[str]], widths: tuple[float, ...], height: float, bold: bool,
              status_column: int | None = None) -> None:
    """One row; the cell in ``status_column`` in its status's colour (``FAILED`` red, ...)."""
    pdf.set_font(FAMILY, "B" if bold else "", SMALL)
    x, y = pdf.l_margin, pdf.get_y()
    for i, (cell_lines, w) in enumerate(zip(lines, widths, strict=True)):
        pdf.rect(x, y, w, height, style="DF" if bold else "D")
        colour = STATUS_COLOUR.get(" ".join(cell_lines).split(" ")[0].lower()) if i == status_column else None
        if colour:
            pdf.set_text_color(*colour)
        for k, text in enumerate(cell_lines):
            pdf.text(x + _PAD, y + _PAD + (k + 0.78) * _ROW_LINE, text)
        pdf.set_text_color(0, 0, 0)
        x += w
    pdf.set_y(y + height)


def _caption_lines(pdf: FPDF, caption: str) -> list[str]:
    pdf.set_font(FAMILY, "I", SMALL)
    return _wrap(pdf, caption, pdf.epw) if caption else []


def _table(pdf: FPDF, header: list[str], rows: list[list[str]], caption: str = "", headings: bool = True,
           status_column: int | None = None) -> None:
    """A bordered table; the header row is repeated after every page break.

    The caption and header never end a page on their own: when they and the first rows do not
    fit, the table starts on the next page. Drawn directly rather than with ``FPDF.table``,
    which lays every cell out twice and took seconds for the per-group tables of a full run.
    """
    n = max(len(r) for r in [header, *rows])
    head = [drawable(c) for c in header] + [""] * (n - len(header)) if headings and header else None
    body = [[drawable(c) for c in row] + [""] * (n - len(row)) for row in rows]
    caption_lines = _caption_lines(pdf, drawable(caption))
    if not n or not (body or head):
        return
    pdf.set_font(FAMILY, size=SMALL)
    widths = _column_widths(pdf, head, body)
    head_layout = _layout_row(pdf, head, widths, bold=True) if head else None
    laid = [_layout_row(pdf, row, widths, bold=False) for row in body[:KEEP_ROWS]]
    lead = len(caption_lines) * 4 + (head_layout[1] if head_layout else 0) + sum(h for _, h in laid)
    new_page_unless_at_top(pdf, lead)
    if caption_lines:
        pdf.set_font(FAMILY, "I", SMALL)
        pdf.multi_cell(0, 4, "\n".join(caption_lines), new_x="LMARGIN", new_y="NEXT", align="L")
    pdf.set_draw_color(200, 205, 212)
    pdf.set_fill_color(238, 241, 245)
    if head_layout:
        _draw_row(pdf, head_layout[0], widths, head_layout[1], True)
    for i, row in enumerate(body):
        lines, height = laid[i] if i < len(laid) else _layout_row(pdf, row, widths, bold=False)
        if pdf.will_page_break(height):
            pdf.add_page()
            if head_layout:
                _draw_row(pdf, head_layout[0], widths, head_layout[1], True)
        _draw_row(pdf, lines, widths, height, False, status_column)
    pdf.set_draw_color(0, 0, 0)
    pdf.ln(2)


def _heading(pdf: FPDF, b: Heading) -> None:
    size = _HEADING_SIZE.get(b.level, _BODY)
    if b.level == 2 and pdf.get_y() > pdf.h - 60:  # do not strand a section title at a page foot
        pdf.add_page()
    elif b.level > 2:  # nor a sub-heading: it stays with the start of what it introduces
        new_page_unless_at_top(pdf, size * 0.5 + 3 + _KEEP_AFTER_HEADING)
    pdf.ln(2 if b.level > 2 else 4)
    pdf.set_font(FAMILY, "B", size)
    pdf.multi_cell(0, size * 0.5, drawable(b.text), new_x="LMARGIN", new_y="NEXT", align="L")
    pdf.ln(1)


def _block(pdf: FPDF, b: Block) -> None:
    if isinstance(b, Heading):
        _heading(pdf, b)
    elif isinstance(b, Paragraph):
        _paragraph(pdf, b)
    elif isinstance(b, KeyValues):
        _table(pdf, [], [[k, v] for k, v in b.rows], headings=False)
    elif isinstance(b, Table):
        _table(pdf, b.header, b.rows, b.caption, status_column=b.status_column)
    elif isinstance(b, Bullets):
        pdf.set_font(FAMILY, size=_BODY)
        for item in b.items:
            pdf.multi_cell(0, _LINE, drawable(f"•  {item}"), new_x="LMARGIN", new_y="NEXT", align="L")
        pdf.ln(1.5)
    elif isinstance(b, BarChart):
        bar_chart(pdf, b)
    elif isinstance(b, IntervalChart):
        interval_chart(pdf, b)


def render_blocks_pdf(blocks: list[Block], title: str, created: str | None = None) -> bytes:
    """PDF bytes of ``blocks``; ``created`` (RFC 3339) becomes the document's creation date."""
    pdf = _Pdf(title)
    pdf.set_title(drawable(title))
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
