"""Waivers through the real CLI: a UTC day whatever the host's zone; no cover for graver overrides.

The audit's data make every fairness rule fail (one group always selected, the other never),
so whether a waiver applies decides the exit code: 0 with the finding ``waived``, 1 with it
``failed``.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from .rai_case import run, run_process

AUDIT = ("audit", "fairness", "--data", "data.csv", "--y-true", "Y", "--y-pred", "pred", "--sensitive", "sex",
         "--json", "--policy")
HEAD = "policy: {name}\nversion: '1'\nowner: qa@example.org\n"
RULE = "  - {{id: dp, check: {check}, stage: evaluate, severity: {severity}, params: {{sensitive_features: [sex]}}}}\n"
DP = "fairness.demographic_parity_difference"
WAIVER = "waivers:\n  - {{rule: dp, reason: fix pending, approved_by: cro@example.org, expires: {expires}}}\n"


@pytest.fixture
def here(tmp_path: Path, monkeypatch) -> Path:
    monkeypatch.chdir(tmp_path)
    rows = ["Y,pred,sex"] + [f"{i % 2},1,M" for i in range(40)] + [f"{i % 2},0,F" for i in range(40)]
    (tmp_path / "data.csv").write_text("\n".join(rows) + "\n")
    return tmp_path


def write_policy(name: str, *, check: str = DP, severity: str = "high", expires: dt.date | None = None,
                 extends: str | None = None) -> str:
    text = HEAD.format(name=name) + (f"extends: {extends}\n" if extends else "")
    text += "rules:\n" + RULE.format(check=check, severity=severity)
    if expires is not None:
        text += WAIVER.format(expires=expires.isoformat())
    Path(f"{name}.yaml").write_text(text)
    return f"{name}.yaml"


def status_of(code: int, out: str) -> tuple[int, str, str]:
    result = json.loads(out)
    (finding,) = result["findings"]
    return code, result["decision"], finding["status"]


WAIVED, BLOCKED = (0, "passed", "waived"), (1, "blocked", "failed")


# Etc/GMT-14 is UTC+14 and Etc/GMT+12 is UTC-12 (POSIX signs). At any moment one of the two local
# dates differs from the UTC date, so a waiver decided by the local date fails one of these rows.
@pytest.mark.parametrize("zone, days_before_today, expected", [
    ("Etc/GMT-14", 0, WAIVED),
    ("Etc/GMT+12", 0, WAIVED),
    ("Etc/GMT-14", 1, BLOCKED),
    ("Etc/GMT+12", 1, BLOCKED),
])
def test_waiver_expiry_is_decided_in_utc_whatever_the_zone(here, zone, days_before_today, expected):
    for _ in range(2):  # once more if UTC midnight passed during the run
        today = dt.datetime.now(dt.UTC).date()
        path = write_policy("utc", expires=today - dt.timedelta(days=days_before_today))
        done = run_process([*AUDIT, path], here, env={"TZ": zone})
        if dt.datetime.now(dt.UTC).date() == today:
            break
    assert status_of(done.returncode, done.stdout) == expected, done.stderr


@pytest.mark.parametrize("override, expected", [
    ({}, WAIVED),  # the same rule, restated
    ({"severity": "medium"}, WAIVED),  # milder than what was waived
    ({"severity": "critical"}, BLOCKED),  # graver
    ({"check": "fairness.equal_opportunity_difference"}, BLOCKED),  # another check under the same id
])
def test_a_base_waiver_covers_no_graver_or_different_override(here, rai, override, expected):
    write_policy("base", expires=dt.date(2999, 12, 31))
    child = write_policy("child", extends="base.yaml", **override)
    code, out, err = run(rai, *AUDIT, child)
    assert status_of(code, out) == expected, err
