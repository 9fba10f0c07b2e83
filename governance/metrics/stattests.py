"""Two-sample drift tests, named, parametrized and decided the way evidently 0.7 does it.

Every test takes a :class:`~governance.metrics.samples.Sample` and returns one score: a p-value
(drift when it is small) or a distance (drift when it is large). The names, the column types a
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

from governance.metrics.samples import Sample, uniform_histogram

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
    func: Callable[[Sample], float]

    def __call__(self, sample: Sample) -> float:
        return float(self.func(sample))

    def drifted(self, score: float, threshold: float) -> bool:
        # NaN scores (a chi-square test on a single category) never count as drift, as in evidently.
        return bool(not np.isnan(score) and self.compare(score, threshold))


STATTESTS: dict[str, StatTest] = {}

# evidently's other stattest names, recognised so that an error can say "not implemented" rather
# than "unknown".
NOT_IMPLEMENTED = (
    "cramer_von_mises", "es", "fisher_exact", "g_test", "empirical_mmd", "TVD",
    "perc_text_content_drift", "abs_text_content_drift",
)


def _register(name: str, kinds: tuple[str, ...], threshold: float, compare, score: str = "p_value"):
    def deco(func: Callable[[Sample], float]) -> Callable[[Sample], float]:
        STATTESTS[name] = StatTest(name, kinds, threshold, score, compare, func)
        return func

    return deco


NUM, CAT, BOTH = ("num",), ("cat",), ("cat", "num")


@_register("ks", NUM, 0.05, operator.le)
def ks(s: Sample) -> float:
    """Two-sided two-sample Kolmogorov-Smirnov p-value (scipy's exact/asymptotic choice)."""
    from scipy import stats

    return stats.ks_2samp(s.ref, s.cur).pvalue


@_register("chisquare", CAT, 0.05, operator.lt)
def chisquare(s: Sample) -> float:
    """Chi-square p-value of current counts against reference shares scaled to the current size."""
    from scipy import stats

    _, ref, cur = s.value_counts
    expected = ref * (s.n_cur / s.n_ref)
    with np.errstate(divide="ignore", invalid="ignore"):  # a value new in current: infinite statistic
        statistic = np.sum((cur - expected) ** 2 / expected)
    return stats.chi2.sf(statistic, ref.size - 1)


@_register("z", CAT, 0.05, operator.lt)
def z(s: Sample) -> float:
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
def wasserstein(s: Sample) -> float:
    """First Wasserstein distance divided by the reference's standard deviation (at least 0.001).

    The distance integrates ``|F_ref - F_cur|`` between consecutive pooled values. The pooled
    order comes from a stable argsort of the two already sorted samples (a cheap merge); the
    running count of reference values at a position equals the empirical CDF wherever the next
    pooled value differs, and where it does not the interval has zero width.
    """
    if s.integer_counts is not None:  # whole numbers: step from one distinct value to the next
        keys, ref_counts, cur_counts = s.integer_counts
        u_cdf = np.cumsum(ref_counts)[:-1] / s.n_ref
        v_cdf = np.cumsum(cur_counts)[:-1] / s.n_cur
        steps = np.diff(keys)
    else:
        u, v = s.sorted_ref, s.sorted_cur
        pooled = np.concatenate([u, v])
        order = np.argsort(pooled, kind="stable")
        from_ref = order < u.size
        u_cdf = np.cumsum(from_ref)[:-1] / u.size
        v_cdf = np.cumsum(~from_ref)[:-1] / v.size
        steps = np.diff(pooled[order])
    distance = np.dot(np.abs(u_cdf - v_cdf), steps)
    return distance / max(float(np.std(s.ref)), 0.001)


@_register("jensenshannon", BOTH, 0.1, operator.ge, score="distance")
def jensenshannon(s: Sample) -> float:
    """Jensen-Shannon distance (natural log) between the binned shares."""
    p, q = s.binned_shares(fill_zeros=False)
    p, q = p / p.sum(), q / q.sum()
    m = (p + q) / 2.0
    return np.sqrt((_rel_entr(p, m).sum() + _rel_entr(q, m).sum()) / 2.0)


@_register("psi", BOTH, 0.1, operator.ge, score="distance")
def psi(s: Sample) -> float:
    """Population stability index of the binned shares (empty bins filled)."""
    p, q = s.binned_shares(fill_zeros=True)
    return np.sum((p - q) * np.log(p / q))


@_register("kl_div", BOTH, 0.1, operator.ge, score="distance")
def kl_div(s: Sample) -> float:
    """Kullback-Leibler divergence of reference from current binned shares (empty bins filled)."""
    p, q = s.binned_shares(fill_zeros=True)
    return _rel_entr(p / p.sum(), q / q.sum()).sum()


@_register("hellinger", BOTH, 0.1, operator.ge, score="distance")
def hellinger(s: Sample) -> float:
    """Hellinger distance: of value shares for categories, of histogram densities for numbers.

    For numbers the Sturges bins are laid over the *distinct* values of both samples, not over
    the rows: evidently's choice, kept so that the numbers agree.
    """
    keys, ref_counts, cur_counts = s.value_counts
    if s.kind == "cat":
        overlap = _running_sum(np.sqrt((ref_counts / s.n_ref) * (cur_counts / s.n_cur)))
    else:
        edges = np.histogram_bin_edges(keys, bins="sturges")
        widths = np.diff(edges)
        ref_density = _density(uniform_histogram(s.ref, edges), widths)
        cur_density = _density(uniform_histogram(s.cur, edges), widths)
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
def t_test(s: Sample) -> float:
    """Two-sided Student's t-test p-value (equal variances)."""
    from scipy import stats

    return stats.ttest_ind(s.ref, s.cur).pvalue


@_register("mannw", NUM, 0.05, operator.lt)
def mannw(s: Sample) -> float:
    """Mann-Whitney U p-value, alternative "less" (reference stochastically smaller), as evidently."""
    from scipy import stats

    return stats.mannwhitneyu(s.ref, s.cur, alternative="less").pvalue


@_register("anderson", NUM, 0.1, operator.lt)
def anderson(s: Sample) -> float:
    """k-sample Anderson-Darling p-value (scipy caps it to [0.001, 0.25])."""
    from scipy import stats

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the capping warning says what the docstring says
        return stats.anderson_ksamp([s.ref, s.cur]).pvalue


@_register("ed", NUM, 0.1, operator.gt, score="distance")
def energy(s: Sample) -> float:
    """Energy distance between the two samples (drift when strictly above the threshold)."""
    from scipy import stats

    return stats.energy_distance(s.ref, s.cur)


def _rel_entr(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Elementwise ``x log(x / y)``, 0 where ``x`` is 0, as ``scipy.special.rel_entr``."""
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = x * np.log(x / y)
    terms = np.where(x == 0, 0.0, terms)
    return np.where((x < 0) | ((x > 0) & (y <= 0)), np.inf, terms)


def get_stattest(name: str) -> StatTest:
    """The test registered as ``name``; ``ValueError`` naming the close ones otherwise."""
    try:
        return STATTESTS[name]
    except KeyError:
        raise ValueError(unknown_stattest_message(name)) from None


def unknown_stattest_message(name: str) -> str:
    """One line saying that ``name`` is unknown (or not implemented) and what is available."""
    available = ", ".join(sorted(STATTESTS))
    if name in NOT_IMPLEMENTED:
        return f"stattest '{name}' is an evidently method rai does not implement; available: {available}"
    close = difflib.get_close_matches(name, [*STATTESTS, *NOT_IMPLEMENTED], n=3, cutoff=0.5)
    hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    return f"unknown stattest '{name}'{hint} (available: {available})"
