"""The running dashboard in headless Chromium: the Run page shows the run, its decision and findings.

Starts ``rai dashboard`` (local bind, XSRF on, no telemetry) on the seeded workspace plus a run of
hostile strings, loads pages in Debian's headless Chromium over the DevTools Protocol, and saves
screenshots under ``tests/artifacts/`` (ignored by git).
"""

from __future__ import annotations

import os
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import quote

import pytest

from . import browser
from .workspaces import BLOCKED_RUN, HOSTILE, HOSTILE_RUN, PASSED_RUN

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
PAGES = ("Overview", "Run", "Audit trail", "Policies", "Models", "Monitoring", "Reports", "Approvals")
# Every alert() a page would run is counted instead of shown, from before the page's own scripts.
COUNT_ALERTS = "window.__alerts = 0; window.alert = () => { window.__alerts += 1; };"


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() not in ("", "0", "false", "no")


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    if not browser.CHROMIUM.is_file():
        reason = f"{browser.CHROMIUM} not found; install Debian's 'chromium' package"
        if in_ci():
            pytest.fail(f"CI is set but {reason}", pytrace=False)
        pytest.skip(reason)
    from . import workspaces

    root = tmp_path_factory.mktemp("browser")
    ws = workspaces.build(root / "ws")
    workspaces.add_hostile_run(ws)
    with browser.dashboard(ws, root / "server.log") as url, browser.chromium() as page:
        page.send("Page.enable")
        page.send("Page.addScriptToEvaluateOnNewDocument", source=COUNT_ALERTS)
        yield url, page


# True once the script run is over and every element has replaced its loading placeholder.
SETTLED = ("!document.querySelector('[data-testid=stStatusWidgetRunningIcon]') "
           "&& !document.querySelector('[data-testid=stSkeleton]')")


def page_text(page: browser.Page, *expected: str) -> str:
    """The page's text once every ``expected`` string is in it and rendering has settled."""
    last = {"text": ""}

    def complete() -> bool:
        last["text"] = page.evaluate("document.body ? document.body.textContent : ''") or ""
        return all(e in last["text"] for e in expected) and page.evaluate(SETTLED)

    try:
        browser.wait_until(complete, 90, "the page")
    except TimeoutError:
        missing = [e for e in expected if e not in last["text"]]
        raise AssertionError(f"not on the page: {missing}; it shows: {last['text'][-1500:]}") from None
    return last["text"]


def open_run(page: browser.Page, url: str, run_id: str, *expected: str) -> str:
    """Load the Run page of ``run_id`` and return its text once ``expected`` is in it."""
    page.send("Page.navigate", url=f"{url}/run?run={quote(run_id, safe='')}")
    return page_text(page, run_id, *expected)


def test_run_page_shows_the_run_its_decision_and_findings(served):
    url, page = served
    open_run(page, url, BLOCKED_RUN, "Decision: blocked at evaluate", "11 of 11 findings",
             "equal-opportunity-sex (fairness.equal_opportunity_difference): equal opportunity difference 0.2547 "
             "> max 0.15 across 2 groups of sex")
    page.screenshot(ARTIFACTS / "dashboard-run-blocked.png")
    open_run(page, url, PASSED_RUN, "Decision: passed", "18 of 18 findings")
    page.evaluate("[...document.querySelectorAll('[role=tab]')].find(t => t.textContent === 'Privacy').click()")
    browser.wait_until(lambda: page.evaluate("document.querySelector('[role=tab][aria-selected=true]').textContent")
                       == "Privacy", 30, "the Privacy tab")
    page_text(page, "ε limit (policy)", "15% of the policy's privacy budget spent")
    page.screenshot(ARTIFACTS / "dashboard-run-passed-privacy.png")


def test_overview_shows_the_integrity_badge_and_only_the_dashboard_pages(served):
    url, page = served
    page.send("Page.navigate", url=url)
    page_text(page, "Trail intact: 39 events", "5 of 5 runs")
    links = page.evaluate("[...document.querySelectorAll('[data-testid=stSidebarNavLink]')].map(a => a.textContent)")
    assert [link[-len(title):] for link, title in zip(links, PAGES, strict=True)] == list(PAGES)
    page.screenshot(ARTIFACTS / "dashboard-overview.png")


def test_hostile_strings_are_shown_as_text_and_never_run(served):
    url, page = served
    open_run(page, url, HOSTILE_RUN, "Decision: blocked at ingest", f"model model {HOSTILE}",
             "[click me](javascript:alert(1))")
    assert page.evaluate("window.__alerts") == 0
    assert page.evaluate("[...document.querySelectorAll('a')].some(a => a.href.startsWith('javascript'))") is False
    assert page.evaluate("[...document.scripts].some(s => s.textContent.includes('alert(1)'))") is False
    page.screenshot(ARTIFACTS / "dashboard-run-hostile.png")


def test_the_agent_api_is_off(served):
    url, _ = served
    request = urllib.request.Request(f"{url}/_stcore/agent/interact", data=b"{}", method="POST",
                                     headers={"Content-Type": "application/json"})
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=10)
    assert refused.value.code == 403
