"""Markdown rendering of layout blocks (GitHub-flavoured tables), for repositories and tickets.

Text in a report comes from policies, specs, data and people (model-card narratives). It renders
as itself: no raw HTML (a ``<`` that could open a tag is escaped), no link or image (a ``]``
directly followed by ``(``, ``[`` or ``:`` gets a backslash, so ``[x](javascript:...)``,
``![x](https://tracker)`` and link definitions stay text), and no control characters.
"""

from __future__ import annotations

import re

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
from governance.report.text import fmt_interval, fmt_value
from governance.textsafe import printable

_TAG_START = re.compile(r"<(?=[A-Za-z/!?])")
# "](" ends a link's text and starts its destination (images too), "][" a reference, "]:" a
# definition: a backslash after the ']' keeps each one literal text.
_LINK_JOIN = re.compile(r"\](?=[(\[:])")


def _no_tags(text: str) -> str:
    # Only a '<' that could open a tag or comment is escaped, so "<= 0.1" stays readable; a link
    # or an image is kept as its text, and a control character as a visible escape.
    text = _LINK_JOIN.sub(r"]\\", _TAG_START.sub("&lt;", text))
    return printable(text, keep="\n\r")


def _cell(text: str) -> str:
    # A pipe ends a cell and a newline ends a row; both would break the table. Text from a policy
    # or a message must never become HTML or a link in a viewer, hence _no_tags.
    text = _no_tags(str(text).replace("\\", "\\\\")).replace("|", "\\|")
    return text.replace("\r", " ").replace("\n", "<br>")


def _inline(text: str) -> str:
    """Text outside tables: keep it on its lines, stop a leading '#', '>' or '[' from changing meaning."""
    lines = _no_tags(str(text)).splitlines() or [""]
    return "\n".join(("\\" + ln) if ln[:1] in "#>[" else ln for ln in lines)


def _paragraph(b: Paragraph) -> str:
    text = _inline(b.text)
    if b.tone in ("alert", "unsure"):
        return "\n".join(f"> **{ln}**" if ln else ">" for ln in text.splitlines())
    if b.tone in ("ok", "note"):
        return "\n".join(f"> {ln}" if ln else ">" for ln in text.splitlines())
    return text


def _table(b: Table) -> str:
    lines = [f"*{_inline(b.caption)}*", ""] if b.caption else []
    lines.append("| " + " | ".join(_cell(h) for h in b.header) + " |")
    lines.append("|" + "---|" * len(b.header))
    for row in b.rows:
        lines.append("| " + " | ".join(_cell(c) for c in row) + " |")
    return "\n".join(lines)


def _chart(b: BarChart) -> str:
    # Markdown has no charts; the numbers behind the chart are the useful part.
    rows = [[label, fmt_value(v)] for label, v in b.bars]
    if b.limit is not None:
        rows.append([f"({b.limit_label or 'limit'})", fmt_value(b.limit)])
    text = _table(Table(["", "value"], rows, caption=b.title))
    return text + "".join(f"\n\n{_inline(n)}" for n in b.notes)


def _intervals(b: IntervalChart) -> str:
    # Each group's value with its interval in brackets, the limits below.
    rows = [[label, fmt_interval(v, [low, high])] for label, v, low, high in b.points]
    rows += [[f"({limit.label})", fmt_value(limit.value)] for limit in b.limits]
    text = _table(Table(["", "value [interval]"], rows, caption=b.title))
    return text + "".join(f"\n\n{_inline(n)}" for n in b.notes)


def render_blocks_md(blocks: list[Block]) -> str:
    """Markdown text of ``blocks``: one blank line between blocks, trailing newline."""
    parts = []
    for b in blocks:
        if isinstance(b, Heading):
            parts.append("#" * b.level + " " + _no_tags(" ".join(str(b.text).split())))
        elif isinstance(b, Paragraph):
            parts.append(_paragraph(b))
        elif isinstance(b, KeyValues):
            parts.append(_table(Table(["", ""], [[f"**{k}**", v] for k, v in b.rows])))
        elif isinstance(b, Table):
            parts.append(_table(b))
        elif isinstance(b, Bullets):
            parts.append("\n".join(f"- {_cell(i)}" for i in b.items))
        elif isinstance(b, BarChart):
            parts.append(_chart(b))
        elif isinstance(b, IntervalChart):
            parts.append(_intervals(b))
    return "\n\n".join(parts) + "\n"


def render_md(doc: dict) -> str:
    """The compliance report of ``doc`` (a ``ReportDocument.to_dict()``) as Markdown."""
    return render_blocks_md(report_blocks(doc))
