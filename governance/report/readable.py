"""Readable forms of recorded values, shared by the report, the model card and the dashboard.

Thresholds. A check records its threshold as it computed it: a bare number (``0.15``, whose
direction only the rule's parameter name tells: ``max``, ``min_count``) or a dict of bounds
(``{"min": 0.8}``). Both read as one form, ``≤ 0.15`` and ``≥ 0.8``.

Groups. A check records groups in the order pandas sorts them, as text, so age bands come out
``25-44, 45-64, 65+, <25``. Values that carry a number are put in numeric order; other values
keep the order they were recorded in (``sex=Male`` before ``sex=Female`` stays so).

Settings. A model's architecture reads as ``name: value`` lines rather than JSON.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from governance.report.text import fmt_value

AT_LEAST, AT_MOST = "≥", "≤"
# Parameters that are upper bounds without saying "max" in their name.
_UPPER_BOUND_PARAMS = ("drift_share",)
_NUMBER = re.compile(r"\d+(?:\.\d+)?")
_BELOW = ("<", "≤", "<=", "under", "below", "up to")
_ABOVE = (">", "≥", ">=", "over", "above")
Row = TypeVar("Row")


def bound_sign(name: str) -> str | None:
    """``≥`` for a parameter or bound named ``min…``, ``≤`` for ``max…``; ``None`` otherwise."""
    lowered = str(name).lower()
    if lowered.startswith("min"):
        return AT_LEAST
    if lowered.startswith("max") or lowered in _UPPER_BOUND_PARAMS:
        return AT_MOST
    return None


def _number(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def fmt_threshold(threshold: Any, params: dict[str, Any] | None = None) -> str:
    """A finding's threshold as a bound: ``≥ 0.8``, ``≤ 0.15``, ``≥ 0.7 and ≤ 0.9``.

    ``params`` are the rule's parameters: a bare number takes the sign of the parameter it equals
    (``max: 0.15`` gives ``≤ 0.15``). Thresholds that are not bounds (required columns, a drift
    threshold per column) are shown as values.
    """
    if isinstance(threshold, dict) and threshold and all(bound_sign(k) for k in threshold):
        bounds = sorted(threshold.items(), key=lambda kv: bound_sign(kv[0]) != AT_LEAST)  # lower bound first
        return " and ".join(f"{bound_sign(k)} {fmt_value(v)}" for k, v in bounds)
    if _number(threshold):
        for name, value in (params or {}).items():
            if _number(value) and value == threshold and bound_sign(name):
                return f"{bound_sign(name)} {fmt_value(threshold)}"
    if isinstance(threshold, dict) and threshold:
        return "; ".join(f"{k} {fmt_value(v)}" for k, v in threshold.items())
    return fmt_value(threshold)


def _value_key(value: Any, seen: dict[Any, int]) -> tuple:
    """Numbers and numeric bands by their number (``<25`` before ``25-44``), then the rest as recorded."""
    if _number(value):
        return (0, float(value), 0, "")
    text = str(value).strip()
    match = _NUMBER.search(text)
    if match is None:
        return (1, seen.setdefault(text, len(seen)), 0, text)
    before = text[: match.start()].strip().lower()
    rank = -1 if before.startswith(_BELOW) else 1 if before.startswith(_ABOVE) else 0
    return (0, float(match.group()), rank, text)


def in_numeric_order(rows: Sequence[Row], group: Callable[[Row], Any]) -> list[Row]:
    """``rows`` with their groups' numeric values (age bands, counts) in numeric order.

    ``group(row)`` is the row's group: a dict ``{feature: value}`` or a single value. Rows whose
    groups carry no number keep their recorded order; so does everything when no group does.
    """
    groups = [group(r) for r in rows]
    values = [g.values() if isinstance(g, dict) else (g,) for g in groups]
    if not any(_NUMBER.search(str(v)) for vs in values for v in vs):
        return list(rows)
    seen: dict[Any, dict[Any, int]] = {}

    def key(i: int) -> tuple:
        g = groups[i]
        items = g.items() if isinstance(g, dict) else [(None, g)]
        return tuple(_value_key(v, seen.setdefault(feature, {})) for feature, v in items)

    # Register every text value in recorded order first, so that its rank is its first appearance.
    for i in range(len(rows)):
        key(i)
    return [rows[i] for i in sorted(range(len(rows)), key=key)]


def groups_in_order(evidence: Any) -> Any:
    """``evidence`` with each per-group table (rows with a ``group``) in :func:`in_numeric_order`."""
    if not isinstance(evidence, dict):
        return evidence
    out = dict(evidence)
    for name, value in evidence.items():
        if isinstance(value, list) and value and all(isinstance(r, dict) and "group" in r for r in value):
            out[name] = in_numeric_order(value, lambda r: r.get("group"))
    return out


def fmt_settings(settings: Any) -> str:
    """A settings mapping (a model's architecture) as ``name: value`` lines, not JSON.

    ``{"hidden_units": [64, 32], "epochs": 5}`` gives ``hidden units: 64, 32`` and ``epochs: 5``;
    nested mappings are named by their path (``optimizer.name: adam``).
    """
    if not isinstance(settings, dict):
        return fmt_value(settings)
    if not settings:
        return "-"
    lines: list[str] = []

    def walk(prefix: str, value: Any) -> None:
        if isinstance(value, dict) and value:
            for k, v in value.items():
                walk(f"{prefix}.{k}" if prefix else str(k), v)
        elif isinstance(value, list) and all(not isinstance(v, (dict, list)) for v in value):
            lines.append(f"{prefix.replace('_', ' ')}: {', '.join(fmt_value(v) for v in value) or 'none'}")
        else:
            lines.append(f"{prefix.replace('_', ' ')}: {fmt_value(value)}")

    walk("", settings)
    return "\n".join(lines)
