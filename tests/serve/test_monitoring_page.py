"""The dashboard's Monitoring page over a prediction log audited in 12 windows (Streamlit AppTest)."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pytest
from streamlit.testing.v1 import AppTest

from governance.workspace import Workspace

from .harness import ROW, Server, register_demo
from .test_monitor_log import POLICY

PAGE = Path(__file__).resolve().parents[2] / "dashboards" / "views" / "monitoring.py"


@pytest.fixture(scope="module")
def monitored(tmp_path_factory):
    """240 decisions, the last 40 far from training, audited in windows of 20: 12 windows, 2 blocked."""
    from rai.cli import main

    root = tmp_path_factory.mktemp("monitoring-page")
    ws = Workspace(root / "ws")
    register_demo(ws)
    (root / "policy.yaml").write_text(POLICY.replace("min: 0.5", "min: 0.3"))
    ids = []
    with Server(ws) as running:
        for i in range(240):
            far = i >= 200
            row = {**ROW, "age": 79 if far else 20 + i % 55, "hours-per-week": 99.0 if far else 30.0 + i % 20,
                   "color": "red" if far else ["red", "green", "blue"][i % 3], "sex": ["Female", "Male"][i % 2]}
            status, answer = running.predict({"row": row})
            assert status == 200
            ids.append(answer["request_id"])
    labels = root / "outcomes.csv"  # outcomes have arrived for the first 100 decisions
    labels.write_text("request_id,Y\n" + "".join(f"{rid},{i % 2}\n" for i, rid in enumerate(ids[:100])))
    with pytest.raises(SystemExit) as done:
        main(["monitor", "--log", "--model", "demo", "--window", "20", "--policy", str(root / "policy.yaml"),
              "--labels", str(labels), "--workspace", str(ws.root), "--json"])
    assert done.value.code == 1  # the far-off windows block
    return ws


def _page(monkeypatch, ws: Workspace) -> AppTest:
    monkeypatch.setenv("RAI_WORKSPACE", str(ws.root))
    at = AppTest.from_file(str(PAGE), default_timeout=120).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_the_page_charts_every_window_with_the_threshold_and_the_blocked_ones(monkeypatch, monitored):
    at = _page(monkeypatch, monitored)
    assert at.title[0].value == "Monitoring"
    assert {m.label: m.value for m in at.metric} == {"Windows": "12", "Blocked windows": "2", "Decisions": "240",
                                                     "With outcomes": "100"}
    assert at.error[0].value.startswith("2 of 12 windows blocked")
    table = at.dataframe[0].value
    assert len(table) == 12 and table["decision"].tolist() == ["passed"] * 10 + ["blocked"] * 2
    assert table["start"].is_monotonic_increasing
    charts = at.get("vega_lite_chart")
    drift = [pa.ipc.open_stream(d.data.data).read_all().to_pandas() for d in charts[0].proto.datasets]
    lines = next(d for d in drift if "drift_share" in d.columns and len(d) == 12)
    assert lines["drift_share"].iloc[-1] > lines["drift_share"].iloc[0]
    assert any("threshold" in d.columns and d["threshold"].tolist() == [0.5] for d in drift)
    blocked = [d for d in drift if "drift_share" in d.columns and len(d) == 2]
    assert blocked and set(blocked[0]["decision"]) == {"blocked"}
    # windows of 20 decisions hold no group of 30: no selection-rate gap is measured, nor charted
    accuracy = [pa.ipc.open_stream(d.data.data).read_all().to_pandas() for d in charts[1].proto.datasets]
    assert len(charts) == 2 and [s.value for s in at.subheader] == [
        "Share of drifted columns", "Accuracy (windows with outcomes)", "Windows"]
    assert any("accuracy" in d.columns and len(d) == 5 for d in accuracy)  # the five windows with outcomes
    assert any("threshold" in d.columns and d["threshold"].tolist() == [0.3] for d in accuracy)


def test_an_empty_workspace_says_how_to_get_windows(monkeypatch, demo_ws):
    from governance.trail import open_trail

    with open_trail(demo_ws):  # a trail, but no monitoring yet
        pass
    at = _page(monkeypatch, demo_ws)
    assert "No monitoring windows yet" in at.info[0].value


def test_the_windows_json_matches_the_trail(monitored):
    from dashboards.monitoring import windows
    from governance.trail import open_trail

    with open_trail(monitored, create=False) as trail:
        table, limits = windows(trail)
    assert len(table) == 12 and set(limits["metric"].dropna()) == {"drift_share", "accuracy"}
    assert json.loads(table.to_json(orient="records"))[0]["rows"] == 20


@pytest.mark.browser
def test_the_monitoring_page_in_headless_chromium(monitored, tmp_path):
    """The real `rai dashboard` process, the real browser: every window charted, the blocked ones named."""
    from dashboard import browser
    from dashboard.test_browser import ARTIFACTS, in_ci, page_text

    if not browser.CHROMIUM.is_file():
        reason = f"{browser.CHROMIUM} not found; install Debian's 'chromium' package"
        if in_ci():
            pytest.fail(f"CI is set but {reason}", pytrace=False)
        pytest.skip(reason)
    with browser.dashboard(monitored.root, tmp_path / "server.log") as url, browser.chromium() as page:
        page.send("Page.enable")
        page.send("Page.navigate", url=f"{url}/monitoring")
        text = page_text(page, "2 of 12 windows blocked", "Share of drifted columns",
                         "Accuracy (windows with outcomes)")
        assert "Monitoring" in text
        charts = browser.wait_until(
            lambda: page.evaluate("document.querySelectorAll('[data-testid=stVegaLiteChart]').length") >= 2,
            60, "the two charts")
        assert charts
        rows = page.evaluate("document.querySelectorAll('[data-testid=stDataFrame]').length")
        assert rows >= 1
        page.screenshot(ARTIFACTS / "dashboard-monitoring.png")
