"""Tables for the terminal that fit its width without breaking a word.

rich's own tables fold a cell that does not fit character by character (``fema`` / ``le``) or
crop it; an audit table read in an 80-column terminal must do neither. :func:`print_table`
draws the first of these layouts that fits the console's width:

1. every column at its natural width;
2. columns narrowed as far as their longest word, text wrapped between words (headers also
   after an underscore: ``selection_`` / ``rate``);
3. stacked: the row's key columns (its group) on a line of their own across the table, the
   other columns below it;
4. records: each row as ``column  value`` lines under its key.

Only a single word wider than the whole terminal is ever shortened, with an ellipsis.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from rich.cells import cell_len
from rich.text import Text

if TYPE_CHECKING:
    from rich.console import Console

_WORD = re.compile(r"\S+")
_AFTER_UNDERSCORE = re.compile(r"[^_]+_*|_+")
_INDENT = 2


@dataclass
class TermTable:
    """Columns and rows of markup text (escape recorded values with ``textsafe.markup``).

    ``keys`` leading columns name a row (its group): the stacked layout puts them above the
    rest. ``numeric`` columns are right-aligned.
    """

    title: str = ""
    keys: int = 0
    caption: str = ""
    header: list[str] = field(default_factory=list)
    numeric: list[bool] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)
    sections: set[int] = field(default_factory=set)

    def add_column(self, name: str, numeric: bool = False) -> None:
        self.header.append(name)
        self.numeric.append(numeric)

    def add_row(self, *cells: str) -> None:
        self.rows.append([str(c) for c in cells])

    def add_section(self) -> None:
        """A rule before the next row."""
        self.sections.add(len(self.rows))


def print_table(console: Console, table: TermTable) -> None:
    """``table`` in the first layout that fits ``console.width`` (see the module docstring)."""
    for line in render(table, console.width):
        console.print(line, no_wrap=True, overflow="ignore", crop=False, highlight=False)


def render(table: TermTable, width: int) -> list[Text]:
    """The lines of ``table`` at most ``width`` cells wide."""
    head = [Text.from_markup(h, style="bold") for h in table.header]
    body = [[Text.from_markup(c) for c in row] for row in table.rows]
    out = wrap(Text.from_markup(table.title, style="italic"), width) if table.title else []
    widths = fit(head, body, width)
    if widths is not None:
        out += _boxed(head, body, widths, table.numeric, table.sections, None)
    else:
        keys = max(table.keys, 1)
        spans = [_key_line(head[:keys], row[:keys]) for row in body]
        rest = [row[keys:] for row in body]
        widths = fit(head[keys:], rest, width) if len(head) > keys else None
        if widths is not None:
            widths = _widen(widths, min(width, max([s.cell_len for s in spans if s] + [0]) + 4))
            out += _boxed(head[keys:], rest, widths, table.numeric[keys:], table.sections, spans)
        else:
            out += _records(head[keys:], rest, spans, width)
    if table.caption:
        out += wrap(Text.from_markup(table.caption, style="dim"), width)
    return out


def fit(head: list[Text], body: list[list[Text]], width: int) -> list[int] | None:
    """Column widths that fit ``width`` with the borders, no word split; ``None`` if there are none."""
    room = width - (3 * len(head) + 1)
    columns = [[h, *(row[i] for row in body)] for i, h in enumerate(head)]
    natural = [max(_natural(t) for t in col) for col in columns]
    if sum(natural) <= room:
        return natural
    floor = [max([_longest(col[0], True)] + [_longest(t, False) for t in col[1:]]) for col in columns]
    if sum(floor) > room:
        return None
    widths, spare = list(floor), room - sum(floor)
    while spare > 0:  # what is left goes to the columns that would wrap, in equal shares
        wanting = [i for i, w in enumerate(widths) if w < natural[i]]
        if not wanting:
            break
        share = max(1, spare // len(wanting))
        for i in wanting:
            give = min(share, natural[i] - widths[i], spare)
            widths[i] += give
            spare -= give
    return widths


def wrap(text: Text, width: int, underscores: bool = False) -> list[Text]:
    """``text`` in lines of at most ``width`` cells, broken between words only (and after an
    underscore when ``underscores``); a word wider than ``width`` ends in an ellipsis."""
    lines: list[Text] = []
    for part in text.split("\n", allow_blank=True):
        plain, start, end = part.plain, -1, -1
        for s, e in _pieces(plain, underscores):
            if start < 0:
                start, end = s, e
            elif cell_len(plain[start:e]) <= width:
                end = e
            else:
                lines.append(part[start:end])
                start, end = s, e
        lines.append(part[start:end] if start >= 0 else Text(""))
    for line in lines:
        if line.cell_len > width:
            line.truncate(width, overflow="ellipsis")
    return lines


def _pieces(plain: str, underscores: bool) -> list[tuple[int, int]]:
    """``(start, end)`` of each piece a line may not break inside."""
    out = []
    for m in _WORD.finditer(plain):
        if not underscores:
            out.append(m.span())
            continue
        pos = m.start()
        for piece in _AFTER_UNDERSCORE.findall(m.group()):
            out.append((pos, pos + len(piece)))
            pos += len(piece)
    return out


def _natural(text: Text) -> int:
    return max((cell_len(line) for line in text.plain.split("\n")), default=0)


def _longest(text: Text, underscores: bool) -> int:
    plain = text.plain
    return max((cell_len(plain[s:e]) for s, e in _pieces(plain, underscores)), default=0)


def _key_line(head: list[Text], cells: list[Text]) -> Text | None:
    """``sex=Female, race=Black`` (or the one value given); ``None`` when the row names no group."""
    named = [(h, c) for h, c in zip(head, cells, strict=True) if c.plain.strip()]
    if not named:
        return None
    if len(named) == 1:
        return named[0][1].copy()
    return Text(", ").join(Text.assemble(h.plain, "=", c) for h, c in named)


def _widen(widths: list[int], total: int) -> list[int]:
    """``widths`` grown evenly so that the table is ``total`` cells wide (room for key lines)."""
    extra = total - (sum(widths) + 3 * len(widths) + 1)
    return [w + extra // len(widths) + (1 if i < extra % len(widths) else 0) for i, w in enumerate(widths)] \
        if extra > 0 else widths


def _boxed(head: list[Text], body: list[list[Text]], widths: list[int], numeric: list[bool], sections: set[int],
           spans: list[Text | None] | None) -> list[Text]:
    """A box-drawn table (rich's heavy-head style); ``spans`` are key lines drawn across it."""
    def rule(left: str, mid: str, right: str, fill: str) -> Text:
        return Text(left + mid.join(fill * (w + 2) for w in widths) + right)

    inner = sum(widths) + 3 * len(widths) - 3
    out = [rule("┏", "┳", "┓", "━"), *_row(head, widths, numeric, "┃", header=True), rule("┡", "╇", "┩", "━")]
    for i, row in enumerate(body):
        if i in sections and i:
            out.append(rule("├", "┼", "┤", "─"))
        span = spans[i] if spans else None
        if span is not None:
            for line in wrap(span, inner):
                line.stylize("bold")
                out.append(Text.assemble("│ ", line, " " * (inner - line.cell_len), " │"))
        out += _row(row, widths, numeric, "│")
    out.append(rule("└", "┴", "┘", "─"))
    return out


def _row(cells: list[Text], widths: list[int], numeric: list[bool], bar: str, header: bool = False) -> list[Text]:
    wrapped = [wrap(c, w, underscores=header) for c, w in zip(cells, widths, strict=True)]
    lines = []
    for k in range(max((len(c) for c in wrapped), default=1)):
        line = Text(bar)
        for cell, w, right in zip(wrapped, widths, numeric, strict=True):
            piece = cell[k] if k < len(cell) else Text("")
            pad = " " * (w - piece.cell_len)
            line.append_text(Text.assemble(" ", *((pad, piece) if right else (piece, pad)), " " + bar))
        lines.append(line)
    return lines


def _records(head: list[Text], body: list[list[Text]], spans: list[Text | None], width: int) -> list[Text]:
    """Each row as its key line, then one ``column  value`` line per column, values wrapped."""
    label = min(max((h.cell_len for h in head), default=0), width // 2)
    room = max(width - _INDENT - label - 2, 1)
    out: list[Text] = []
    for span, row in zip(spans, body, strict=True):
        for line in wrap(span, width) if span is not None else []:
            line.stylize("bold")
            out.append(line)
        for h, cell in zip(head, row, strict=True):
            name = wrap(h, label, underscores=True)
            values = wrap(cell, room)
            for k in range(max(len(name), len(values))):
                left = name[k] if k < len(name) else Text("")
                line = Text.assemble(" " * _INDENT, left, " " * (label - left.cell_len + 2),
                                     values[k] if k < len(values) else "")
                line.rstrip()
                out.append(line)
    return out
