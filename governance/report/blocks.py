"""Layout blocks: the format-neutral shape of a report or model card.

The layout (:mod:`governance.report.layout`, :mod:`governance.report.modelcard`) turns a document
into a list of blocks with every value already formatted as text; each renderer (HTML, Markdown,
PDF) only escapes and draws them. That keeps the three formats saying the same thing in the same
order.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field


@dataclass
class Heading:
    level: int
    text: str


@dataclass
class Paragraph:
    text: str
    tone: str = ""  # "alert" (blocked / failed), "ok" (passed), "note" (caveat), "unsure" (inconclusive), or plain


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


@dataclass
class Limit:
    """A policy bound drawn across a chart: ``kind`` "max" (values above violate it) or "min"."""

    value: float
    label: str
    kind: str = "max"


def interval_verdict(low: float | None, high: float | None, limits: list[Limit]) -> str:
    """``fail`` when ``[low, high]`` lies wholly beyond a limit, ``inconclusive`` when it crosses
    one, ``pass`` otherwise; an end that is ``None`` (or NaN) is unbounded."""
    lo = -math.inf if low is None or low != low else low
    hi = math.inf if high is None or high != high else high
    found = "pass"
    for limit in limits:
        beyond, inside = (hi < limit.value, lo >= limit.value) if limit.kind == "min" \
            else (lo > limit.value, hi <= limit.value)
        if beyond:
            return "fail"
        if not inside:
            found = "inconclusive"
    return found


@dataclass
class IntervalChart:
    """A point per group with whiskers from ``low`` to ``high`` (its confidence interval).

    ``points`` are ``(label, value, low, high)``; a bound that is ``None`` is unbounded (the
    bootstrap could not close it) and the whisker runs to the axis' end. ``status`` is the
    finding's: an ``inconclusive`` one is labelled and coloured apart.
    """

    title: str
    points: list[tuple[str, float, float | None, float | None]]
    limits: list[Limit] = field(default_factory=list)
    status: str = ""
    notes: list[str] = field(default_factory=list)

    def verdict(self, low: float | None, high: float | None) -> str:
        return interval_verdict(low, high, self.limits)

    @property
    def scale(self) -> tuple[float, float]:
        """Ends of the axis: [0, 1] for rates, else the values, bounds and limits with a margin."""
        values = [v for _, value, low, high in self.points for v in (value, low, high)
                  if v is not None and math.isfinite(v)] + [lim.value for lim in self.limits]
        lo, hi = min(values + [0.0]), max(values + [0.0])
        if lo >= 0 and hi <= 1:
            return 0.0, 1.0
        margin = 0.05 * ((hi - lo) or 1.0)
        return (lo - margin if lo < 0 else lo), hi + margin

    def x(self, value: float | None, width: float, default: float = 0.0) -> float:
        """``value``'s position on an axis ``width`` long (``default``'s end when unbounded)."""
        lo, hi = self.scale
        v = default if value is None or not math.isfinite(value) else value
        return max(0.0, min(1.0, (v - lo) / (hi - lo))) * width


Block = Heading | Paragraph | KeyValues | Table | Bullets | BarChart | IntervalChart
