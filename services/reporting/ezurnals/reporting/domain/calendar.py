"""School years, months and weeks as reporting reads them, in the school's own time zone."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from ezurnals.shared.domain import Invalid

_YEAR = re.compile(r"^(\d{4})/(\d{2}|\d{4})$")
_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
_WEEK = re.compile(r"^(\d{4})-W(0[1-9]|[1-4]\d|5[0-3])$")


def school_year(value: str) -> str:
    """One spelling for every service: identity writes "2025/2026", grading "2025/26"."""
    match = _YEAR.match(value)
    if match is None:
        raise Invalid(f"{value!r} is not a school year like 2025/26", field="school_year")
    first, second = match.groups()
    if int(second[-2:]) != (int(first) + 1) % 100:
        raise Invalid(f"{value!r} does not span two consecutive years", field="school_year")
    return f"{first}/{second[-2:]}"


def school_year_of(day: date) -> str:
    """Latvian school years run from 1 September to 31 August."""
    start = day.year if day.month >= 9 else day.year - 1
    return f"{start}/{(start + 1) % 100:02d}"


def month_days(month: str) -> tuple[date, date]:
    """The first and last day of a month written "2025-10"."""
    match = _MONTH.match(month)
    if match is None:
        raise Invalid(f"{month!r} is not a month like 2025-10", field="month")
    first = date(int(match.group(1)), int(match.group(2)), 1)
    following = date(first.year + first.month // 12, first.month % 12 + 1, 1)
    return first, following - timedelta(days=1)


def month_of(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def closed_month(now: datetime, time_zone: str) -> str:
    """The latest month that has ended in the school's time zone at instant ``now``."""
    local = now.astimezone(ZoneInfo(time_zone)).date()
    return month_of(local.replace(day=1) - timedelta(days=1))


def local_day(now: datetime, time_zone: str) -> date:
    return now.astimezone(ZoneInfo(time_zone)).date()


def week_days(week: str) -> tuple[date, date]:
    """Monday and Sunday of an ISO week written "2025-W41"."""
    match = _WEEK.match(week)
    if match is None:
        raise Invalid(f"{week!r} is not an ISO week like 2025-W41", field="week")
    try:
        monday = date.fromisocalendar(int(match.group(1)), int(match.group(2)), 1)
    except ValueError:
        raise Invalid(f"{week!r} has no such week", field="week") from None
    return monday, monday + timedelta(days=6)


def week_of(day: date) -> str:
    year, number, _ = day.isocalendar()
    return f"{year:04d}-W{number:02d}"


def utc(value: datetime) -> datetime:
    return value.astimezone(UTC)
