"""Verdicts of ``fairness.group_metric``: bounds, intervals and baselines into one outcome.

A comparison's verdict is ``pass`` when its interval (a point, without ``confidence``) lies
within the bounds, ``fail`` when it lies wholly beyond one of them, ``inconclusive`` otherwise.
The rule's outcome is the worst verdict, with a missing baseline handled as the rule's
``on_missing_baseline`` says. Comparisons with a baseline are in
:mod:`governance.checks._group_baseline`; multiclass metrics get one :class:`Report` per class,
and the worst class's decides (:mod:`governance.checks._group_classes`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from governance.checks.base import Outcome
from governance.display import group_label
from governance.metrics.groupwise import GroupMetric
from governance.metrics.intervals import Intervals

#: Version of the evidence object's shape (documented in docs/policies.md).
SCHEMA_VERSION = 1
PASS, FAIL, INCONCLUSIVE = "pass", "fail", "inconclusive"
RANK = {PASS: 0, INCONCLUSIVE: 1, FAIL: 2}
_SAYS = {PASS: "clears", FAIL: "lies beyond", INCONCLUSIVE: "straddles"}
SHOWN = 3  # groups named in a message


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
        names = "; ".join(group_label(g) for g in undefined[:SHOWN]) + ("; ..." if len(undefined) > SHOWN else "")
        raise ValueError(f"{whose}{metric.what} is undefined for {len(undefined)} group(s) "
                         f"({metric.why_undefined}): {names}")


class Report:
    """The verdicts, numbers and evidence of one ``fairness.group_metric`` evaluation."""

    def __init__(self, current: GroupMetric, params: Any, value: float):
        self.current, self.params, self.value = current, params, value
        self.verdicts: list[str] = []
        self.texts: list[str] = []
        self.threshold: dict[str, float] = {}
        self.observed: Any = value
        self.missing: list[str] = []
        self.excesses: list[float] = []  # how far beyond each bound (negative: within), for ranking classes
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
        text = f"{self.current.what} {params.aggregate} {value:.4g} "
        if interval is None:
            text += f"{'within' if found == PASS else 'outside'} {said}"
        else:
            text += (f"({params.confidence:.0%} interval [{interval[0]:.4g}, {interval[1]:.4g}], "
                     f"{self.evidence['confidence']['aggregate_method']}) {_SAYS[found]} {said}")
        self.verdicts.append(found)
        self.excesses.append(max(bounds.get("min", -np.inf) - value, value - bounds.get("max", np.inf)))
        self.texts.append(f"{text} across {len(self.current.included)} groups of "
                          f"{', '.join(params.sensitive_features)} ({self._spread()})")

    def _spread(self) -> str:
        included = self.current.included
        values = self.current.value[included]
        low, high = included[int(np.argmin(values))], included[int(np.argmax(values))]
        return (f"{self.current.what} {self.current.value[low]:.4g} ({group_label(self.current.group(low))}) to "
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

    def verdict(self) -> str:
        """The worst verdict of the comparisons so far (``pass`` without any)."""
        return max(self.verdicts, key=RANK.__getitem__, default=PASS)

    def excess(self) -> float:
        """How far the number lies beyond the rule's farthest-exceeded bound (negative: within all)."""
        return max(self.excesses, default=-np.inf)

    def outcome(self) -> Outcome:
        worst = self.verdict()
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
