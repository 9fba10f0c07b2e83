"""Two-sample drift tests, named, parametrized and decided the way evidently 0.7 does it.

Every test takes a :class:`~governance.metrics.counted.CountedSample` (the counted values of a
column in both datasets) and returns one score: a p-value (drift when it is small) or a distance
(drift when it is large). Past the distinct values a bounded engine counts, Wasserstein and KS
return an :class:`Approximate` score with proven bounds; tests that need every value refuse. The names, the column types a
test accepts, the default thresholds and the comparison deciding "drifted" (``<`` or ``<=`` for
p-values, ``>=`` or ``>`` for distances) are evidently's, so a policy written against evidently's
stattest names means the same thing here.
"""

from __future__ import annotations

import difflib
import operator
import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from governance.metrics import sketch
from governance.metrics.counted import SKETCH_BINS, CountedSample, bin_counts, outer_range, sturges_edges

# Up to this many rows a side, scipy's KS test computes its exact p-value from the rows.
KS_EXACT_ROWS = 10_000
# scipy.stats is imported inside the tests that need it: the default tests of large references
# (Jensen-Shannon, Wasserstein) need none of it, and importing it costs about half a second.


@dataclass(frozen=True)
class StatTest:
    """A registered drift test.

    ``score`` is ``"p_value"`` or ``"distance"``; ``drifted(score, threshold)`` applies the
    test's own comparison. ``kinds`` lists the column types (``"num"``, ``"cat"``) it accepts
    when a user asks for it by name.
    """

    name: str
    kinds: tuple[str, ...]
    default_threshold: float
    score: str
    compare: Callable[[float, float], bool]
    func: Callable[[CountedSample], float | Approximate]

    def __call__(self, sample: CountedSample) -> float | Approximate:
        score = self.func(sample)
        return score if isinstance(score, Approximate) else float(score)

    def drifted(self, score: float, threshold: float) -> bool:
        # NaN scores (a chi-square test on a single category) never count as drift, as in evidently.
        return bool(not np.isnan(score) and self.compare(score, threshold))


@dataclass(frozen=True)
class Approximate:
    """A score estimated from a histogram: ``value``, known to lie in ``[low, high]``."""

    value: float
    low: float
    high: float
    note: dict

    def describe(self) -> dict:
        """The ``approximate`` entry of a drift row."""
        bound = max(self.value - self.low, self.high - self.value)
        return {**self.note, "low": self.low, "high": self.high, "error_bound": bound}


STATTESTS: dict[str, StatTest] = {}

# evidently's other stattest names, recognised so that an error can say "not implemented" rather
# than "unknown".
NOT_IMPLEMENTED = (
    "cramer_von_mises", "es", "fisher_exact", "g_test", "empirical_mmd", "TVD",
    "perc_text_content_drift", "abs_text_content_drift",
)


def _register(name: str, kinds: tuple[str, ...], threshold: float, compare, score: str = "p_value"):
    def deco(func):
        STATTESTS[name] = StatTest(name, kinds, threshold, score, compare, func)
        return func

    return deco


NUM, CAT, BOTH = ("num",), ("cat",), ("cat", "num")


@_register("ks", NUM, 0.05, operator.le)
def ks(s: CountedSample) -> float | Approximate:
    """Two-sided two-sample Kolmogorov-Smirnov p-value (scipy's exact/asymptotic choice).

    Up to 10,000 rows a side scipy computes the exact p-value from the rows; above, Smirnov's
    asymptotic formula, which needs only the statistic and the two sizes: both come from counts.
    """
    from scipy import stats

    if not s.exact:
        if max(s.n_ref, s.n_cur) <= KS_EXACT_ROWS:  # scipy's exact p-value needs the rows
            raise ValueError(f"an estimated KS p-value needs more than {KS_EXACT_ROWS:,} rows on one side")
        bounds = sketch.ks_statistic(*_sketch_counts(s))
        low, high = (_ks_asymptotic(d, s.n_ref, s.n_cur) for d in (bounds.high, bounds.low))
        return Approximate(_ks_asymptotic(bounds.value, s.n_ref, s.n_cur), low, high, _sketch_note(s))
    if max(s.n_ref, s.n_cur) <= KS_EXACT_ROWS:
        return stats.ks_2samp(*s.arrays()).pvalue
    _, ref, cur = s.value_counts
    diffs = np.cumsum(ref) / s.n_ref - np.cumsum(cur) / s.n_cur
    d = max(float(np.clip(-diffs.min(), 0, 1)), float(diffs.max()))
    return _ks_asymptotic(d, s.n_ref, s.n_cur)


def _ks_asymptotic(d: float, n_ref: int, n_cur: int) -> float:
    from scipy import stats

    m, n = sorted([float(n_ref), float(n_cur)], reverse=True)
    return float(np.clip(stats.kstwo.sf(d, np.round(m * n / (m + n))), 0, 1))


@_register("chisquare", CAT, 0.05, operator.lt)
def chisquare(s: CountedSample) -> float:
    """Chi-square p-value of current counts against reference shares scaled to the current size."""
    from scipy import stats

    _, ref, cur = s.value_counts
    expected = ref * (s.n_cur / s.n_ref)
    with np.errstate(divide="ignore", invalid="ignore"):  # a value new in current: infinite statistic
        statistic = np.sum((cur - expected) ** 2 / expected)
    return stats.chi2.sf(statistic, ref.size - 1)


@_register("z", CAT, 0.05, operator.lt)
def z(s: CountedSample) -> float:
    """Two-proportion z-test p-value: the smallest value against all the others."""
    from scipy import stats

    keys, ref, cur = s.value_counts
    present_ref, present_cur = np.flatnonzero(ref), np.flatnonzero(cur)
    if present_ref.size == 1 and present_cur.size == 1 and present_ref[0] == present_cur[0]:
        return 1.0
    first = _smallest(keys)
    n1, n2 = s.n_ref, s.n_cur
    p1 = float(n1 - ref[first]) / n1
    p2 = float(n2 - cur[first]) / n2
    pooled = float(p1 * n1 + p2 * n2) / (n1 + n2)
    z_stat = (p1 - p2) / np.sqrt(pooled * (1 - pooled) * (1.0 / n1 + 1.0 / n2))
    # 1 - cdf rather than sf: evidently's formula, whose p-value bottoms out at 0 for |z| > ~8.3
    return 2 * (1 - stats.norm.cdf(np.abs(z_stat)))


def _smallest(keys) -> int:
    """Index of the smallest key (evidently's choice of the value tested against the rest).

    Keys of mixed types (text in the reference, numbers in a current batch) cannot be ordered
    by value; they are then ordered by type name and text, so the test still runs.
    """
    try:
        return min(range(len(keys)), key=keys.__getitem__)
    except TypeError:
        return min(range(len(keys)), key=lambda i: (type(keys[i]).__name__, str(keys[i])))


@_register("wasserstein", NUM, 0.1, operator.ge, score="distance")
def wasserstein(s: CountedSample) -> float | Approximate:
    """First Wasserstein distance divided by the reference's standard deviation (at least 0.001).

    The distance integrates ``|F_ref - F_cur|`` between consecutive distinct values of both
    datasets; the distribution functions step at each value by its count, so counts suffice.
    Past the cap it is estimated from the second pass's histogram (see ``sketch``).
    """
    norm = max(s.ref_std, 0.001)
    if not s.exact:
        low, high = s.pooled_range
        edges = np.linspace(*outer_range(low, high), SKETCH_BINS + 1)
        estimate = sketch.wasserstein(edges, *_sketch_counts(s), *s.histograms.offsets)
        return Approximate(estimate.value / norm, estimate.low / norm, estimate.high / norm, _sketch_note(s))
    keys, ref_counts, cur_counts = s.value_counts
    u_cdf = np.cumsum(ref_counts)[:-1] / s.n_ref
    v_cdf = np.cumsum(cur_counts)[:-1] / s.n_cur
    return np.dot(np.abs(u_cdf - v_cdf), np.diff(keys)) / norm


@_register("jensenshannon", BOTH, 0.1, operator.ge, score="distance")
def jensenshannon(s: CountedSample) -> float:
    """Jensen-Shannon distance (natural log) between the binned shares."""
    p, q = s.binned_shares(fill_zeros=False)
    p, q = p / p.sum(), q / q.sum()
    m = (p + q) / 2.0
    return np.sqrt((_rel_entr(p, m).sum() + _rel_entr(q, m).sum()) / 2.0)


@_register("psi", BOTH, 0.1, operator.ge, score="distance")
def psi(s: CountedSample) -> float:
    """Population stability index of the binned shares (empty bins filled)."""
    p, q = s.binned_shares(fill_zeros=True)
    return np.sum((p - q) * np.log(p / q))


@_register("kl_div", BOTH, 0.1, operator.ge, score="distance")
def kl_div(s: CountedSample) -> float:
    """Kullback-Leibler divergence of reference from current binned shares (empty bins filled)."""
    p, q = s.binned_shares(fill_zeros=True)
    return _rel_entr(p / p.sum(), q / q.sum()).sum()


@_register("hellinger", BOTH, 0.1, operator.ge, score="distance")
def hellinger(s: CountedSample) -> float:
    """Hellinger distance: of value shares for categories, of histogram densities for numbers.

    For numbers the Sturges bins are laid over the *distinct* values of both samples, not over
    the rows: evidently's choice, kept so that the numbers agree.
    """
    keys, ref_counts, cur_counts = _counted(s, "hellinger")
    if s.kind == "cat":
        overlap = _running_sum(np.sqrt((ref_counts / s.n_ref) * (cur_counts / s.n_cur)))
    else:
        edges = sturges_edges(keys[0], keys[-1], keys.size)
        widths = np.diff(edges)
        ref_density = _density(bin_counts(keys, widths.size, keys[0], keys[-1], ref_counts), widths)
        cur_density = _density(bin_counts(keys, widths.size, keys[0], keys[-1], cur_counts), widths)
        bin_width = (edges.max() - edges.min()) / (edges.size - 1)
        overlap = _running_sum(np.sqrt(ref_density * cur_density) * bin_width)
    return np.sqrt(1 - np.clip(overlap, 0, 1))


def _running_sum(terms: np.ndarray) -> float:
    # Left-to-right like evidently's loop: 1 - overlap loses digits when the samples agree,
    # and a pairwise sum would round differently there.
    return float(np.cumsum(terms)[-1]) if terms.size else 0.0


def _density(counts: np.ndarray, widths: np.ndarray) -> np.ndarray:
    return counts / widths / counts.sum()


@_register("t_test", NUM, 0.05, operator.lt)
def t_test(s: CountedSample) -> float:
    """Two-sided Student's t-test p-value (equal variances), from counts or moments."""
    from scipy import stats

    (n1, m1, v1), (n2, m2, v2) = _moments(s, s.ref_part), _moments(s, s.cur_part)
    return stats.ttest_ind_from_stats(m1, np.sqrt(v1 / (n1 - 1)), n1, m2, np.sqrt(v2 / (n2 - 1)), n2).pvalue


def _moments(s: CountedSample, part) -> tuple[int, float, float]:
    if part.overflow:
        return part.moments
    keys, counts = part.value_counts()
    keys = np.asarray(keys, dtype=np.float64)
    n = int(counts.sum())
    mean = float(np.dot(keys, counts) / n)
    return n, mean, float(np.dot(np.square(keys - mean), counts))


@_register("mannw", NUM, 0.05, operator.lt)
def mannw(s: CountedSample) -> float:
    """Mann-Whitney U p-value, alternative "less" (reference stochastically smaller), as evidently.

    Ranks follow from the counts (tied values share their mid-rank); scipy's exact method is
    used where it would be (both sides of at most 8 values, no ties), its normal approximation
    with tie and continuity corrections elsewhere.
    """
    from scipy import special, stats

    keys, ref, cur = _counted(s, "mannw")
    ties = ref + cur
    if (s.n_ref <= 8 or s.n_cur <= 8) and not (ties > 1).any():
        return stats.mannwhitneyu(*s.arrays(), alternative="less").pvalue
    n1, n2 = s.n_ref, s.n_cur
    mid_ranks = np.cumsum(ties) - (ties - 1) / 2.0
    u2 = n1 * n2 - (np.dot(ref, mid_ranks) - n1 * (n1 + 1) / 2)
    n = n1 + n2
    spread = np.sqrt(n1 * n2 / 12 * ((n + 1) - np.sum(ties.astype(np.float64) ** 3 - ties) / (n * (n - 1))))
    return float(np.clip(special.ndtr(-(u2 - n1 * n2 / 2 - 0.5) / spread), 0, 1))


@_register("anderson", NUM, 0.1, operator.lt)
def anderson(s: CountedSample) -> float:
    """k-sample Anderson-Darling p-value (scipy caps it to [0.001, 0.25]); needs every value."""
    from scipy import stats

    _counted(s, "anderson")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the capping warning says what the docstring says
        return stats.anderson_ksamp(list(s.arrays())).pvalue


@_register("ed", NUM, 0.1, operator.gt, score="distance")
def energy(s: CountedSample) -> float:
    """Energy distance between the two samples (drift when strictly above the threshold)."""
    keys, ref, cur = _counted(s, "ed")
    u_cdf = np.cumsum(ref)[:-1] / s.n_ref
    v_cdf = np.cumsum(cur)[:-1] / s.n_cur
    return np.sqrt(2) * np.sqrt(np.dot(np.square(u_cdf - v_cdf), np.diff(keys)))


def _counted(s: CountedSample, name: str):
    if not s.exact:
        raise ValueError(f"{name} needs every distinct value counted, and this column has more than a bounded "
                         "engine counts; choose wasserstein, ks, jensenshannon, psi, kl_div or t_test, "
                         "or the in-memory engine")
    return s.value_counts


def _sketch_counts(s: CountedSample) -> tuple[np.ndarray, np.ndarray]:
    if s.histograms is None or SKETCH_BINS not in s.histograms.counts:
        raise ValueError("the second pass's histogram is missing")
    return s.histograms.counts[SKETCH_BINS]


def _sketch_note(s: CountedSample) -> dict:
    return {"method": "histogram", "bins": SKETCH_BINS,
            "reason": "more distinct values than a bounded engine counts"}


def _rel_entr(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Elementwise ``x log(x / y)``, 0 where ``x`` is 0, as ``scipy.special.rel_entr``."""
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = x * np.log(x / y)
    terms = np.where(x == 0, 0.0, terms)
    return np.where((x < 0) | ((x > 0) & (y <= 0)), np.inf, terms)


def unknown_stattest_message(name: str) -> str:
    """One line saying that ``name`` is unknown (or not implemented) and what is available."""
    available = ", ".join(sorted(STATTESTS))
    if name in NOT_IMPLEMENTED:
        return f"stattest '{name}' is an evidently method rai does not implement; available: {available}"
    close = difflib.get_close_matches(name, [*STATTESTS, *NOT_IMPLEMENTED], n=3, cutoff=0.5)
    hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    return f"unknown stattest '{name}'{hint} (available: {available})"
