"""Layout blocks: the format-neutral shape of a report or model card.

The layout (:mod:`governance.report.layout`, :mod:`governance.report.modelcard`) turns a document
into a list of blocks with every value already formatted as text; each renderer (HTML, Markdown,
PDF) only escapes and draws them. That keeps the three formats saying the same thing in the same
order.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Heading:
    level: int
    text: str


@dataclass
class Paragraph:
    text: str
    tone: str = ""  # "alert" (blocked / failed), "ok" (passed), "note" (caveat), or plain


@dataclass
class KeyValues:
    rows: list[tuple[str, str]]


@dataclass
class Table:
    header: list[str]
    rows: list[list[str]]
    caption: str = ""
    status_column: int | None = None  # column holding a finding status, for colouring


@dataclass
class Bullets:
    items: list[str]


@dataclass
class BarChart:
    """Horizontal bars, one per label, with an optional limit line (a policy threshold)."""

    title: str
    bars: list[tuple[str, float]]
    limit: float | None = None
    limit_label: str = ""
    limit_kind: str = "max"  # "max": bars above the limit violate it; "min": bars below it do
    notes: list[str] = field(default_factory=list)

    def violates(self, value: float) -> bool:
        if self.limit is None:
            return False
        return value < self.limit if self.limit_kind == "min" else value > self.limit

    @property
    def scale_max(self) -> float:
        """Right end of the axis: 1 for rates, else a little beyond the largest value or limit."""
        values = [v for _, v in self.bars] + ([self.limit] if self.limit is not None else [])
        top = max(values, default=1.0)
        if 0 <= min(values, default=0) and top <= 1:
            return 1.0
        return top * 1.1 if top > 0 else 1.0


Block = Heading | Paragraph | KeyValues | Table | Bullets | BarChart
