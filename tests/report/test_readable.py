"""Recorded values in readable form: thresholds as bounds, numeric bands in numeric order,
settings as lines, and each fairness chart captioned with what it measures."""

from __future__ import annotations

import copy

import pytest

from governance.report import render_card, render_report
from governance.report.blocks import BarChart
from governance.report.layout_evidence import findings_blocks
from governance.report.modelcard import build_model_card, seed_narrative
from governance.report.readable import fmt_settings, fmt_threshold, in_numeric_order

from . import synthetic_data as D
from .synthetic import PASSED_RUN


@pytest.mark.parametrize("threshold, params, expected", [
    ({"min": 0.8}, {"metric": "accuracy", "min": 0.8}, "≥ 0.8"),           # performance.metric
    ({"max": 0.3, "min": 0.7}, {}, "≥ 0.7 and ≤ 0.3"),                    # lower bound first
    (0.15, {"sensitive_features": ["sex"], "max": 0.15}, "≤ 0.15"),      # a difference's max
    (0.8, {"min": 0.8, "min_group_size": 30}, "≥ 0.8"),                  # four-fifths rule
    (8.0, {"max_epsilon": 8.0, "max_delta": 1e-5}, "≤ 8"),               # privacy budget
    (0.15, {"min_minority_share": 0.15}, "≥ 0.15"),
    (30, {"min_count": 30, "sensitive_features": ["age"]}, "≥ 30"),
    (0.3, {"drift_share": 0.3}, "≤ 0.3"),
    (0.15, None, "0.15"),                                                # no rule to say which way
    (["sex", "race"], {"columns": ["sex", "race"]}, "sex; race"),        # not a bound
    ({"age": 0.1, "sex": 0.05}, {}, "age 0.1; sex 0.05"),                # per-column thresholds
    (True, {}, "yes"),
    (None, {}, "-"),
])
def test_threshold_reads_as_a_bound(threshold, params, expected):
    assert fmt_threshold(threshold, params) == expected


@pytest.mark.parametrize("recorded, expected", [
    (["25-44", "45-64", "65+", "<25"], ["<25", "25-44", "45-64", "65+"]),
    (["100+", "18-24", "5-17", "<5", "[MISSING]"], ["<5", "5-17", "18-24", "100+", "[MISSING]"]),
    (["Male", "Female"], ["Male", "Female"]),  # no number: as recorded
    ([10, 9, 100], [9, 10, 100]),
])
def test_numeric_bands_sort_by_number(recorded, expected):
    assert in_numeric_order(recorded, lambda g: g) == expected


def test_intersectional_groups_keep_text_values_in_recorded_order():
    rows = [{"sex": "Male", "age": "25-44"}, {"sex": "Male", "age": "<25"}, {"sex": "Female", "age": "65+"},
            {"sex": "Female", "age": "25-44"}]
    assert in_numeric_order(rows, lambda g: g) == [rows[1], rows[0], rows[3], rows[2]]


def test_settings_read_as_lines():
    assert fmt_settings({"hidden_units": [64, 32], "epochs": 5, "optimizer": {"name": "adam", "lr": 0.001}}) == (
        "hidden units: 64, 32\nepochs: 5\noptimizer.name: adam\noptimizer.lr: 0.001")
    assert fmt_settings(None) == "-" and fmt_settings({}) == "-"


def _age_band_doc(reports):
    """The passing report with its demographic-parity evidence by age band, recorded in text order."""
    doc = copy.deepcopy(reports[PASSED_RUN])
    bands = {"25-44": (900, 300, 3000, 400), "45-64": (700, 200, 2500, 300), "65+": (90, 40, 800, 60),
             "<25": (60, 50, 2000, 40)}
    finding = next(f for g in doc["gates"] if g["stage"] == "evaluate" for f in g["findings"]
                   if f["rule_id"] == "demographic-parity-sex")
    finding["evidence"] = D.fairness_evidence("age_band", bands)
    return doc, finding


def test_report_and_card_show_age_bands_in_numeric_order(reports):
    doc, _ = _age_band_doc(reports)
    text = render_report(doc, "md")
    table = text[text.index("Evidence for demographic-parity-sex"):]
    rows = [table.index(f"| age_band={band} |") for band in ("<25", "25-44", "45-64", "65+")]
    assert rows == sorted(rows)
    bars = [table.index(f"| age_band={band} | 0.") for band in ("<25", "25-44", "45-64", "65+")]  # the chart's numbers
    assert bars == sorted(bars)
    card = build_model_card(doc, seed_narrative(doc["metadata"]))
    by_features = {tuple(t["sensitive_features"]): t for t in card["quantitative_analyses"]["per_group"]}
    assert [g["group"]["age_band"] for g in by_features[("age_band",)]["groups"]] == ["<25", "25-44", "45-64", "65+"]
    assert [g["group"]["sex"] for g in by_features[("sex",)]["groups"]] == ["Male", "Female"]  # as recorded
    card_md = render_card(card, "md")
    assert [card_md.index(f"| age_band={band} |") for band in ("<25", "25-44", "45-64", "65+")] == sorted(
        card_md.index(f"| age_band={band} |") for band in ("<25", "25-44", "45-64", "65+"))


def test_findings_thresholds_read_as_bounds_in_every_format(reports):
    doc = reports[PASSED_RUN]
    accuracy = next(f for g in doc["gates"] for f in g["findings"] if f["rule_id"] == "accuracy")
    assert accuracy["threshold"] == {"min": 0.8}  # as performance.metric records it
    md = render_report(doc, "md")
    assert "| accuracy | passed | high | 0.8312 | ≥ 0.8 |" in md
    assert "| equal-opportunity-sex | passed | high | 0.07081 | ≤ 0.15 |" in md
    assert '{"min"' not in md
    page = render_report(doc, "html")
    assert "<td>≥ 0.8</td>" in page and "<td>≤ 0.15</td>" in page


def _ratio_finding(observed: float, status: str) -> dict:
    sex = D.fairness_evidence("sex", D.SEX_OK)
    return {"rule_id": "four-fifths-sex", "check": "fairness.demographic_parity_ratio", "stage": "evaluate",
            "severity": "high", "status": status, "observed": observed, "threshold": 0.8,
            "message": "demographic parity ratio", "evidence": sex, "subject": None}


def test_four_fifths_chart_is_captioned_as_a_ratio():
    sex = D.fairness_evidence("sex", D.SEX_OK)
    ratio = sex["metrics"]["demographic_parity_ratio"]
    doc = {"stages": [], "policy": {"rules": [{"id": "four-fifths-sex", "params": {"min": 0.8}}]},
           "gates": [{"seq": 1, "stage": "evaluate", "subject": None, "decision": "blocked", "binding": True,
                      "findings": [_ratio_finding(ratio, "failed")]}]}
    (chart,) = [b for b in findings_blocks(doc) if isinstance(b, BarChart)]
    assert chart.notes == [f"ratio (smallest ÷ largest) {ratio:.4g}; observed {ratio:.4g}, allowed ≥ 0.8"]
    assert "gap" not in " ".join(chart.notes)
    rates = dict(chart.bars)
    assert chart.limit == pytest.approx(0.8 * max(rates.values())) and chart.limit_kind == "min"
    # The group under four fifths of the highest rate is the one drawn as violating.
    assert [g for g, r in rates.items() if chart.violates(r)] == ["sex=Female"]


def test_difference_chart_keeps_its_gap_caption(reports):
    md = render_report(reports[PASSED_RUN], "md")
    assert "gap (largest minus smallest) 0.07081; observed 0.07081, allowed ≤ 0.15" in md


def test_model_card_architecture_is_readable(reports):
    card = build_model_card(reports[PASSED_RUN], seed_narrative(reports[PASSED_RUN]["metadata"]))
    text = render_card(card, "md")
    row = next(line for line in text.splitlines() if line.startswith("| **Architecture**"))
    assert row == ("| **Architecture** | batch size: 256<br>epochs: 5<br>hidden units: 64, 32<br>"
                   "learning rate: 0.001<br>optimizer: sgd |")
    assert "Architecture" in render_card(card, "html") and "{&quot;" not in render_card(card, "html")
