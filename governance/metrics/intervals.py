"""Confidence intervals of group metrics: Wilson for rates, a seeded vectorised bootstrap otherwise.

The methods (``docs/policies.md``, "Confidence-aware rules", states them for users):

* A group's **rate** (selection rate, accuracy, TPR, FNR, FPR, TNR, precision, NPV) gets the
  Wilson score interval of its numerator and denominator counts, equal to statsmodels'
  ``proportion_confint(method="wilson")``.
* Every other group metric, and a **difference or ratio** over groups, gets a percentile
  bootstrap interval. Groups are resampled independently, each at its own size (a stratified
  bootstrap). For count metrics a replicate draws the group's confusion cells from a
  multinomial with the group's size and observed cell shares, which is exactly resampling its
  rows and costs ``O(B * G)``; for mean metrics (log loss, Brier score, calibration gap, mean
  score, regression errors) every row gets a Poisson(1) weight per replicate, drawn in chunks of
  at most :data:`CHUNK` numbers, so memory stays bounded whatever the row count. numpy's PCG64
  generator is seeded with the rule's ``seed``: the same rows and seed give the same interval.
* A **min or max** over groups gets the min (max) of the groups' lower and upper bounds: when
  every group's interval holds its true value, this interval holds the true min (max).
* A replicate in which a metric is undefined (a resampled zero denominator) counts as lower
  than every value for the lower bound and higher than every value for the upper bound, so
  intervals only widen; past ``(1 - confidence) / 2`` of such replicates a bound is infinite.
* A group's **minimum detectable effect** is ``(z(1 - alpha/2) + z(power)) * standard error``
  with power :data:`POWER`: the smallest true change of the group's metric that a two-sided
  test at the rule's confidence detects with that power at the group's size. The standard error
  of a rate is ``sqrt(p * (1 - p) / n)`` at the Wilson centre ``p``; otherwise the bootstrap
  standard deviation.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np

from governance.metrics.groupwise import GroupMetric, aggregate

#: Most random numbers drawn at once by the bootstrap (float64: 32 MiB).
CHUNK = 1 << 22
#: Power at which the minimum detectable effect is stated.
POWER = 0.8


def z_value(confidence: float) -> float:
    """The two-sided normal critical value of ``confidence`` (1.959964 for 0.95)."""
    return NormalDist().inv_cdf(0.5 + confidence / 2)


def wilson(successes: np.ndarray, trials: np.ndarray, confidence: float) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score intervals of ``successes / trials``, clipped to [0, 1]; ``NaN`` where ``trials`` is 0."""
    k, n = np.asarray(successes, dtype=float), np.asarray(trials, dtype=float)
    z2 = z_value(confidence) ** 2
    with np.errstate(divide="ignore", invalid="ignore"):
        share = k / n
        denom = 1 + z2 / n
        centre = (share + z2 / (2 * n)) / denom
        half = np.sqrt(z2) * np.sqrt(share * (1 - share) / n + z2 / (4 * n**2)) / denom
    return np.clip(centre - half, 0, 1), np.clip(centre + half, 0, 1)


def percentile_interval(replicates: np.ndarray, confidence: float) -> tuple[np.ndarray, np.ndarray]:
    """Percentile bounds over axis 0; undefined (``NaN``) replicates widen both bounds."""
    tail = round((1 - confidence) / 2, 12)  # 0.05, not 0.04999999999999999, for 0.9
    undefined = np.isnan(replicates)
    low = np.quantile(np.where(undefined, -np.inf, replicates), tail, axis=0, method="lower")
    high = np.quantile(np.where(undefined, np.inf, replicates), 1 - tail, axis=0, method="higher")
    return low, high


def replicates(metric: GroupMetric, groups: np.ndarray, samples: int, seed: int | list[int]) -> np.ndarray:
    """Bootstrap replicates of the metric of ``groups`` (indexes): shape ``(samples, len(groups))``."""
    rng = np.random.default_rng(seed)
    if metric.spec.kind == "count":
        return _multinomial(metric, groups, samples, rng)
    return _poisson(metric, groups, samples, rng)


def _multinomial(metric: GroupMetric, groups: np.ndarray, samples: int, rng: np.random.Generator) -> np.ndarray:
    cells = metric.stats[groups]
    sizes = cells.sum(axis=1)
    shares = cells / sizes[:, None]
    step = max(1, CHUNK // (4 * max(len(groups), 1)))
    out = []
    for start in range(0, samples, step):
        drawn = rng.multinomial(sizes.astype(np.int64), shares, size=(min(step, samples - start), len(groups)))
        out.append(metric.spec.value(drawn.astype(float)))
    return np.concatenate(out)


def _poisson(metric: GroupMetric, groups: np.ndarray, samples: int, rng: np.random.Generator) -> np.ndarray:
    position = np.full(len(metric.count), -1)
    position[groups] = np.arange(len(groups))
    row_group = position[metric.group_id]
    rows = np.flatnonzero(row_group >= 0)
    order = rows[np.argsort(row_group[rows], kind="stable")]
    starts = np.searchsorted(row_group[order], np.arange(len(groups)))
    spans = list(zip(starts.tolist(), [*starts[1:].tolist(), len(order)], strict=True))
    design = np.column_stack([np.ones(len(order)), metric.row_terms()[order]])  # weight total, then the terms
    step = max(1, CHUNK // max(len(order), 1))
    out = []
    for start in range(0, samples, step):
        draws = rng.integers(0, 1 << 16, size=(min(step, samples - start), len(order)), dtype=np.uint16)
        weights = _POISSON_1[draws]
        sums = np.stack([weights[:, a:z] @ design[a:z] for a, z in spans], axis=1)  # (b, groups, 1 + k)
        with np.errstate(divide="ignore", invalid="ignore"):
            means = np.where(sums[..., :1] > 0, sums[..., 1:] / sums[..., :1], np.nan)
        out.append(metric.spec.finish(means))
    return np.concatenate(out)


def _poisson_table() -> np.ndarray:
    """Poisson(1) by inverse CDF from a 16-bit uniform integer: ``table[u]`` for ``u`` in 0..65535.

    Each count ``k`` gets ``round(65536 * P(K <= k)) - round(65536 * P(K < k))`` of the 65536
    entries, so its probability is exact to 2**-16; a table lookup costs a fraction of
    ``Generator.poisson``, which dominates the bootstrap of large evaluation sets otherwise.
    """
    pmf = [math.exp(-1) / math.factorial(k) for k in range(16)]
    edges = np.round(np.cumsum(pmf) * (1 << 16)).astype(np.int64)
    return np.searchsorted(edges, np.arange(1 << 16), side="right").astype(np.float64)


_POISSON_1 = _poisson_table()


@dataclass(frozen=True)
class Intervals:
    """Intervals of one metric's included groups and of its aggregate.

    ``low``, ``high`` and ``mde`` are per group (``NaN`` for excluded groups); ``method`` says
    how the group intervals were made (``wilson`` or ``bootstrap``), ``aggregate_method`` how
    the aggregate's was; ``replicates`` holds the included groups' bootstrap draws, if any.
    """

    confidence: float
    low: np.ndarray
    high: np.ndarray
    mde: np.ndarray
    method: str
    aggregate: tuple[float, float]
    aggregate_method: str
    replicates: np.ndarray | None


def intervals(metric: GroupMetric, how: str, confidence: float, samples: int, seed: int) -> Intervals:
    """Group and aggregate intervals at ``confidence`` (see the module docstring for the methods)."""
    included = metric.included
    spread = z_value(confidence) + NormalDist().inv_cdf(POWER)
    low, high, mde = (np.full(len(metric.count), np.nan) for _ in range(3))
    rate = metric.spec.rate
    needs_bootstrap = rate is None or how in ("difference", "ratio")
    reps = replicates(metric, included, samples, seed) if needs_bootstrap and len(included) else None
    if rate is not None:
        k, n = (metric.stats[:, list(cells)].sum(axis=1) for cells in rate)
        low, high = wilson(k, n, confidence)
        z2 = z_value(confidence) ** 2
        with np.errstate(divide="ignore", invalid="ignore"):
            centre = (k + z2 / 2) / (n + z2)
            mde = spread * np.sqrt(centre * (1 - centre) / n)
    elif reps is not None:
        low[included], high[included] = percentile_interval(reps, confidence)
        with np.errstate(invalid="ignore"):
            mde[included] = spread * np.nanstd(reps, axis=0, ddof=1)
    low[metric.excluded] = high[metric.excluded] = mde[metric.excluded] = np.nan
    if how in ("min", "max"):
        pick = np.min if how == "min" else np.max
        bounds = (float(pick(low[included])), float(pick(high[included]))) if len(included) else (np.nan, np.nan)
        method = "min of group bounds" if how == "min" else "max of group bounds"
    else:
        low_high = percentile_interval(aggregate(reps, how), confidence) if reps is not None else (np.nan, np.nan)
        bounds = (float(low_high[0]), float(low_high[1]))
        method = "percentile bootstrap"
    return Intervals(confidence, low, high, mde, "wilson" if rate else "bootstrap", bounds, method, reps)
