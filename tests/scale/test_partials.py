"""Partial aggregates merge exactly; histograms bin as numpy does; sketches stay within their bounds."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from governance.metrics import sketch
from governance.metrics.counted import CountedSample, Histograms, binned, sturges_edges
from governance.metrics.drift import DriftInputs, DriftOptions, HistogramRequest, report_from_partials
from governance.metrics.partials import ColumnPartial, from_series, merge

rng = np.random.default_rng(7)


def merge_all(parts, cap: int | None = None) -> ColumnPartial:
    """Merge partials in order, as the streaming engine does batch by batch."""
    out = ColumnPartial()
    for part in parts:
        out = merge(out, part, cap)
    return out


def without_counts(part: ColumnPartial) -> ColumnPartial:
    """A copy marked ``overflow``: the histogram fallback of a column past the distinct-value cap, on small data."""
    return replace(part, keys=None, counts=None, overflow=True)


def split(series: pd.Series, parts: int) -> list[pd.Series]:
    cuts = np.sort(rng.choice(np.arange(1, len(series)), parts - 1, replace=False))
    return [series.iloc[a:b] for a, b in zip(np.r_[0, cuts], np.r_[cuts, len(series)], strict=True)]


SERIES = {
    "floats-with-nan-and-inf": pd.Series(np.r_[rng.normal(size=500), [np.nan, np.inf, -0.0, 0.0]]),
    "whole-floats": pd.Series(rng.integers(0, 50, 600).astype(float)),
    "ints": pd.Series(rng.integers(-5, 5, 600)),
    "text-with-missing": pd.Series(rng.choice(np.array(["a", "b", "c", None], dtype=object), 600)),
    "booleans": pd.Series(rng.random(600) < 0.3),
}


@pytest.mark.parametrize("name", SERIES)
@pytest.mark.parametrize("parts", [2, 7, 60])
def test_merging_parts_equals_the_whole(name, parts):
    series = SERIES[name]
    whole = from_series(series)
    merged = merge_all(from_series(part) for part in split(series, parts))
    assert (merged.dtype, merged.rows, merged.present, merged.n_distinct) == (
        whole.dtype, whole.rows, whole.present, whole.n_distinct)
    for got, expected in zip(merged.value_counts(), whole.value_counts(), strict=True):
        assert list(got) == list(expected)
    assert (merged.first, merged.last, merged.low, merged.high) == (whole.first, whole.last, whole.low, whole.high)
    assert merged.moments[0] == whole.moments[0]
    assert merged.moments[1:] == pytest.approx(whole.moments[1:], rel=1e-12, abs=1e-12)


def test_integers_with_missing_values_in_one_part_become_floats_as_in_pandas():
    whole = pd.Series([1.0, 2.0, np.nan, 2.0])
    merged = merge(from_series(pd.Series([1, 2])), from_series(pd.Series([np.nan, 2.0])))
    assert merged.dtype == whole.dtype.name == "float64"
    assert [list(a) for a in merged.value_counts()] == [[1.0, 2.0], [1, 2]]


def test_the_cap_drops_counts_once_and_for_all():
    parts = [from_series(pd.Series(np.arange(i * 10, i * 10 + 10, dtype=float)), cap=25) for i in range(4)]
    merged = merge_all(parts, cap=25)
    assert merged.overflow and merged.n_distinct is None and merged.present == 40
    assert (merged.low, merged.high) == (0.0, 39.0)


@pytest.mark.parametrize("size", [1, 2, 30, 1000, 123_457])
def test_sturges_edges_equal_numpy(size):
    values = rng.normal(size=size)
    expected = np.histogram_bin_edges(values, bins="sturges")
    assert np.array_equal(sturges_edges(values.min(), values.max(), size), expected)
    assert np.array_equal(sturges_edges(3.0, 3.0, size), np.histogram_bin_edges(np.full(size, 3.0), bins="sturges"))


@pytest.mark.parametrize("bins", [1, 7, 26, 4096])
def test_binned_counts_equal_numpy_histogram(bins):
    values = np.r_[rng.lognormal(size=5000), 0.1 * np.arange(1, 50)]  # many values near edges
    counts, offsets = binned(values, bins, values.min(), values.max())
    assert np.array_equal(counts, np.histogram(values, bins=bins)[0])
    edges = np.linspace(values.min(), values.max(), bins + 1)
    assert (offsets >= 0).all() and (offsets <= np.diff(edges) * counts + 1e-9).all()


def _sample_with_histograms(ref: np.ndarray, cur: np.ndarray, bins: int) -> CountedSample:
    parts = [without_counts(from_series(pd.Series(x))) for x in (ref, cur)]
    sample = CountedSample("num", *parts)
    low, high = sample.pooled_range
    (rc, ro), (cc, co) = (binned(x, bins, low, high) for x in (ref, cur))
    sample.histograms = Histograms(low, high, {bins: (rc, cc)}, (ro, co))
    return sample


CASES = {
    "same-distribution": (rng.normal(size=4000), rng.normal(size=3000)),
    "shifted": (rng.normal(size=4000), rng.normal(0.3, 1.2, size=3000)),
    "heavy-tail": (rng.lognormal(0, 1.5, 4000), rng.lognormal(0.2, 1.5, 3000)),
    "ties-and-steps": (rng.integers(0, 20, 4000) * 0.5, rng.integers(0, 22, 3000) * 0.5),
}


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("bins", [16, 256, 1 << 14])
def test_histogram_estimates_hold_their_bounds(case, bins):
    ref, cur = CASES[case]
    sample = _sample_with_histograms(ref, cur, bins)
    counts, offsets = sample.histograms.counts[bins], sample.histograms.offsets
    edges = np.linspace(*sample.pooled_range, bins + 1)
    w1 = sketch.wasserstein(edges, *counts, *offsets)
    exact = stats.wasserstein_distance(ref, cur)
    assert w1.low - 1e-12 <= exact <= w1.high + 1e-12
    assert abs(w1.value - exact) <= w1.error_bound + 1e-12
    ks = sketch.ks_statistic(*counts)
    exact_d = stats.ks_2samp(ref, cur).statistic
    assert ks.low - 1e-12 <= exact_d <= ks.high + 1e-12
    if bins == 1 << 14:  # fine bins: the bound is small next to a drift threshold of 0.1
        assert w1.error_bound / np.std(ref) < 1e-3


def test_report_from_partials_marks_estimates_and_keeps_exact_methods_exact():
    ref = pd.DataFrame({"x": rng.normal(size=2000), "y": rng.normal(size=2000)})
    cur = pd.DataFrame({"x": rng.normal(0.5, 1, size=2000), "y": rng.normal(size=2000)})
    options = DriftOptions(per_column={"y": {"stattest": "psi"}})
    exact = report_from_partials(DriftInputs({c: from_series(ref[c]) for c in ref},
                                             {c: from_series(cur[c]) for c in cur}), ["x", "y"], options)

    def second_pass(requests: dict[str, HistogramRequest]):
        out = {}
        for name, request in requests.items():
            hist = Histograms(request.low, request.high)
            for bins in request.bins:
                (rc, ro), (cc, co) = (binned(f[name].to_numpy(), bins, request.low, request.high) for f in (ref, cur))
                hist.counts[bins] = (rc, cc)
                if request.offsets and bins == max(request.bins):
                    hist.offsets = (ro, co)
            out[name] = hist
        return out

    parts = [{c: without_counts(from_series(f[c])) for c in f} for f in (ref, cur)]
    bounded = report_from_partials(DriftInputs(*parts, cap=10, second_pass=second_pass), ["x", "y"], options)
    x, y = bounded.columns
    assert x["approximate"]["verdict_certain"] and x["drifted"] == exact.columns[0]["drifted"]
    assert abs(x["statistic"] - exact.columns[0]["statistic"]) <= x["approximate"]["error_bound"] + 1e-12
    assert "approximate" not in y and y["statistic"] == pytest.approx(exact.columns[1]["statistic"], rel=1e-12)
