"""Comparisons of ``fairness.group_metric`` with a registered baseline, group by group or as the aggregate.

Each group's metric (or, with ``compare: aggregate``, the aggregate) is compared with the same
number of the baseline's predictions, computed as the current model's is: for multiclass
predictions class by class, classes matched by label. With ``confidence`` the change gets a
percentile interval from the current and the baseline's bootstrap replicates, drawn
independently.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from governance.baseline import Baseline
from governance.checks import _relative as relative
from governance.checks._group_compare import (
    FAIL,
    INCONCLUSIVE,
    PASS,
    RANK,
    SHOWN,
    Report,
    refuse_undefined,
    verdict,
)
from governance.display import group_label
from governance.evidence import task_of
from governance.evidence_input import canonical, show
from governance.metrics.groupwise import GroupMetric, aggregate, class_text
from governance.metrics.groupwise_classes import ClassMetrics, class_metrics
from governance.metrics.intervals import percentile_interval, replicates


@dataclass(frozen=True)
class BaselineNumbers:
    """The baseline of a rule and its metric per group, by class (``None`` for one that is no class's)."""

    baseline: Baseline
    predictions: Any
    missing: str | None
    metrics: dict[Any, GroupMetric]


def baseline_numbers(evidence: Any, params: Any, measured: ClassMetrics) -> BaselineNumbers:
    """The baseline's metric of the classes ``measured`` holds, computed as the current model's.

    Raises
    ------
    ValueError
        The baseline's predictions are of another task, or its metric cannot be computed.
    """
    baseline, predictions, missing = relative.baseline_for(evidence, params)
    if predictions is None:
        return BaselineNumbers(baseline, None, missing, {})
    whose = f"baseline {baseline.label}: "
    if task_of(predictions) != measured.task:
        raise ValueError(f"{whose}its predictions are {task_of(predictions)}, the current ones {measured.task}; "
                         f"a comparison needs predictions of the same task")
    labels = [m.label for m in measured.metrics] if measured.per_class else None
    try:
        theirs = class_metrics(params.metric, predictions, params.sensitive_features, params.min_group_size, labels)
    except ValueError as err:
        raise ValueError(f"{whose}{err}") from None
    return BaselineNumbers(baseline, predictions, missing, {_class_key(m.label): m for m in theirs.metrics})


def _class_key(label: Any) -> str | None:
    return None if label is None else canonical(label)


def against_baseline(report: Report, numbers: BaselineNumbers, params: Any) -> None:
    """Compare the current numbers with the baseline's, group by group or as the aggregate."""
    baseline, predictions, missing = numbers.baseline, numbers.predictions, numbers.missing
    key = baseline.reference
    report.threshold.update(params.relative_bounds())
    report.evidence["baseline"] = {**relative.described(baseline, predictions, params, missing), "compare": params.compare}
    if predictions is None:
        report.missing.append(relative.missing_text(missing, params))
        return
    whose = f"baseline {baseline.label}: "
    current = report.current
    base = numbers.metrics.get(_class_key(current.label))
    if base is None:  # a class the baseline's predictions do not have
        report.evidence["baseline"]["unmatched_class"] = True
        report.missing.append(f"class {class_text(current.label)} is not a class of {baseline.label} (its classes: "
                              f"{show(predictions.classes)}) (on_missing_baseline: {params.on_missing_baseline})")
        return
    ours, theirs = _positions(current), _positions(base)
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
        raise ValueError(f"{whose}the {params.aggregate} of {base.what} is undefined (its largest value is 0)")
    _judge(report, now, then, names, pairs, params, baseline.label, key)


def _positions(metric: GroupMetric) -> dict[tuple, int]:
    """``{group key: index}`` of the included groups."""
    return {tuple(metric.group(i).items()): int(i) for i in metric.included}


def _subset(metric: GroupMetric, groups: list[np.ndarray]) -> GroupMetric:
    keep = np.zeros(len(metric.count), dtype=bool)
    for g in groups:
        keep[g] = True
    return replace(metric, excluded=~keep)


def _note_unmatched(report: Report, unmatched: list[tuple], label: str) -> None:
    if unmatched:
        names = "; ".join(group_label(dict(k)) for k in unmatched[:SHOWN])
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
    change, relative, bounds = _changes(now, then, names, params, report.current.what)
    report.excesses.append(_excess(change, relative, params))
    results = []
    for j in range(len(names)):
        found = verdict(bounds[0][j], bounds[1][j], _neg(params.max_decrease), params.max_increase)
        if params.max_relative_change is not None:
            limit = params.max_relative_change
            found = max(found, verdict(bounds[2][j], bounds[3][j], -limit, limit), key=RANK.__getitem__)
        results.append(found)
        interval = None if now[1] is None else [float(bounds[0][j]), float(bounds[1][j])]
        _record(report, pairs[j], params, then[0][j], change[j], relative[j], found, interval)
    report.verdicts.append(max(results, key=RANK.__getitem__))
    report.observed = {params.aggregate: report.value, "largest_increase": max(0.0, float(change.max())),
                       "largest_decrease": max(0.0, float(-change.min()))}
    if params.max_relative_change is not None:
        report.observed["largest_relative_change"] = float(np.abs(relative).max())
    whose = "" if report.current.label is None else f", {report.current.what}"
    report.texts.append(f"vs {key} {label}{whose}: {_summary(change, names, results, params)}")


def _excess(change: np.ndarray, relative: np.ndarray, params: Any) -> float:
    """How far the largest change lies beyond its bound (negative: within every bound)."""
    beyond = [change - params.max_increase if params.max_increase is not None else None,
              -change - params.max_decrease if params.max_decrease is not None else None,
              np.abs(relative) - params.max_relative_change if params.max_relative_change is not None else None]
    return float(max(np.max(b) for b in beyond if b is not None))


def _changes(now, then, names: list[str], params, what: str) -> tuple[np.ndarray, np.ndarray, tuple]:
    """Changes, relative changes, and the bounds ``(low, high, relative low, relative high)`` judged."""
    change = now[0] - then[0]
    with np.errstate(divide="ignore", invalid="ignore"):
        relative = np.where(then[0] != 0, change / np.abs(then[0]), np.where(change == 0, 0.0, np.nan))
    if params.max_relative_change is not None and np.isnan(relative).any():
        group = names[int(np.argmax(np.isnan(relative)))]
        raise ValueError(f"the relative change of {what} is undefined for {group}: the baseline's value is 0")
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
    named = [n for n, r in zip(names, results, strict=True) if r != PASS][:SHOWN]
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
