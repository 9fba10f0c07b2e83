"""How a group or a value is written for people, once for messages, tables, reports and the dashboard.

Standard library only and at the bottom of governance's layers: checks, metrics, reports, the
CLI and the dashboard all use it without loading pandas.
"""

from __future__ import annotations

from typing import Any


def group_label(group: Any) -> str:
    """``{"sex": "Female", "race": "White"}`` -> ``sex=Female, race=White``; anything else as ``str``."""
    if isinstance(group, dict):
        return ", ".join(f"{k}={v}" for k, v in group.items())
    return str(group)


def format_value(value: Any) -> str:
    """A finding's observed value or threshold for a table: numbers to four significant digits,
    dicts as ``k=v``, ``None`` as empty."""
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, dict):
        return ", ".join(f"{k}={format_value(v)}" for k, v in value.items())
    return str(value)
