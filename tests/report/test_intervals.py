"""Confidence intervals in every format: whiskers where the Wilson interval says, bracketed
intervals in Markdown and in the PDF's text, minimum detectable effects, and inconclusive
findings set apart from passes and failures.

The run (``confidence.py``) is recorded through ``rai.start_run``; the intervals it draws are
checked against statsmodels' Wilson interval, not against the numbers the check recorded.
"""

from __future__ import annotations

import math
import re
import shutil
import subprocess

import pytest
from statsmodels.stats.proportion import proportion_confint

from governance.report import build_report, render_report
from governance.report.blocks import IntervalChart, Limit
from governance.report.svg import LABEL_W, interval_chart_svg, interval_layout
from governance.trail import open_trail

from .confidence import FNR, SELECTION, add_confidence_run

PLOT_W = interval_layout(IntervalChart("", []))[1]


@pytest.fixture(scope="module")
def doc(tmp_path_factory) -> dict:
    ws = tmp_path_factory.mktemp("confidence") / "ws"
    run_id = add_confidence_run(ws)
    with open_trail(ws, create=False) as trail:
        return build_report(trail, run_id).to_dict()


def wilson(successes: int, trials: int) -> tuple[float, float]:
    return proportion_confint(successes, trials, alpha=0.05, method="wilson")


def svg_of(page: str, title: str) -> str:
    (svg,) = [s for s in re.findall(r"<svg.*?</svg>", page, re.S) if f"<title>{title}</title>" in s]
    return svg


def whiskers(svg: str) -> dict[str, tuple[float, float, float, str]]:
    """``{group: (x of low end, x of high end, x of the point, verdict class)}``."""
    out = {}
    for verdict, group, x0, x1, cx in re.findall(
            r'<g class="(\w+)"><title>([^:]+): [^<]*</title><line class="whisker" x1="([\d.]+)" y1="[\d.]+" '
            r'x2="([\d.]+)".*?<circle class="point" cx="([\d.]+)"', svg):
        out[group] = (float(x0), float(x1), float(cx), verdict)
    return out


def at(value: float) -> float:
    return LABEL_W + value * PLOT_W  # rates: the axis runs from 0 to 1


@pytest.mark.parametrize("title, rates, verdict", [
    ("fnr-gap: fnr by group, 95% intervals", FNR, "inconclusive"),  # both straddle smallest + 0.1 = 0.35
    ("fnr-ceiling: fnr by group, 95% intervals", FNR, "fail"),  # wholly above 0.05
    ("selection-floor: selection_rate by group, 95% intervals", SELECTION, "pass"),  # wholly above 0.2
])
def test_html_whiskers_span_the_wilson_interval_of_each_group(doc, title, rates, verdict):
    drawn = whiskers(svg_of(render_report(doc, "html"), title))
    assert set(drawn) == set(rates)
    for group, (k, n) in rates.items():
        low, high = wilson(k, n)
        x0, x1, cx, found = drawn[group]
        assert x0 == pytest.approx(at(low), abs=0.06) and x1 == pytest.approx(at(high), abs=0.06)
        assert cx == pytest.approx(at(k / n), abs=0.06) and x0 < cx < x1
        assert found == verdict


@pytest.mark.parametrize("title, limit", [
    ("fnr-gap: fnr by group, 95% intervals", 10 / 40 + 0.1),  # the smallest FNR plus the largest gap allowed
    ("fnr-ceiling: fnr by group, 95% intervals", 0.05),
    ("selection-floor: selection_rate by group, 95% intervals", 0.2),
    ("fnr-gap: fnr difference over the groups", 0.1),
])
def test_html_draws_the_threshold_line(doc, title, limit):
    svg = svg_of(render_report(doc, "html"), title)
    (x,) = re.findall(r'<line x1="([\d.]+)" y1="[\d.]+" x2="\1" y2="[\d.]+" class="limit"/>', svg)
    assert float(x) == pytest.approx(at(limit), abs=0.06)


def test_html_sets_the_inconclusive_finding_apart(doc):
    page = render_report(doc, "html")
    assert '<td class="st-inconclusive">INCONCLUSIVE (blocks)</td>' in page
    assert ">INCONCLUSIVE</text>" in svg_of(page, "fnr-gap: fnr by group, 95% intervals")
    assert "INCONCLUSIVE</text>" not in svg_of(page, "selection-floor: selection_rate by group, 95% intervals")
    assert '<p class="unsure">INCONCLUSIVE: the 95% interval of the fnr difference' in page
    assert re.search(r"td\.st-inconclusive \{[^}]*color: var\(--unsure\)", page)


def _fmt(x: float) -> str:
    return f"{x:.4g}"


def test_markdown_shows_bracketed_intervals_and_minimum_detectable_effects(doc):
    text = render_report(doc, "md")
    for group, (k, n) in FNR.items():
        low, high = wilson(k, n)
        assert f"| {group} | {_fmt(k / n)} [{_fmt(low)}, {_fmt(high)}] |" in text  # the chart's numbers
        row = re.search(rf"^\| {group} \| 100 \| {re.escape(_fmt(k / n))} \[{re.escape(_fmt(low))}, "
                        rf"{re.escape(_fmt(high))}\] \| ([\d.]+) \| no \|$", text, re.M)  # 100 rows per group
        assert row, group
        centre = (k + 1.959964**2 / 2) / (n + 1.959964**2)  # the Wilson centre, at 80% power
        mde = (1.959964 + 0.841621) * math.sqrt(centre * (1 - centre) / n)
        assert float(row.group(1)) == pytest.approx(mde, rel=1e-3)
    assert "| group | count | fnr [95% interval] | minimum detectable effect (80% power) | excluded |" in text
    assert re.search(r"^\| fnr-gap \| INCONCLUSIVE \(blocks\) \| high \| 0\.01316 \[[\d.]+, [\d.]+\] \| ≤ 0\.1 \|",
                     text, re.M)
    assert "> **INCONCLUSIVE: the 95% interval of the fnr difference, 0.01316 [" in text


def test_the_verdict_says_inconclusive_not_failed(doc):
    first = doc["verdict"]["explanation"][0]
    assert first.startswith("Rule 'fnr-gap' (fairness.group_metric, severity high) was inconclusive: ")
    assert "Measured 0.01316 [" in first and "failed" not in first


def test_pdf_text_shows_the_intervals_and_the_inconclusive_status(doc, tmp_path):
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext not found; install Debian's 'poppler-utils' package")
    (tmp_path / "r.pdf").write_bytes(render_report(doc, "pdf"))
    done = subprocess.run(["pdftotext", "-layout", str(tmp_path / "r.pdf"), "-"], capture_output=True, text=True,
                          timeout=60, check=True)
    text = " ".join(done.stdout.split())
    for group, (k, n) in FNR.items():
        low, high = wilson(k, n)
        assert f"{_fmt(k / n)} [{_fmt(low)}, {_fmt(high)}]" in text, group
    assert "INCONCLUSIVE (blocks)" in text
    assert "INCONCLUSIVE: the 95% interval of the fnr difference" in text
    assert "smallest + 0.1: 0.35" in text and "minimum detectable effect (80% power)" in text


def test_pdf_draws_the_inconclusive_finding_in_its_own_colour(doc, tmp_path):
    if shutil.which("pdftoppm") is None:
        pytest.skip("pdftoppm not found; install Debian's 'poppler-utils' package")
    from PIL import Image

    (tmp_path / "r.pdf").write_bytes(render_report(doc, "pdf"))
    subprocess.run(["pdftoppm", "-png", "-r", "50", str(tmp_path / "r.pdf"), str(tmp_path / "p")], check=True,
                   timeout=120, capture_output=True)
    violet = 0
    for png in tmp_path.glob("p*.png"):
        violet += sum(1 for px in Image.open(png).convert("RGB").getdata()
                      if all(abs(a - b) <= 30 for a, b in zip(px, (107, 47, 160), strict=True)))
    assert violet > 50  # the status cell, the paragraph and the straddling whiskers


# --- the chart on its own: bounds the bootstrap could not close, and scales beyond rates --------


def test_an_unbounded_end_runs_to_the_axis_and_reads_infinity():
    chart = IntervalChart("t", [("a", 0.5, None, 0.7)], [Limit(0.6, "maximum allowed")])
    svg = interval_chart_svg(chart)
    (x0, x1, cx, verdict), = whiskers(svg).values()
    assert x0 == pytest.approx(LABEL_W) and x1 == pytest.approx(at(0.7), abs=0.06)
    assert verdict == "inconclusive" and "0.5 [-∞, 0.7]" in svg
    assert svg.count('class="cap"') == 1  # no end cap where the interval has no end


def test_values_beyond_one_get_their_own_scale():
    chart = IntervalChart("mae", [("a", 8.0, 7.0, 9.5), ("b", 11.0, 10.5, 12.0)], [Limit(10.0, "maximum allowed")])
    lo, hi = chart.scale
    assert lo == 0 and hi == pytest.approx(12.6)
    drawn = whiskers(interval_chart_svg(chart))
    assert drawn["a"][:3] == pytest.approx((LABEL_W + 7 / hi * PLOT_W, LABEL_W + 9.5 / hi * PLOT_W,
                                            LABEL_W + 8 / hi * PLOT_W), abs=0.06)
    assert drawn["a"][3] == "pass" and drawn["b"][3] == "fail"


def test_recorded_text_in_an_interval_chart_stays_text():
    chart = IntervalChart("<b>rule</b>", [("sex=<script>alert(1)</script>", 0.4, 0.3, 0.5)], status="inconclusive")
    svg = interval_chart_svg(chart)
    assert "<script>" not in svg and "<b>" not in svg
    assert "sex=&lt;script&gt;alert(1)&lt;/script&gt;" in svg and "&lt;b&gt;rule&lt;/b&gt;" in svg
