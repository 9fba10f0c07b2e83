"""The Fairness tab of a run gated by confidence-aware rules: each group's metric as a point with
its confidence interval as an error bar, the policy's bound as a dashed line, the minimum
detectable effect in the table, and the inconclusive finding in its own colour."""

from __future__ import annotations

import json

import pytest
from report.confidence import FNR, add_confidence_run
from statsmodels.stats.proportion import proportion_confint

from .conftest import plain
from .test_pages import chart_data, tab


@pytest.fixture(scope="module")
def confidence_ws(tmp_path_factory):
    ws = tmp_path_factory.mktemp("dashboard-confidence") / "ws"
    return ws, add_confidence_run(ws)


def test_fairness_tab_draws_intervals_as_error_bars_against_the_bound(open_page, confidence_ws):
    ws, run_id = confidence_ws
    fairness = tab(open_page("run", ws, run=run_id), "Fairness")
    heads = [m.value for m in fairness.markdown if m.value.startswith("**")]
    assert heads[0].startswith("**fnr\\-gap** (fairness\\.group\\_metric) at evaluate: :violet[**inconclusive**]")
    assert "observed 0.01316 [0.002778, 0.2312] against ≤ 0.1" in plain(heads[0])
    assert ":red[**failed**]" in heads[1] and ":green[**passed**]" in heads[2]
    assert any(m.value.startswith(":violet[INCONCLUSIVE") for m in fairness.markdown)

    chart = fairness.get("vega_lite_chart")[0]
    spec = json.loads(chart.proto.spec)
    marks = [layer["mark"]["type"] if isinstance(layer["mark"], dict) else layer["mark"] for layer in spec["layer"]]
    assert marks == ["errorbar", "point", "rule"]
    bar = spec["layer"][0]["encoding"]
    assert (bar["x"]["field"], bar["x2"]["field"], bar["y"]["field"]) == ("low", "high", "group")
    groups, limit = chart_data(fairness)[0]
    groups = groups.set_index("group")
    for group, (k, n) in FNR.items():
        low, high = proportion_confint(k, n, alpha=0.05, method="wilson")
        assert groups.loc[group, ["fnr", "low", "high"]].tolist() == pytest.approx([k / n, low, high])
        assert groups.loc[group, "verdict"] == "inconclusive"
    assert limit["limit"].tolist() == pytest.approx([10 / 40 + 0.1]) and limit["bound"].tolist() == ["smallest + 0.1"]

    table = fairness.dataframe[0].value.set_index("group")
    assert list(table.columns) == ["count", "fnr", "low", "high", "min detectable effect", "excluded"]
    assert table.loc["sex=Female", "min detectable effect"] == pytest.approx(0.2051, abs=1e-4)
