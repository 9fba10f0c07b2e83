"""Waivers: a date is a UTC day, written as a date; a base's waiver covers no graver override.

The failing rule is ``privacy.dp_required`` on a model trained without DP: real, and one line.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

import governance.policy.schema as schema
from governance.engine import evaluate
from governance.evidence import Evidence
from governance.policy.loader import load_policy
from governance.vocabulary import Status

EXPIRES = dt.date(2030, 6, 30)
UTC, PLUS_14, MINUS_12 = dt.UTC, dt.timezone(dt.timedelta(hours=14)), dt.timezone(dt.timedelta(hours=-12))
POLICY = (
    "policy: waivers\nversion: '1'\nowner: qa@example.org\nrules:\n"
    "  - {id: dp, check: privacy.dp_required, stage: train, severity: high}\n"
    "waivers:\n  - {rule: dp, reason: fix pending, approved_by: cro@example.org, expires: 2030-06-30}\n"
)
NO_DP = Evidence(privacy={"dp": False})


@pytest.fixture
def policy(tmp_path: Path):
    (tmp_path / "policy.yaml").write_text(POLICY)
    return load_policy(tmp_path / "policy.yaml")


@pytest.mark.parametrize("moment, holds", [
    (dt.datetime(2030, 6, 30, 23, 59, 59, tzinfo=UTC), True),
    (dt.datetime(2030, 7, 1, 0, 0, 0, tzinfo=UTC), False),
    # 2030-07-01 09:00 where clocks are 14 hours ahead is still 2030-06-30 in UTC
    (dt.datetime(2030, 7, 1, 9, 0, tzinfo=PLUS_14), True),
    # 2030-06-30 13:00 where clocks are 12 hours behind is already 2030-07-01 in UTC
    (dt.datetime(2030, 6, 30, 13, 0, tzinfo=MINUS_12), False),
    (dt.date(2030, 6, 30), True),
    (dt.date(2030, 7, 1), False),
])
def test_a_waiver_holds_to_the_end_of_its_day_in_utc(policy, moment, holds):
    assert policy.waivers[0].active(moment) is holds
    (finding,) = evaluate(policy, "train", NO_DP, today=moment).findings
    assert finding.status is (Status.WAIVED if holds else Status.FAILED)


def test_without_a_date_the_engine_asks_the_utc_clock(policy, monkeypatch):
    for today, status in ((EXPIRES, Status.WAIVED), (EXPIRES + dt.timedelta(days=1), Status.FAILED)):
        monkeypatch.setattr(schema, "utc_today", lambda today=today: today)
        assert evaluate(policy, "train", NO_DP).findings[0].status is status


def test_the_utc_clock_is_utc():
    before = dt.datetime.now(dt.UTC).date()
    assert schema.utc_today() in (before, before + dt.timedelta(days=1))


@pytest.mark.parametrize("expires", [dt.datetime(2030, 6, 30, 12, 0), "2030-06-30T00:00:00", "2030-06-30 00:00",
                                     20300630, 2030.5, True, "30/06/2030", "2030-6-30"])
def test_expires_is_a_date_and_nothing_else(expires):
    with pytest.raises(ValueError, match=r"must be an ISO date \(YYYY-MM-DD\)"):
        schema.Waiver(rule="dp", reason="r", approved_by="a", expires=expires)


@pytest.mark.parametrize("field", ["reason", "approved_by"])
@pytest.mark.parametrize("blank", ["", " ", "\t", "\n \u3000"])
def test_reason_and_approver_are_not_blank(field, blank):
    values = {"rule": "dp", "reason": "r", "approved_by": "a", "expires": "2030-06-30", field: blank}
    with pytest.raises(ValueError, match="must not be blank|at least 1 character"):
        schema.Waiver(**values)
