"""One column's values in a reference and a current sample, ready for two-sample statistics.

A :class:`Sample` holds the non-missing values of one column in both datasets and derives, on
first use only, what the statistics need: sorted values, the distinct values of both samples
with their counts, and binned shares. Deriving lazily matters at a million rows: a default
Wasserstein test needs the sorted values but never the value counts, a Jensen-Shannon test on a
categorical column needs the counts but never a sort.
"""

from __future__ import annotations

from functools import cached_property

import numpy as np

# evidently bins a numerical column into a Sturges histogram only when its reference sample has
# more distinct values than this; below it, each distinct value is its own bin.
HISTOGRAM_MIN_DISTINCT = 20
# Whole numbers spanning at most this many values (or as many as there are rows) are counted.
INTEGER_SPAN_MIN = 1 << 16


class Sample:
    """Non-missing values of one column in the reference and the current data.

    Parameters
    ----------
    kind : ``"num"`` or ``"cat"``
    ref, cur : for ``"num"``, finite float64 values; for ``"cat"``, integer codes into ``keys``
    keys : for ``"cat"``, the distinct observed values (the codes index them); ``None`` for
        ``"num"``, whose distinct values are derived from the data when needed
    """

    def __init__(self, kind: str, ref: np.ndarray, cur: np.ndarray, keys: np.ndarray | None = None):
        if kind not in ("num", "cat"):
            raise ValueError(f"kind must be 'num' or 'cat', got {kind!r}")
        if kind == "cat" and keys is None:
            raise ValueError("a categorical sample needs its keys")
        self.kind = kind
        self.ref = ref
        self.cur = cur
        self._keys = keys

    @classmethod
    def numeric(cls, ref: np.ndarray, cur: np.ndarray) -> Sample:
        """A numerical sample from two arrays of finite numbers."""
        return cls("num", np.asarray(ref, dtype=np.float64), np.asarray(cur, dtype=np.float64))

    @property
    def n_ref(self) -> int:
        return int(self.ref.size)

    @property
    def n_cur(self) -> int:
        return int(self.cur.size)

    @cached_property
    def sorted_ref(self) -> np.ndarray:
        return np.sort(self.ref)

    @cached_property
    def sorted_cur(self) -> np.ndarray:
        return np.sort(self.cur)

    @cached_property
    def integer_counts(self) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
        """``(keys, ref_counts, cur_counts)`` by counting, for whole numbers in a narrow range.

        Ages, hours, counts and codes are whole numbers spanning far fewer values than rows:
        counting them into a ``bincount`` is linear, where sorting a million values is not.
        ``None`` for any other numerical sample (and for categorical ones).
        """
        if self.kind != "num":
            return None
        low = min(self.ref.min(), self.cur.min())
        span = max(self.ref.max(), self.cur.max()) - low + 1
        if not span <= max(self.n_ref + self.n_cur, INTEGER_SPAN_MIN) or not (
            _whole(self.ref) and _whole(self.cur)
        ):
            return None
        ref = np.bincount((self.ref - low).astype(np.int64), minlength=int(span))
        cur = np.bincount((self.cur - low).astype(np.int64), minlength=int(span))
        seen = np.flatnonzero((ref > 0) | (cur > 0))
        return seen + low, ref[seen], cur[seen]

    @cached_property
    def _distinct_num(self) -> tuple[np.ndarray, np.ndarray]:
        counted = self.integer_counts
        if counted is not None:
            keys, ref, cur = counted
            return keys[ref > 0], keys[cur > 0]
        return _distinct_sorted(self.sorted_ref), _distinct_sorted(self.sorted_cur)

    @cached_property
    def value_counts(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(keys, ref_counts, cur_counts)`` over the distinct values seen in either sample."""
        if self.kind == "cat":
            k = len(self._keys)
            return self._keys, np.bincount(self.ref, minlength=k), np.bincount(self.cur, minlength=k)
        if self.integer_counts is not None:
            return self.integer_counts
        keys = np.union1d(*self._distinct_num)
        return keys, _count_sorted(self.sorted_ref, keys), _count_sorted(self.sorted_cur, keys)

    @property
    def ref_nunique(self) -> int:
        """Number of distinct values in the reference sample."""
        if self.kind == "cat":
            return int(np.count_nonzero(self.value_counts[1]))
        return int(self._distinct_num[0].size)

    def n_distinct_upto(self, limit: int) -> int:
        """Distinct values in both samples together, capped at ``limit + 1``.

        The default method choice only asks "at most 2?" and "at most 5?"; capping spares a merge
        of a million distinct floats when the answer is plainly no.
        """
        if self.kind == "cat":
            return min(len(self._keys), limit + 1)
        ref_distinct, cur_distinct = self._distinct_num
        if ref_distinct.size > limit or cur_distinct.size > limit:
            return limit + 1
        return min(np.union1d(ref_distinct, cur_distinct).size, limit + 1)

    def binned_shares(self, fill_zeros: bool) -> tuple[np.ndarray, np.ndarray]:
        """Shares of reference and current rows per bin, binned as evidently bins them.

        A numerical column whose reference has more than 20 distinct values is cut into a
        Sturges histogram over both samples; any other column gets one bin per distinct value.
        With ``fill_zeros`` (PSI and KL divergence) empty bins receive a tiny share so that
        logarithms stay finite: a millionth of the smallest non-empty share when that share is
        at most 1e-4, else 1e-4.
        """
        if self.kind == "num" and self.ref_nunique > HISTOGRAM_MIN_DISTINCT:
            edges = np.histogram_bin_edges(np.concatenate([self.ref, self.cur]), bins="sturges")
            ref = uniform_histogram(self.ref, edges) / self.n_ref
            cur = uniform_histogram(self.cur, edges) / self.n_cur
        else:
            _, ref_counts, cur_counts = self.value_counts
            ref, cur = ref_counts / self.n_ref, cur_counts / self.n_cur
        if fill_zeros:
            ref, cur = _fill_zeros(ref), _fill_zeros(cur)
        return ref, cur


def uniform_histogram(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Counts per bin of equal-width ``edges`` (as returned by ``np.histogram_bin_edges``).

    Passing the bin count and range instead of the edge array lets numpy index bins
    arithmetically instead of by binary search; numpy rebuilds the very same edges with
    ``linspace`` and corrects indices at the edges, so the counts are identical.
    """
    return np.histogram(values, bins=edges.size - 1, range=(edges[0], edges[-1]))[0]


def _whole(values: np.ndarray) -> bool:
    return bool(np.array_equal(values, np.floor(values)))


def _distinct_sorted(sorted_values: np.ndarray) -> np.ndarray:
    if sorted_values.size == 0:
        return sorted_values
    keep = np.empty(sorted_values.size, dtype=bool)
    keep[0] = True
    np.not_equal(sorted_values[1:], sorted_values[:-1], out=keep[1:])
    return sorted_values[keep]


def _count_sorted(sorted_values: np.ndarray, keys: np.ndarray) -> np.ndarray:
    return np.searchsorted(sorted_values, keys, side="right") - np.searchsorted(sorted_values, keys, side="left")


def _fill_zeros(shares: np.ndarray) -> np.ndarray:
    smallest = shares[shares != 0].min()
    fill = smallest / 10**6 if smallest <= 0.0001 else 0.0001
    return np.where(shares == 0, fill, shares)
