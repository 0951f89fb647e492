"""The school calendar value: which days are school days for a grade."""

from __future__ import annotations

from datetime import date
from uuid import uuid4

import pytest
from pydantic import ValidationError

from ezurnals.lessons.domain import DateRange, SchoolCalendar
from ezurnals.shared.contracts.identity import GradeEndDate, SchoolYearDefined, Semester
from ezurnals.shared.contracts.identity import Holiday as IdentityHoliday


@pytest.mark.parametrize(
    ("day", "grade_level", "expected"),
    [
        (date(2025, 9, 1), 5, True),  # first day of the year, a Monday
        (date(2025, 9, 6), 5, False),  # Saturday
        (date(2025, 12, 22), 5, False),  # winter break between semesters
        (date(2025, 10, 22), 5, False),  # autumn holidays
        (date(2026, 3, 10), 12, False),  # spring holidays for everyone
        (date(2026, 2, 17), 1, False),  # grade 1's extra week
        (date(2026, 2, 17), 2, True),
        (date(2026, 6, 1), 1, False),  # after grade 1's last day
        (date(2026, 6, 12), 9, True),  # grade 9's last day
        (date(2026, 6, 15), 9, False),
        (date(2026, 6, 19), 12, True),
    ],
)
def test_school_days_per_grade(
    calendar_2025_26: SchoolCalendar, day: date, grade_level: int, expected: bool
) -> None:
    # given the 2025/26 calendar
    # when a day is asked for a grade
    # then it is a school day only inside a semester, on a weekday, outside that grade's holidays
    assert calendar_2025_26.is_school_day(day, grade_level) is expected


def test_a_range_that_ends_before_it_starts_is_refused() -> None:
    # given a range written backwards
    # when it is made
    # then it is refused
    with pytest.raises(ValidationError):
        DateRange(first_day=date(2026, 1, 5), last_day=date(2026, 1, 4))


def test_the_calendar_is_read_from_identitys_school_year() -> None:
    # given identity's published school year with a grade-1 holiday and grade 9's end date
    event = SchoolYearDefined(
        school_id=uuid4(),
        school_year="2025/2026",
        semesters=(
            Semester(number=1, first_day=date(2025, 9, 1), last_day=date(2025, 12, 19)),
            Semester(number=2, first_day=date(2026, 1, 5), last_day=date(2026, 6, 19)),
        ),
        grade_end_dates=(GradeEndDate(grade_level=9, last_day=date(2026, 6, 12)),),
        holidays=(
            IdentityHoliday(
                first_day=date(2026, 2, 16), last_day=date(2026, 2, 20), grade_levels=(1,)
            ),
        ),
    )
    # when the lessons service turns it into its calendar
    calendar = SchoolCalendar.from_school_year(event)
    # then the same days are school days
    assert calendar.school_year == "2025/2026"
    assert not calendar.is_school_day(date(2026, 2, 17), 1)
    assert calendar.is_school_day(date(2026, 2, 17), 2)
    assert calendar.is_school_day(date(2026, 6, 12), 9)
    assert not calendar.is_school_day(date(2026, 6, 15), 9)
    assert not calendar.is_school_day(date(2026, 1, 2), 9)
