"""The daily report's time: a per-school setting with an effective date and a default."""

from __future__ import annotations

import datetime as dt
from uuid import uuid4

import pytest

from ezurnals.attendance.domain import (
    DEFAULT_DAILY_REPORT_AT,
    AttendanceSettings,
    DailyReportScheduled,
    Relationships,
    ScheduleDailyReport,
    report_is_due,
)
from ezurnals.shared.contracts.base import registry
from ezurnals.shared.domain import Forbidden, Invalid

SCHOOL = uuid4()
ADMIN = Relationships(person_id=uuid4(), administration=True)
SEPT = dt.date(2025, 9, 1)
JAN = dt.date(2026, 1, 5)


def settings(*events: DailyReportScheduled) -> AttendanceSettings:
    return AttendanceSettings.rehydrate(f"attendance-settings-{SCHOOL}", list(events))


def scheduled(at: dt.time, effective_from: dt.date) -> DailyReportScheduled:
    return DailyReportScheduled(school_id=SCHOOL, at=at, effective_from=effective_from)


def test_without_a_setting_the_report_is_made_at_half_past_nine() -> None:
    assert settings().daily_report_at(SEPT) == dt.time(9, 30)


def test_a_new_time_applies_from_its_effective_date_only() -> None:
    given = settings(scheduled(dt.time(10, 0), SEPT), scheduled(dt.time(8, 45), JAN))
    assert given.daily_report_at(SEPT - dt.timedelta(days=1)) == DEFAULT_DAILY_REPORT_AT
    assert given.daily_report_at(dt.date(2025, 12, 19)) == dt.time(10, 0)
    assert given.daily_report_at(JAN) == dt.time(8, 45)


def test_the_administration_schedules_to_the_minute_and_nobody_else_may() -> None:
    cmd = ScheduleDailyReport(school_id=SCHOOL, at=dt.time(10, 15, 42), effective_from=SEPT)
    [event] = settings().schedule_daily_report(cmd, by=ADMIN, today=SEPT)
    assert event == scheduled(dt.time(10, 15), SEPT)
    with pytest.raises(Forbidden):
        settings().schedule_daily_report(cmd, by=Relationships(person_id=uuid4()), today=SEPT)


def test_the_setting_stays_inside_the_service() -> None:
    assert not registry.is_published("DailyReportScheduled", 1)


@pytest.mark.parametrize(
    ("now", "due"),
    [(dt.time(9, 29, 59), False), (dt.time(9, 30), True), (dt.time(23, 59), True)],
)
def test_the_report_is_due_from_its_time_for_the_rest_of_the_day(now: dt.time, due: bool) -> None:
    local = dt.datetime.combine(SEPT, now, dt.timezone(dt.timedelta(hours=3)))
    assert report_is_due(local, dt.time(9, 30)) is due


def test_a_report_time_is_set_at_most_a_year_ahead() -> None:
    cmd = ScheduleDailyReport(
        school_id=SCHOOL, at=dt.time(10, 0), effective_from=dt.date(9999, 12, 31)
    )
    with pytest.raises(Invalid) as err:
        settings().schedule_daily_report(cmd, by=ADMIN, today=SEPT)
    assert (err.value.field, err.value.code) == ("effective_from", "too_far_ahead")
    assert "2026-09-02" in err.value.message, "the answer names the last allowed day"
