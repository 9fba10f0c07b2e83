"""Formatting shared by every renderer, so that HTML, Markdown and PDF say the same thing."""

from __future__ import annotations

import json
from typing import Any

from governance.display import group_label

# Statuses a reviewer must act on are in capitals; an inconclusive finding (its confidence
# interval straddles the bound) is neither a pass nor a failure, and reads apart from both.
STATUS_WORDS = {
    "passed": "passed", "failed": "FAILED", "warning": "warning", "error": "ERROR",
    "skipped": "skipped", "waived": "waived", "inconclusive": "INCONCLUSIVE",
}

CLAUSE_STATUS_WORDS = {
    "supported": "checked",
    "failing": "checked: failures",
    "records": "records only, no check",
    "none": "no automated evidence",
}


def fmt_value(value: Any, digits: int = 4) -> str:
    """A number to ``digits`` significant digits; lists and dicts as compact text."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.{digits}g}"
    if isinstance(value, list) and all(not isinstance(v, (dict, list)) for v in value):
        if not value:
            return "none"
        # Sentences (model-card limitations, ...) read best one per line; short values inline.
        sep = "\n" if any(isinstance(v, str) and " " in v for v in value) else "; "
        return sep.join(fmt_value(v, digits) for v in value)
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True, separators=(", ", ": "), ensure_ascii=False, default=str)
    return str(value)


def fmt_interval(value: Any, interval: Any, digits: int = 4) -> str:
    """``0.4127 [0.3512, 0.4703]``: a value and its confidence interval; an end the interval
    could not close (recorded as ``None``) reads ``-∞`` or ``∞``. Without an interval, the value."""
    if not (isinstance(interval, (list, tuple)) and len(interval) == 2):
        return fmt_value(value, digits)
    low = "-∞" if interval[0] is None else fmt_value(interval[0], digits)
    high = "∞" if interval[1] is None else fmt_value(interval[1], digits)
    text = f"[{low}, {high}]"
    return text if value is None else f"{fmt_value(value, digits)} {text}"


def fmt_params(params: Any) -> str:
    """A rule's parameters as ``max=0.15; sensitive_features=sex`` (``-`` when there are none)."""
    if not isinstance(params, dict) or not params:
        return "-"
    return "; ".join(f"{k}={fmt_value(v)}" for k, v in params.items())


def fmt_bytes(n: Any) -> str:
    """Sizes in B, KiB or MiB (``-`` when unknown)."""
    if not isinstance(n, (int, float)) or isinstance(n, bool):
        return "-"
    for unit, scale in (("MiB", 1 << 20), ("KiB", 1 << 10)):
        if abs(n) >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{int(n)} B"


def short_hash(h: Any, n: int = 12) -> str:
    """First ``n`` hex digits of a hash, for tables; full hashes appear in the JSON report."""
    return str(h)[:n] if h else "-"


# Column order of evidence tables. The trail stores payloads as canonical JSON (sorted keys), so
# the order a check wrote its columns in is lost; this puts identifying columns first.
_COLUMN_ORDER = ("group", "column", "feature", "type", "method", "statistic", "threshold", "drifted",
                 "count", "selection_rate", "accuracy", "tpr", "fpr", "excluded", "tp", "fp", "tn", "fn")
# Evidence entries that describe the evidence's format rather than the model.
_NOT_SHOWN = ("schema_version",)


def _ordered(keys: list[str]) -> list[str]:
    known = [k for k in _COLUMN_ORDER if k in keys]
    return known + sorted(k for k in keys if k not in known)


def evidence_tables(evidence: Any) -> list[tuple[str, list[str], list[list[Any]]]]:
    """The tables inside a finding's evidence: every list of row dicts, as ``(name, header, rows)``.

    Checks store per-group and per-column results as lists of dicts (see ``rai audit``'s JSON);
    a ``group`` dict is flattened into one readable label.
    """
    if not isinstance(evidence, dict):
        return []
    tables = []
    for name, value in evidence.items():
        if isinstance(value, list) and value and all(isinstance(r, dict) for r in value):
            header = _ordered(list({k: None for row in value for k in row}))
            rows = [[group_label(r.get(k)) if k == "group" else r.get(k) for k in header] for r in value]
            tables.append((name, header, rows))
    return tables


def evidence_scalars(evidence: Any) -> list[tuple[str, Any]]:
    """Evidence entries that are not tables (e.g. overall metrics), flattened one level."""
    if not isinstance(evidence, dict):
        return []
    out = []
    for name, value in evidence.items():
        if name in _NOT_SHOWN or (isinstance(value, list) and value and all(isinstance(r, dict) for r in value)):
            continue
        if isinstance(value, dict) and all(not isinstance(v, (dict, list)) for v in value.values()):
            out += [(f"{name}.{k}", v) for k, v in value.items()]
        else:
            out.append((name, value))
    return out


# Which per-group column a fairness chart shows, by the check's name; selection rate otherwise.
CHART_COLUMN = {"equal_opportunity": "tpr", "equalized_odds": "tpr", "demographic_parity": "selection_rate"}


def chart_series(finding: dict[str, Any], metric: str | None = None) -> tuple[str, list[tuple[str, float]]] | None:
    """``(column, [(group, value), ...])`` for a fairness finding's per-group bar chart.

    ``metric`` is the rule's ``params.metric`` when it has one (``fairness.group_metric_min``).
    """
    check = str(finding.get("check") or "")
    if not check.startswith("fairness."):
        return None
    for _name, header, rows in evidence_tables(finding.get("evidence")):
        if "group" not in header:
            continue
        by_name = next((c for key, c in CHART_COLUMN.items() if key in check), "selection_rate")
        column = metric if metric in header else by_name
        if column not in header:
            continue
        gi, ci = header.index("group"), header.index(column)
        series = [(str(r[gi]), float(r[ci])) for r in rows
                  if isinstance(r[ci], (int, float)) and not isinstance(r[ci], bool)]
        if series:
            return column, series
    return None
