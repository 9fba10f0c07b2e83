"""PDF rendering with fpdf2 (pure Python, no system library), from the same blocks as HTML.

Text is set in DejaVu Sans, embedded (subset to the characters used) from the TrueType files in
``governance/report/fonts/`` (DejaVu 2.37 as Debian packages it; license in ``fonts/LICENSE``).
It covers Latin, Greek, Cyrillic and the usual typographic and mathematical signs, so ``ε ≤ 8``
prints as written. A character the font has no glyph for (CJK ideographs, for example) is
written as its code point, ``[U+65E5]``: never dropped, never a ``?``.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from functools import lru_cache
from pathlib import Path

from fpdf import FPDF

from governance.report.blocks import BarChart, Block, Bullets, Heading, KeyValues, Paragraph, Table
from governance.report.layout import report_blocks
from governance.report.text import fmt_value

FONT_DIR = Path(__file__).parent / "fonts"
FAMILY = "DejaVu"
FONT_FILES = {"": "DejaVuSans.ttf", "B": "DejaVuSans-Bold.ttf", "I": "DejaVuSans-Oblique.ttf"}
_TONE_COLOUR = {"alert": (179, 38, 30), "ok": (31, 122, 58), "note": (138, 90, 0)}
_HEADING_SIZE = {1: 16, 2: 13, 3: 11, 4: 9.5}
_BODY, _SMALL, _LINE = 9, 7, 4.4
_ROW_LINE, _PAD = 3.2, 0.9  # table text line height and cell padding (mm)
_KEEP_ROWS = 2  # a table's header never ends a page: it moves on with at least this many rows
_KEEP_AFTER_HEADING = 22.0  # mm of the next block a sub-heading needs below it on its page


@lru_cache(maxsize=1)
def covered() -> frozenset[int]:
    """Code points every embedded style has a glyph for."""
    from fontTools.ttLib import TTFont

    maps = [set(TTFont(FONT_DIR / name, lazy=True)["cmap"].getBestCmap()) for name in FONT_FILES.values()]
    return frozenset(set.intersection(*maps))


def drawable(text: object) -> str:
    """``text`` as the embedded font can draw it: NFC-composed, uncovered characters as ``[U+XXXX]``."""
    s = unicodedata.normalize("NFC", str(text)).replace("\t", " ")
    font = covered()
    if all(ord(ch) in font or ch == "\n" for ch in s):
        return s
    out: list[str] = []
    missing: list[str] = []
    for ch in s:
        if ord(ch) in font or ch == "\n":
            if missing:
                out.append("[" + " ".join(missing) + "]")
                missing = []
            out.append(ch)
        else:
            missing.append(f"U+{ord(ch):04X}")
    if missing:
        out.append("[" + " ".join(missing) + "]")
    return "".join(out)


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
        _new_page_unless_at_top(pdf, _LINE + _KEEP_AFTER_HEADING)
    colour = _TONE_COLOUR.get(b.tone)
    pdf.set_font(FAMILY, "B" if b.tone == "alert" else "", _BODY)
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
        pdf.set_font(FAMILY, "B", _SMALL)
        need = [max(w, _width(pdf, h)) for w, h in zip(need, head, strict=True)]
        pdf.set_font(FAMILY, "", _SMALL)
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
    pdf.set_font(FAMILY, "B" if bold else "", _SMALL)
    lines = [_wrap(pdf, cell, w - 2 * _PAD) for cell, w in zip(cells, widths, strict=True)]
    return lines, max(len(cell) for cell in lines) * _ROW_LINE + 2 * _PAD


def _draw_row(pdf: FPDF, lines: list[list[str]], widths: tuple[float, ...], height: float, bold: bool) -> None:
    pdf.set_font(FAMILY, "B" if bold else "", _SMALL)
    x, y = pdf.l_margin, pdf.get_y()
    for cell_lines, w in zip(lines, widths, strict=True):
        pdf.rect(x, y, w, height, style="DF" if bold else "D")
        for k, text in enumerate(cell_lines):
            pdf.text(x + _PAD, y + _PAD + (k + 0.78) * _ROW_LINE, text)
        x += w
    pdf.set_y(y + height)


def _new_page_unless_at_top(pdf: FPDF, needed: float) -> None:
    """Start a page when ``needed`` mm do not fit on this one (a fresh page has to do)."""
    if pdf.will_page_break(needed) and pdf.get_y() > pdf.t_margin + 1:
        pdf.add_page()


def _caption_lines(pdf: FPDF, caption: str) -> list[str]:
    pdf.set_font(FAMILY, "I", _SMALL)
    return _wrap(pdf, caption, pdf.epw) if caption else []


def _table(pdf: FPDF, header: list[str], rows: list[list[str]], caption: str = "", headings: bool = True) -> None:
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
    pdf.set_font(FAMILY, size=_SMALL)
    widths = _column_widths(pdf, head, body)
    head_layout = _layout_row(pdf, head, widths, bold=True) if head else None
    laid = [_layout_row(pdf, row, widths, bold=False) for row in body[:_KEEP_ROWS]]
    lead = len(caption_lines) * 4 + (head_layout[1] if head_layout else 0) + sum(h for _, h in laid)
    _new_page_unless_at_top(pdf, lead)
    if caption_lines:
        pdf.set_font(FAMILY, "I", _SMALL)
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
        _draw_row(pdf, lines, widths, height, False)
    pdf.set_draw_color(0, 0, 0)
    pdf.ln(2)


def _chart(pdf: FPDF, b: BarChart) -> None:
    label_w, plot_w, bar_h = 60.0, pdf.epw - 80.0, 4.0
    _new_page_unless_at_top(pdf, 4 + min(len(b.bars), _KEEP_ROWS) * (bar_h + 1))  # title with its first bars
    pdf.set_font(FAMILY, "I", _SMALL)
    pdf.multi_cell(0, 4, drawable(b.title), new_x="LMARGIN", new_y="NEXT", align="L")
    scale = b.scale_max
    pdf.set_font(FAMILY, size=_SMALL)
    top = pdf.get_y()
    for label, value in b.bars:
        if pdf.will_page_break(bar_h + 1):
            pdf.add_page()
        x, y = pdf.l_margin, pdf.get_y()
        pdf.set_xy(x, y)
        pdf.cell(label_w - 2, bar_h, drawable(label)[:40], align="R")
        width = max(0.0, min(1.0, value / scale)) * plot_w if scale else 0.0
        pdf.set_fill_color(*((179, 38, 30) if b.violates(value) else (74, 120, 181)))
        pdf.rect(x + label_w, y + 0.4, max(width, 0.2), bar_h - 0.8, style="F")
        pdf.set_xy(x + label_w + width + 1.5, y)
        pdf.cell(20, bar_h, fmt_value(value))
        pdf.set_y(y + bar_h + 1)
    if b.limit is not None and scale:
        x = pdf.l_margin + label_w + max(0.0, min(1.0, b.limit / scale)) * plot_w
        pdf.set_draw_color(*_TONE_COLOUR["alert"])
        pdf.set_dash_pattern(dash=1, gap=0.8)
        pdf.line(x, top if top < pdf.get_y() else pdf.t_margin, x, pdf.get_y())  # the bars may have moved on a page
        pdf.set_dash_pattern()
        pdf.set_draw_color(0, 0, 0)
        pdf.multi_cell(0, 4, drawable(f"{b.limit_label or 'limit'}: {fmt_value(b.limit)}"), new_x="LMARGIN", new_y="NEXT", align="L")
    for note in b.notes:
        pdf.multi_cell(0, 4, drawable(note), new_x="LMARGIN", new_y="NEXT", align="L")
    pdf.ln(2)


def _heading(pdf: FPDF, b: Heading) -> None:
    size = _HEADING_SIZE.get(b.level, _BODY)
    if b.level == 2 and pdf.get_y() > pdf.h - 60:  # do not strand a section title at a page foot
        pdf.add_page()
    elif b.level > 2:  # nor a sub-heading: it stays with the start of what it introduces
        _new_page_unless_at_top(pdf, size * 0.5 + 3 + _KEEP_AFTER_HEADING)
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
        _table(pdf, b.header, b.rows, b.caption)
    elif isinstance(b, Bullets):
        pdf.set_font(FAMILY, size=_BODY)
        for item in b.items:
            pdf.multi_cell(0, _LINE, drawable(f"•  {item}"), new_x="LMARGIN", new_y="NEXT", align="L")
        pdf.ln(1.5)
    elif isinstance(b, BarChart):
        _chart(pdf, b)


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
