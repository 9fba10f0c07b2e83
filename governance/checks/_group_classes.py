"""The worst class decides a multiclass ``fairness.group_metric`` rule.

A one-vs-rest metric of multiclass predictions gets one :class:`~governance.checks._group_compare.Report`
per class compared, each judged exactly as a binary rule's (bounds, intervals, baseline). The rule
is decided on the *worst class*: the class with the worst verdict (``fail``, then
``inconclusive``, then ``pass``) and, among classes with the same verdict, the one farthest beyond
a bound of the rule, or when every class is within, the closest to one. With ``max`` alone that
is the class with the largest aggregate; with ``min`` alone, the smallest; with both, the one
farthest outside, then the closest to its bound. A rule is therefore ``failed`` when any class's
comparison fails, ``inconclusive`` when none fails and some class's interval straddles a bound,
``passed`` only when every class's clears.

The finding is the worst class's (its message, its per-group table, its interval), named in
``worst_class``; ``classes`` carries every class's aggregate and verdict.
"""

from __future__ import annotations

from typing import Any

from governance.checks._group_compare import RANK, Report
from governance.checks.base import Outcome
from governance.metrics.groupwise import class_text, plain
from governance.metrics.groupwise_classes import ClassMetrics

_LISTED = 8  # classes listed in a message


def decide(reports: list[Report], measured: ClassMetrics, params: Any) -> Outcome:
    """The outcome of the rule: the only report's, or the worst class's with every class's numbers."""
    if not measured.per_class:
        return reports[0].outcome()
    order = sorted(range(len(reports)), key=lambda i: (RANK[reports[i].verdict()], reports[i].excess()), reverse=True)
    worst = reports[order[0]]
    worst.missing = list(dict.fromkeys(text for report in reports for text in report.missing))
    worst.evidence.update({
        "task": "multiclass", "worst_class": plain(worst.current.label), "favorable_class": plain(measured.favorable_class),
        "classes": [_entry(report) for report in reports]})
    worst.texts.append(_said(reports, order, measured, params))
    return worst.outcome()


def _entry(report: Report) -> dict[str, Any]:
    """One class's numbers: its aggregate, verdict, interval and change from the baseline."""
    entry: dict[str, Any] = {"class": plain(report.current.label), "value": report.value, "verdict": report.verdict()}
    if "confidence" in report.evidence:
        entry["interval"] = report.evidence["confidence"]["interval"]
    if isinstance(report.observed, dict):  # compared with a baseline
        entry.update({k: v for k, v in report.observed.items() if k.startswith("largest_")})
    if report.evidence.get("baseline", {}).get("unmatched_class"):
        entry["unmatched"] = True
    return entry


def _said(reports: list[Report], order: list[int], measured: ClassMetrics, params: Any) -> str:
    """``the worst of 3 classes (difference per class: 'B' 0.42, 'C' 0.2, 'A' 0.1)``."""
    if measured.favorable_class is not None:
        return f"class {class_text(measured.favorable_class)} is the favourable class, the only one compared"
    compared = any(report.verdicts for report in reports)  # none without a baseline to compare with
    if not compared:
        order = list(range(len(reports)))
    listed = ", ".join(f"{class_text(reports[i].current.label)} {reports[i].value:.4g}" for i in order[:_LISTED])
    more = f", and {len(order) - _LISTED} more" if len(order) > _LISTED else ""
    if not compared:
        return f"{len(reports)} classes, none compared ({params.aggregate} per class: {listed}{more})"
    return f"the worst of {len(reports)} classes ({params.aggregate} per class, worst first: {listed}{more})"
