"""Verdicts of ``fairness.group_metric``: bounds, intervals and baselines into one outcome.

A comparison's verdict is ``pass`` when its interval (a point, without ``confidence``) lies
within the bounds, ``fail`` when it lies wholly beyond one of them, ``inconclusive`` otherwise.
The rule's outcome is the worst verdict, with a missing baseline handled as the rule's
``on_missing_baseline`` says.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from governance.checks import _relative as relative
from governance.checks.base import Outcome
from governance.display import group_label
from governance.metrics.groupwise import GroupMetric, aggregate, group_metric
from governance.metrics.intervals import Intervals, percentile_interval, replicates

#: Version of the evidence object's shape (documented in docs/policies.md).
SCHEMA_VERSION = 1
PASS, FAIL, INCONCLUSIVE = "pass", "fail", "inconclusive"
_RANK = {PASS: 0, INCONCLUSIVE: 1, FAIL: 2}
_SAYS = {PASS: "clears", FAIL: "lies beyond", INCONCLUSIVE: "straddles"}
_SHOWN = 3  # groups named in a message


def verdict(low: float, high: float, lower: float | None, upper: float | None) -> str:
    """``fail`` if ``[low, high]`` lies beyond a bound, ``pass`` if within both, else ``inconclusive``."""
    if (lower is not None and high < lower) or (upper is not None and low > upper):
        return FAIL
    if (lower is None or low >= lower) and (upper is None or high <= upper):
        return PASS
    return INCONCLUSIVE


def refuse_undefined(metric: GroupMetric, whose: str) -> None:
    """Raise naming the included groups whose metric is undefined (a zero denominator)."""
    undefined = metric.undefined_groups()
    if undefined:
        names = "; ".join(group_label(g) for g in undefined[:_SHOWN]) + ("; ..." if len(undefined) > _SHOWN else "")
        raise ValueError(f"{whose}{metric.spec.name} is undefined for {len(undefined)} group(s) "
                         f"({metric.spec.undefined}): {names}")


class Report:
    """The verdicts, numbers and evidence of one ``fairness.group_metric`` evaluation."""

    def __init__(self, current: GroupMetric, params: Any, value: float):
        self.current, self.params, self.value = current, params, value
        self.verdicts: list[str] = []
        self.texts: list[str] = []
        self.threshold: dict[str, float] = {}
        self.observed: Any = value
        self.missing: list[str] = []
        self.replicates: np.ndarray | None = None
        self.rows = [{"group": current.group(i), "count": int(current.count[i]), "value": float(current.value[i]),
                      "excluded": bool(current.excluded[i])} for i in range(len(current.count))]
        self.evidence: dict[str, Any] = {
            "schema_version": SCHEMA_VERSION, "metric": params.metric, "aggregate": params.aggregate, "value": value,
            "sensitive_features": list(params.sensitive_features), "min_group_size": params.min_group_size,
            "groups": self.rows, "excluded_groups": [r["group"] for r in self.rows if r["excluded"]]}

    def add_bound(self, found: str, value: float, params: Any, interval: tuple[float, float] | None = None) -> None:
        bounds = {k: getattr(params, k) for k in ("min", "max") if getattr(params, k) is not None}
        self.threshold.update(bounds)
        said = " and ".join(f"{k} {v}" for k, v in bounds.items())
        text = f"{params.metric} {params.aggregate} {value:.4g} "
        if interval is None:
            text += f"{'within' if found == PASS else 'outside'} {said}"
        else:
            text += (f"({params.confidence:.0%} interval [{interval[0]:.4g}, {interval[1]:.4g}], "
                     f"{self.evidence['confidence']['aggregate_method']}) {_SAYS[found]} {said}")
        self.verdicts.append(found)
        self.texts.append(f"{text} across {len(self.current.included)} groups of "
                          f"{', '.join(params.sensitive_features)} ({self._spread()})")

    def _spread(self) -> str:
        included = self.current.included
        values = self.current.value[included]
        low, high = included[int(np.argmin(values))], included[int(np.argmax(values))]
        return (f"{self.params.metric} {self.current.value[low]:.4g} ({group_label(self.current.group(low))}) to "
                f"{self.current.value[high]:.4g} ({group_label(self.current.group(high))})")

    def add_intervals(self, found: Intervals) -> None:
        for i, row in enumerate(self.rows):
            if not row["excluded"]:
                row["interval"] = [float(found.low[i]), float(found.high[i])]
                row["mde"] = float(found.mde[i])
        self.replicates = found.replicates
        self.evidence["confidence"] = {
            "level": found.confidence, "interval": list(found.aggregate), "aggregate_method": found.aggregate_method,
            "group_method": found.method, "bootstrap": {"samples": self.params.bootstrap_samples, "seed": self.params.seed},
            "mde_power": 0.8}

    def outcome(self) -> Outcome:
        worst = max(self.verdicts, key=_RANK.__getitem__, default=PASS)
        message = "; ".join(self.texts + self.missing)
        excluded = self.evidence["excluded_groups"]
        if excluded:
            message += f"; excluded {len(excluded)} group(s) under {self.params.min_group_size} rows"
        self.evidence["verdict"] = worst
        on_missing = self.params.on_missing_baseline if self.missing else "pass"
        args = dict(observed=self.observed, threshold=self.threshold, evidence=self.evidence)
        if worst == FAIL:
            return Outcome(False, message, **args)
        if on_missing == "block":
            return Outcome(False, message, **args, blocks=True)
        if worst == INCONCLUSIVE:
            blocks = None if self.params.on_inconclusive is None else self.params.on_inconclusive == "block"
            return Outcome(False, message, **args, inconclusive=True, blocks=blocks)
        if on_missing == "warn":
            return Outcome(False, message, **args, blocks=False)
        return Outcome(True, message, **args)


def against_baseline(report: Report, evidence: Any, params: Any) -> None:
    """Compare the current numbers with the baseline's, group by group or as the aggregate."""
    baseline, predictions, missing = relative.baseline_for(evidence, params)
    key = baseline.reference
    report.threshold.update(params.relative_bounds())
    report.evidence["baseline"] = {**relative.described(baseline, predictions, params, missing), "compare": params.compare}
    if predictions is None:
        report.missing.append(relative.missing_text(missing, params))
        return
    whose = f"baseline {baseline.label}: "
    try:
        base = group_metric(params.metric, predictions, params.sensitive_features, params.min_group_size)
    except ValueError as err:
        raise ValueError(f"{whose}{err}") from None
    current, ours, theirs = report.current, _positions(report.current), _positions(base)
    if params.compare == "aggregate":
        pairs, names = [(current.included, base.included)], [f"the {params.aggregate}"]
    else:
        matched = [k for k in ours if k in theirs]
        _note_unmatched(report, [k for k in ours if k not in theirs], baseline.label)
        pairs, names = [(np.array([ours[k]]), np.array([theirs[k]])) for k in matched], [group_label(dict(k)) for k in matched]
    if not pairs:
        return
    refuse_undefined(_subset(base, [b for _, b in pairs]), whose)
    now = _values(current, [p[0] for p in pairs], params, params.seed, report.replicates)
    then = _values(base, [p[1] for p in pairs], params, [params.seed, 1])
    if np.isnan(then[0]).any():
        raise ValueError(f"{whose}the {params.aggregate} of {params.metric} is undefined (its largest value is 0)")
    _judge(report, now, then, names, pairs, params, baseline.label, key)


def _positions(metric: GroupMetric) -> dict[tuple, int]:
    """``{group key: index}`` of the included groups."""
    return {tuple(metric.group(i).items()): int(i) for i in metric.included}


def _subset(metric: GroupMetric, groups: list[np.ndarray]) -> GroupMetric:
    keep = np.zeros(len(metric.count), dtype=bool)
    for g in groups:
        keep[g] = True
    return GroupMetric(metric.spec, metric.sensitive_features, metric.keys, metric.count, metric.stats,
                       metric.value, ~keep, metric.min_group_size, metric.group_id, metric.terms)


def _note_unmatched(report: Report, unmatched: list[tuple], label: str) -> None:
    if unmatched:
        names = "; ".join(group_label(dict(k)) for k in unmatched[:_SHOWN])
        report.evidence["baseline"]["unmatched_groups"] = [dict(k) for k in unmatched]
        report.missing.append(f"{len(unmatched)} group(s) have no baseline value in {label} (absent or under "
                              f"min_group_size): {names} (on_missing_baseline: {report.params.on_missing_baseline})")


def _values(metric: GroupMetric, index: list[np.ndarray], params: Any, seed: Any,
            reps: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray | None]:
    """Point values ``(P,)`` of the compared quantities and, with ``confidence``, replicates ``(B, P)``.

    Quantity ``j`` is the aggregate of groups ``index[j]`` (one group when comparing group by
    group). ``reps`` are replicates of the included groups already drawn, if any.
    """
    point = np.array([float(aggregate(metric.value[i], params.aggregate)) for i in index])
    if params.confidence is None:
        return point, None
    included = metric.included
    if reps is None:
        reps = replicates(metric, included, params.bootstrap_samples, seed)
    column = {int(g): j for j, g in enumerate(included)}
    draws = np.stack([aggregate(reps[:, [column[int(g)] for g in i]], params.aggregate) for i in index], axis=1)
    return point, draws


def _judge(report: Report, now, then, names: list[str], pairs, params, label: str, key: str) -> None:
    """Verdict of each compared quantity's change against the relative bounds; record and summarise."""
    change, relative, bounds = _changes(now, then, names, params)
    results = []
    for j in range(len(names)):
        found = verdict(bounds[0][j], bounds[1][j], _neg(params.max_decrease), params.max_increase)
        if params.max_relative_change is not None:
            limit = params.max_relative_change
            found = max(found, verdict(bounds[2][j], bounds[3][j], -limit, limit), key=_RANK.__getitem__)
        results.append(found)
        interval = None if now[1] is None else [float(bounds[0][j]), float(bounds[1][j])]
        _record(report, pairs[j], params, then[0][j], change[j], relative[j], found, interval)
    report.verdicts.append(max(results, key=_RANK.__getitem__))
    report.observed = {params.aggregate: report.value, "largest_increase": max(0.0, float(change.max())),
                       "largest_decrease": max(0.0, float(-change.min()))}
    if params.max_relative_change is not None:
        report.observed["largest_relative_change"] = float(np.abs(relative).max())
    report.texts.append(f"vs {key} {label}: {_summary(change, names, results, params)}")


def _changes(now, then, names: list[str], params) -> tuple[np.ndarray, np.ndarray, tuple]:
    """Changes, relative changes, and the bounds ``(low, high, relative low, relative high)`` judged."""
    change = now[0] - then[0]
    with np.errstate(divide="ignore", invalid="ignore"):
        relative = np.where(then[0] != 0, change / np.abs(then[0]), np.where(change == 0, 0.0, np.nan))
    if params.max_relative_change is not None and np.isnan(relative).any():
        group = names[int(np.argmax(np.isnan(relative)))]
        raise ValueError(f"the relative change of {params.metric} is undefined for {group}: the baseline's value is 0")
    if now[1] is None:
        return change, relative, (change, change, relative, relative)
    draws = now[1] - then[1]
    with np.errstate(divide="ignore", invalid="ignore"):
        relative_draws = np.where(then[1] != 0, draws / np.abs(then[1]), np.nan)
    return change, relative, (*percentile_interval(draws, params.confidence),
                              *percentile_interval(relative_draws, params.confidence))


def _summary(change: np.ndarray, names: list[str], results: list[str], params) -> str:
    said = " and ".join(f"{k} {getattr(params, k)}" for k in relative.BOUNDS if getattr(params, k) is not None)
    if params.compare == "aggregate":
        return f"the {params.aggregate} changed {change[0]:+.4g} ({_WORDS[results[0]]} {said})"
    named = [n for n, r in zip(names, results, strict=True) if r != PASS][:_SHOWN]
    parts = [f"{results.count(r)} {word}" for r, word in ((FAIL, "beyond"), (INCONCLUSIVE, "inconclusive"))
             if results.count(r)]
    text = (f"group by group, {' and '.join(parts)} of {len(names)} groups for {said} ({'; '.join(named)})"
            if named else f"group by group, all {len(names)} groups within {said}")
    largest = int(np.argmax(np.abs(change)))
    return f"{text}; largest change {change[largest]:+.4g} ({names[largest]})"


_WORDS = {PASS: "within", FAIL: "beyond", INCONCLUSIVE: "inconclusive for"}


def _neg(x: float | None) -> float | None:
    return None if x is None else -x


def _record(report: Report, pair, params, base_value, change, relative, found, interval) -> None:
    entry = {"baseline": float(base_value), "change": float(change), "verdict": found}
    if params.max_relative_change is not None:
        entry["relative_change"] = float(relative)
    if interval is not None:
        entry["change_interval"] = interval
    if params.compare == "aggregate":
        report.evidence["baseline"].update(entry)
    else:
        report.rows[int(pair[0][0])].update(entry)
