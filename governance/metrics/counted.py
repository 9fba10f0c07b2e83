"""One column's reference and current partials, as the drift statistics read them.

A :class:`CountedSample` pairs the two :class:`~governance.metrics.partials.ColumnPartial` of a
column and derives what the tests need from counts alone: the distinct values of both datasets
with their counts, binned shares, the reference's standard deviation. Nothing here depends on
how the rows were read, so the in-memory, streaming and Spark engines give the same numbers.

When a column had more distinct values than a bounded engine counts (``overflow``), a second
pass over the data fills :class:`Histograms` of equal-width bins over the column's range; the
Sturges histogram then stays exact, and the Wasserstein distance and Kolmogorov-Smirnov
statistic become estimates with a proven bound (:mod:`governance.metrics.sketch`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from governance.metrics.partials import ColumnPartial, canonical_order

# evidently bins a numerical column into a Sturges histogram only when its reference sample has
# more distinct values than this; below it, each distinct value is its own bin.
HISTOGRAM_MIN_DISTINCT = 20
#: Equal-width bins of the second pass that estimates Wasserstein and KS past the cap.
SKETCH_BINS = 1 << 18


@dataclass
class Histograms:
    """Second-pass counts of one numerical column: ``{bins: (ref_counts, cur_counts)}`` over
    ``[low, high]``, and for :data:`SKETCH_BINS` the sums of each value's offset from its bin's
    left edge, ``(ref_offsets, cur_offsets)``."""

    low: float
    high: float
    counts: dict[int, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)
    offsets: tuple[np.ndarray, np.ndarray] | None = None


def sturges_edges(low: float, high: float, size: int) -> np.ndarray:
    """``np.histogram_bin_edges(x, bins="sturges")`` of any ``x`` with this min, max and size."""
    first, last = low, high
    if first == last:
        first, last = first - 0.5, last + 0.5
    width = (high - low) / (np.log2(size) + 1.0)
    n_bins = int(np.ceil((last - first) / width)) if width else 1
    return np.linspace(first, last, n_bins + 1, endpoint=True)


def outer_range(low: float, high: float) -> tuple[float, float]:
    """The range numpy bins over: widened by 0.5 each side when it is a single point."""
    return (low - 0.5, high + 0.5) if low == high else (low, high)


def bin_counts(values: np.ndarray, bins: int, low: float, high: float, weights=None) -> np.ndarray:
    """Counts (or weight sums) per equal-width bin, numpy's own bin assignment."""
    return np.histogram(values, bins=bins, range=outer_range(low, high), weights=weights)[0]


def binned(values: np.ndarray, bins: int, low: float, high: float) -> tuple[np.ndarray, np.ndarray]:
    """Counts per equal-width bin (numpy's bin assignment) and the sums of each value's offset
    from its bin's left edge: what the Wasserstein and KS estimates need."""
    first, last = outer_range(low, high)
    edges = np.linspace(first, last, bins + 1)
    index = ((values - first) / (last - first) * bins).astype(np.intp)
    index[index == bins] -= 1
    index[values < edges[index]] -= 1  # within an ulp of an edge, as numpy corrects it
    index[(values >= edges[index + 1]) & (index != bins - 1)] += 1
    return (np.bincount(index, minlength=bins),
            np.bincount(index, weights=values - edges[index], minlength=bins))


class CountedSample:
    """A column's reference and current partials; ``kind`` is ``"num"`` or ``"cat"``."""

    def __init__(self, kind: str, ref: ColumnPartial, cur: ColumnPartial, histograms: Histograms | None = None):
        if kind not in ("num", "cat"):
            raise ValueError(f"kind must be 'num' or 'cat', got {kind!r}")
        self.kind, self.ref_part, self.cur_part, self.histograms = kind, ref, cur, histograms

    @property
    def n_ref(self) -> int:
        return self.ref_part.present

    @property
    def n_cur(self) -> int:
        return self.cur_part.present

    @property
    def exact(self) -> bool:
        """Every distinct value of both datasets was counted."""
        return not (self.ref_part.overflow or self.cur_part.overflow)

    @cached_property
    def value_counts(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(keys, ref_counts, cur_counts)`` over the distinct values seen in either dataset."""
        ref_keys, ref_counts = self.ref_part.value_counts()
        cur_keys, cur_counts = self.cur_part.value_counts()
        if self.kind == "num":
            return _merge_sorted(np.asarray(ref_keys, dtype=np.float64), ref_counts,
                                 np.asarray(cur_keys, dtype=np.float64), cur_counts)
        ref_map = dict(zip(_plain(ref_keys), ref_counts.tolist(), strict=True))
        cur_map = dict(zip(_plain(cur_keys), cur_counts.tolist(), strict=True))
        keys = canonical_order(list({**ref_map, **cur_map}))
        out = np.empty(len(keys), dtype=object)
        out[:] = keys
        return (out, np.array([ref_map.get(k, 0) for k in keys], dtype=np.int64),
                np.array([cur_map.get(k, 0) for k in keys], dtype=np.int64))

    @property
    def ref_nunique(self) -> int:
        """Distinct values in the reference (more than the cap when it overflowed)."""
        n = self.ref_part.n_distinct
        return HISTOGRAM_MIN_DISTINCT + 1 if n is None else n

    def n_distinct_upto(self, limit: int) -> int:
        """Distinct values in both datasets together, capped at ``limit + 1``."""
        if not self.exact:
            return limit + 1
        return min(int(self.value_counts[0].size), limit + 1)

    @cached_property
    def ref_std(self) -> float:
        """Population standard deviation of the reference values (as ``np.std``)."""
        if self.ref_part.overflow:
            n, _, m2 = self.ref_part.moments
            return float(np.sqrt(m2 / n))
        keys, counts = self.ref_part.value_counts()
        keys = np.asarray(keys, dtype=np.float64)
        mean = np.dot(keys, counts) / counts.sum()
        return float(np.sqrt(np.dot(np.square(keys - mean), counts) / counts.sum()))

    @property
    def pooled_range(self) -> tuple[float, float]:
        return min(self.ref_part.low, self.cur_part.low), max(self.ref_part.high, self.cur_part.high)

    def sturges_counts(self) -> tuple[np.ndarray, np.ndarray]:
        """Counts per bin of the Sturges histogram over both datasets (evidently's binning)."""
        low, high = self.pooled_range
        edges = sturges_edges(low, high, self.n_ref + self.n_cur)
        bins = edges.size - 1
        if self.exact:
            keys, ref, cur = self.value_counts
            return (bin_counts(keys, bins, low, high, ref).astype(np.int64),
                    bin_counts(keys, bins, low, high, cur).astype(np.int64))
        return self._second_pass(bins)

    def _second_pass(self, bins: int) -> tuple[np.ndarray, np.ndarray]:
        if self.histograms is None or bins not in self.histograms.counts:
            raise ValueError(f"the {bins}-bin histogram of the second pass is missing")
        return self.histograms.counts[bins]

    def binned_shares(self, fill_zeros: bool) -> tuple[np.ndarray, np.ndarray]:
        """Shares of reference and current rows per bin, binned as evidently bins them.

        A numerical column whose reference has more than 20 distinct values is cut into a
        Sturges histogram over both datasets; any other column gets one bin per distinct value.
        With ``fill_zeros`` (PSI and KL divergence) empty bins receive a tiny share so that
        logarithms stay finite: a millionth of the smallest non-empty share when that share is
        at most 1e-4, else 1e-4.
        """
        if self.kind == "num" and self.ref_nunique > HISTOGRAM_MIN_DISTINCT:
            ref_counts, cur_counts = self.sturges_counts()
        else:
            _, ref_counts, cur_counts = self.value_counts
        ref, cur = ref_counts / self.n_ref, cur_counts / self.n_cur
        if fill_zeros:
            ref, cur = _fill_zeros(ref), _fill_zeros(cur)
        return ref, cur

    def arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """The sorted values of both datasets, rebuilt from their counts (small samples, and
        the one test that needs every value: Anderson-Darling)."""
        keys, ref, cur = self.value_counts
        return np.repeat(keys, ref), np.repeat(keys, cur)


def _merge_sorted(ref_keys, ref_counts, cur_keys, cur_counts) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The union of two sorted key arrays and each side's counts aligned on it.

    A stable sort of the two concatenated sorted runs is a merge (timsort finds the runs).
    """
    keys = np.concatenate([ref_keys, cur_keys])
    order = np.argsort(keys, kind="stable")
    merged = keys[order]
    new = np.empty(merged.size, dtype=bool)
    new[:1] = True
    np.not_equal(merged[1:], merged[:-1], out=new[1:])
    slot = np.cumsum(new) - 1
    from_ref = order < ref_keys.size
    size = int(slot[-1]) + 1 if slot.size else 0
    ref = np.bincount(slot[from_ref], weights=ref_counts[order[from_ref]], minlength=size)
    cur = np.bincount(slot[~from_ref], weights=cur_counts[order[~from_ref] - ref_keys.size], minlength=size)
    return merged[new], ref.astype(np.int64), cur.astype(np.int64)


def _plain(values) -> list:
    return values.tolist() if isinstance(values, np.ndarray) else list(values)


def _fill_zeros(shares: np.ndarray) -> np.ndarray:
    smallest = shares[shares != 0].min()
    fill = smallest / 10**6 if smallest <= 0.0001 else 0.0001
    return np.where(shares == 0, fill, shares)
