"""Confidence intervals in the report: groups as points with whiskers, the aggregate against its
bounds, and the table of intervals and minimum detectable effects.

A ``fairness.group_metric`` rule with ``confidence`` records, per included group, its
``interval`` ``[low, high]`` and ``mde`` (the smallest change of the group's metric a test at
that confidence detects with 80% power at the group's size), and under ``confidence`` the
aggregate's interval and how both were made (:mod:`governance.metrics.intervals`). A bound the
bootstrap could not close is recorded as ``None`` and drawn to the axis' end.
"""

from __future__ import annotations

from typing import Any

from governance.display import group_label
from governance.report.blocks import Block, IntervalChart, Limit, Paragraph, Table
from governance.report.readable import fmt_threshold, groups_in_order
from governance.report.text import fmt_interval, fmt_value
from governance.vocabulary import finding_blocks

_VERDICT_WORDS = {"pass": "the interval clears the bound", "fail": "the interval lies beyond the bound",
                  "inconclusive": "the interval straddles the bound: inconclusive"}
_METHODS = {"wilson": "Wilson score", "bootstrap": "percentile bootstrap"}
# Columns of the interval table that are shown by their own, readable, header.
_SHOWN = ("group", "count", "value", "interval", "mde", "excluded", "change", "change_interval")


def _number(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def has_intervals(evidence: Any) -> bool:
    """Whether ``evidence`` holds per-group confidence intervals."""
    rows = evidence.get("groups") if isinstance(evidence, dict) else None
    return isinstance(rows, list) and any(isinstance(r, dict) and isinstance(r.get("interval"), list) for r in rows)


def _confidence(evidence: dict[str, Any]) -> dict[str, Any]:
    conf = evidence.get("confidence")
    return conf if isinstance(conf, dict) else {}


def _level(evidence: dict[str, Any]) -> str:
    level = _confidence(evidence).get("level")
    return f"{level:.0%}" if _number(level) else "confidence"


def observed_text(finding: dict[str, Any]) -> str:
    """A finding's observed value, with the aggregate's confidence interval when it has one."""
    interval = _confidence(finding.get("evidence") or {}).get("interval")
    observed = finding.get("observed")
    return fmt_interval(observed, interval) if _number(observed) else fmt_value(observed)


def inconclusive_paragraph(finding: dict[str, Any], params: dict[str, Any]) -> Paragraph:
    """What an inconclusive finding means, and whether it blocks, in the tone that sets it apart."""
    ev = finding.get("evidence") if isinstance(finding.get("evidence"), dict) else {}
    what = f"the {_level(ev)} interval"
    if ev.get("metric") and ev.get("aggregate"):
        what += f" of the {ev['metric']} {ev['aggregate']}, {observed_text(finding)},"
    effect = "this finding blocks the gate" if finding_blocks(finding) else "this finding is a warning"
    return Paragraph(f"INCONCLUSIVE: {what} straddles the bound {fmt_threshold(finding.get('threshold'), params)}: "
                     f"the evidence shows neither that the rule holds nor that it fails, and {effect}.", "unsure")


def confidence_rows(evidence: dict[str, Any]) -> list[tuple[str, str]]:
    """How the intervals were made, one readable line each (for the evidence's key-values)."""
    conf = _confidence(evidence)
    rows = [("confidence level", _level(evidence)),
            ("interval of the " + str(evidence.get("aggregate") or "aggregate"), fmt_interval(None, conf.get("interval"))),
            ("aggregate's interval", str(conf.get("aggregate_method") or "-")),
            ("groups' intervals", _METHODS.get(str(conf.get("group_method")), str(conf.get("group_method") or "-")))]
    boot = conf.get("bootstrap")
    if isinstance(boot, dict):
        rows.append(("bootstrap", f"{fmt_value(boot.get('samples'))} samples, seed {fmt_value(boot.get('seed'))}"))
    if _number(conf.get("mde_power")):
        rows.append(("minimum detectable effect", f"at {conf['mde_power']:.0%} power, per group below"))
    return rows


def interval_charts(finding: dict[str, Any], params: dict[str, Any]) -> list[Block]:
    """The groups' points and whiskers; for a difference or ratio, the aggregate's own interval."""
    ev = groups_in_order(finding["evidence"])
    rows = [r for r in ev["groups"] if isinstance(r, dict) and not r.get("excluded") and _number(r.get("value"))
            and isinstance(r.get("interval"), list) and len(r["interval"]) == 2]
    if not rows:
        return []
    conf, metric, how = _confidence(ev), str(ev.get("metric") or "value"), str(ev.get("aggregate") or "")
    values = [float(r["value"]) for r in rows]
    points = [(group_label(r["group"]), float(r["value"]), *_ends(r["interval"])) for r in rows]
    subject = f" ({finding['subject']})" if finding.get("subject") else ""
    threshold, status = finding.get("threshold"), str(finding.get("status") or "")
    method = _METHODS.get(str(conf.get("group_method")), "confidence")
    groups = IntervalChart(
        f"{finding.get('rule_id')}: {metric} by group, {_level(ev)} intervals{subject}", points,
        group_limits(how, threshold, values), status,
        [f"Points: each group's {metric}; whiskers: its {_level(ev)} {method} interval. Groups under "
         f"{fmt_value(ev.get('min_group_size'))} rows are left out."])
    out: list[Block] = [groups]
    interval = conf.get("interval")
    if how in ("difference", "ratio") and isinstance(interval, list) and len(interval) == 2 and _number(ev.get("value")):
        said = _VERDICT_WORDS.get(str(ev.get("verdict")), "")
        out.append(IntervalChart(
            f"{finding.get('rule_id')}: {metric} {how} over the groups{subject}",
            [(f"{metric} {how}", float(ev["value"]), *_ends(interval))], _bounds(threshold), status,
            [f"{how} {fmt_interval(ev['value'], interval)} ({conf.get('aggregate_method') or 'interval'}); "
             f"allowed {fmt_threshold(threshold, params)}" + (f": {said}" if said else "")]))
    return out


def _ends(interval: list[Any]) -> tuple[float | None, float | None]:
    return tuple(float(v) if _number(v) else None for v in interval)  # type: ignore[return-value]


def _bounds(threshold: Any) -> list[Limit]:
    """The rule's ``min``/``max`` as lines (bounds of a baseline comparison are not on this axis)."""
    if not isinstance(threshold, dict):
        return []
    return [Limit(float(threshold[k]), f"{'maximum' if k == 'max' else 'minimum'} allowed", k)
            for k in ("min", "max") if _number(threshold.get(k))]


def group_limits(how: str, threshold: Any, values: list[float]) -> list[Limit]:
    """Each group against the bound as it applies to one group.

    For ``min``/``max`` the bound itself; for a difference at most ``d``, the smallest value
    plus ``d``; for a ratio at least ``r``, ``r`` times the largest value.
    """
    bounds = {lim.kind: lim.value for lim in _bounds(threshold)}
    if how in ("min", "max"):
        return _bounds(threshold)
    if how == "difference" and "max" in bounds:
        return [Limit(min(values) + bounds["max"], f"smallest + {fmt_value(bounds['max'])}", "max")]
    if how == "ratio" and "min" in bounds and max(values) > 0:
        return [Limit(bounds["min"] * max(values), f"{fmt_value(bounds['min'])} × the largest", "min")]
    return []


def interval_table(evidence: dict[str, Any]) -> Table:
    """Per group: rows, the metric with its interval, the minimum detectable effect, and any
    comparison with a baseline (the change with its interval)."""
    ev = groups_in_order(evidence)
    rows = [r for r in ev["groups"] if isinstance(r, dict)]
    metric, level = str(ev.get("metric") or "value"), _level(ev)
    power = _confidence(ev).get("mde_power")
    extra = [k for k in dict.fromkeys(k for r in rows for k in r) if k not in _SHOWN]
    changes = any("change" in r for r in rows)
    header = ["group", "count", f"{metric} [{level} interval]",
              "minimum detectable effect" + (f" ({power:.0%} power)" if _number(power) else ""), "excluded"]
    header += [*extra, *(["change [interval]"] if changes else [])]
    body = []
    for r in rows:
        line = [group_label(r.get("group")), fmt_value(r.get("count")), fmt_interval(r.get("value"), r.get("interval")),
                fmt_value(r.get("mde")), fmt_value(r.get("excluded"))]
        line += [fmt_value(r.get(k)) for k in extra]
        if changes:
            line.append(fmt_interval(r.get("change"), r.get("change_interval")))
        body.append(line)
    return Table(header, body, caption="groups")
