"""School years, months and weeks as reporting reads them, in the school's own time zone."""

from __future__ import annotations

import re
from calendar import monthrange
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from ezurnals.shared.contracts.school_year import customary_days, spelled, year_of
from ezurnals.shared.domain import Invalid

_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
_WEEK = re.compile(r"^(\d{4})-W(0[1-9]|[1-4]\d|5[0-3])$")


def school_year(value: str) -> str:
    """A school year as given, in its one spelling ("2025/26" is read as "2025/2026")."""
    try:
        return spelled(value)
    except ValueError as err:
        raise Invalid(str(err), field="school_year") from None


def school_year_of(day: date) -> str:
    """The customary school year that holds ``day`` (``year_of``)."""
    return year_of(day)


def month_days(month: str) -> tuple[date, date]:
    """The first and last day of a month written "2025-10"."""
    match = _MONTH.match(month)
    if match is None:
        raise Invalid(f"{month!r} is not a month like 2025-10", field="month")
    if int(match.group(1)) < 1:
        raise Invalid(f"{month!r} is before the calendar", field="month")
    first = date(int(match.group(1)), int(match.group(2)), 1)
    return first, first.replace(day=monthrange(first.year, first.month)[1])


def month_of(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def closed_month(now: datetime, time_zone: str) -> str:
    """The latest month that has ended in the school's time zone at instant ``now``."""
    local = now.astimezone(ZoneInfo(time_zone)).date()
    return month_of(local.replace(day=1) - timedelta(days=1))


def require_issuable_month(
    month: str, now: datetime, time_zone: str, first_school_day: date | None
) -> None:
    """A monthly statement is of a month that has ended (rule 5: the previous month's grades
    and absences), not before the school's first school year; Invalid names the range."""
    month_days(month)
    latest = closed_month(now, time_zone)
    earliest = month_of(first_school_day) if first_school_day is not None else None
    if month > latest or (earliest is not None and month < earliest):
        allowed = f"from {earliest} to {latest}" if earliest is not None else f"{latest} or earlier"
        raise Invalid(
            f"statements are issued for months that have ended, {allowed}; not for {month}",
            field="month",
            code="out_of_range",
            details={"first_month": earliest, "last_month": latest},
        )


def local_day(now: datetime, time_zone: str) -> date:
    return now.astimezone(ZoneInfo(time_zone)).date()


def week_days(week: str) -> tuple[date, date]:
    """Monday and Sunday of an ISO week written "2025-W41"."""
    match = _WEEK.match(week)
    if match is None:
        raise Invalid(f"{week!r} is not an ISO week like 2025-W41", field="week")
    try:
        monday = date.fromisocalendar(int(match.group(1)), int(match.group(2)), 1)
        return monday, monday + timedelta(days=6)
    except (ValueError, OverflowError):
        raise Invalid(f"{week!r} has no such week", field="week") from None


def week_of(day: date) -> str:
    year, number, _ = day.isocalendar()
    return f"{year:04d}-W{number:02d}"


def utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


def year_days(year: str) -> tuple[date, date]:
    """The customary days of a school year ("2025/2026"): 1 September to 31 August."""
    try:
        return customary_days(school_year(year))
    except ValueError:
        raise Invalid(f"{year!r} is outside the calendar", field="school_year") from None


def day_span(
    first: date | None, last: date, *, default_first: date | None, max_days: int
) -> tuple[date, date]:
    """A span of days asked for (``from``/``to``), at most ``max_days`` long; without a first
    day, ``default_first`` or else the ``max_days`` up to the last."""
    if first is None:
        first = default_first or (
            last - timedelta(days=max_days - 1)
            if last > date.min + timedelta(max_days)
            else date.min
        )
    if first > last:
        raise Invalid("the first day comes after the last", field="from")
    if (last - first).days >= max_days:
        raise Invalid(f"at most {max_days} days at a time", field="to")
    return first, last


def report_period_days(
    period: str, year: str, semesters: Sequence[Mapping[str, Any]]
) -> tuple[date, date]:
    """The days a report card covers: a semester as the school year defines it (identity's
    SchoolYearDefined), or — for a year not defined there — the calendar halves of the year."""
    first, last = year_days(year)
    if period == "year":
        return first, last
    number = 1 if period == "semester1" else 2
    for semester in semesters:
        if semester.get("number") == number:
            return date.fromisoformat(semester["first_day"]), date.fromisoformat(
                semester["last_day"]
            )
    if number == 1:
        return first, date(first.year, 12, 31)
    return date(last.year, 1, 1), last
