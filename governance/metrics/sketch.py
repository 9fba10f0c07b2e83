"""Wasserstein distance and Kolmogorov-Smirnov statistic from binned data, with proven bounds.

Used only when a column has more distinct values than a bounded engine counts. The second pass
over the data fills, for each dataset, the count of values in each of ``B`` equal-width bins
over the column's range and the sum of each value's offset from its bin's left edge.

Within bin ``k`` (left edge ``a``, width ``w``), let ``g = F_ref - F_cur`` be the difference of
the two empirical distribution functions, ``D`` its value just before the bin, ``p`` and ``q``
the reference and current shares of rows in the bin. Then ``g`` stays in ``[D - q, D + p]``
across the bin, and its integral over the bin is known exactly from the counts and offsets:
``∫ F = P w + (c w - T) / n`` for a dataset with ``P`` rows before the bin, ``c`` in it and
offset sum ``T``. Where ``g`` cannot change sign in the bin, ``∫|g| = |∫ g|`` exactly; where it
can, ``∫|g|`` lies between ``|∫ g|`` and ``w · max(|D - q|, |D + p|)``. The Wasserstein
estimate takes the middle of each such interval; its error is at most half the summed widths,
which is reported. The KS statistic ``sup |g|`` lies between the largest ``|D|`` at the edges
and the largest ``max(|D - q|, |D + p|)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Estimate:
    """A statistic known to lie in ``[low, high]``; ``value`` is the reported estimate."""

    value: float
    low: float
    high: float

    @property
    def error_bound(self) -> float:
        return max(self.value - self.low, self.high - self.value)


def _cdf_steps(ref_counts, cur_counts):
    n_ref, n_cur = ref_counts.sum(), cur_counts.sum()
    p, q = ref_counts / n_ref, cur_counts / n_cur
    before_ref = np.concatenate([[0.0], np.cumsum(ref_counts)[:-1]]) / n_ref
    before_cur = np.concatenate([[0.0], np.cumsum(cur_counts)[:-1]]) / n_cur
    return before_ref - before_cur, p, q


def wasserstein(edges: np.ndarray, ref_counts: np.ndarray, cur_counts: np.ndarray,
                ref_offsets: np.ndarray, cur_offsets: np.ndarray) -> Estimate:
    """First Wasserstein distance between the two datasets binned on ``edges``, with bounds."""
    widths = np.diff(edges)
    d, p, q = _cdf_steps(ref_counts, cur_counts)
    n_ref, n_cur = ref_counts.sum(), cur_counts.sum()
    # ∫ g over the bin, from counts and offsets: (P_ref - P_cur) w + ((c w - T)/n)_ref - (...)_cur
    integral = d * widths + (ref_counts * widths - ref_offsets) / n_ref - (cur_counts * widths - cur_offsets) / n_cur
    low_g, high_g = d - q, d + p
    definite = (low_g >= 0) | (high_g <= 0)
    exact = np.abs(integral)
    upper = np.where(definite, exact, widths * np.maximum(np.abs(low_g), np.abs(high_g)))
    upper = np.maximum(upper, exact)  # rounding must not make the interval empty
    middle = np.where(definite, exact, (exact + upper) / 2)
    return Estimate(float(middle.sum()), float(exact.sum()), float(upper.sum()))


def ks_statistic(ref_counts: np.ndarray, cur_counts: np.ndarray) -> Estimate:
    """Two-sided KS statistic ``sup |F_ref - F_cur|`` of the binned datasets, with bounds."""
    d, p, q = _cdf_steps(ref_counts, cur_counts)
    low = float(np.abs(d).max()) if d.size else 0.0
    high = float(np.maximum(np.abs(d - q), np.abs(d + p)).max())
    return Estimate((low + high) / 2, low, high)
