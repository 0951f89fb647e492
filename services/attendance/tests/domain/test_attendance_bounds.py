"""Every number and date a person types has a domain bound (issue 16): minutes late within the
lesson's length, thresholds a month can reach, excuses within the school year."""

from __future__ import annotations

import datetime as dt
from typing import Any
from uuid import uuid4

import pytest

from ezurnals.attendance.domain import (
    DEFAULT_CODES,
    DEFAULT_EXCUSE_POLICY,
    AttendanceSettings,
    CorrectMark,
    ExcuseRequest,
    LessonAttendance,
    MarkEntry,
    Relationships,
    SetExcusePolicy,
    SubmitExcuse,
    TakeAttendance,
)
from ezurnals.attendance.domain.lesson_attendance import STANDARD_LESSON_MINUTES
from ezurnals.attendance.domain.school_year import SchoolYearSpan, current_year
from ezurnals.shared.domain import Invalid

DAY = dt.date(2025, 10, 6)
YEAR = SchoolYearSpan(
    school_year="2025/2026", first_day=dt.date(2025, 9, 1), last_day=dt.date(2026, 6, 19)
)


def take(school: Any, lesson: Any, minutes_late: int) -> list[Any]:
    attendance = LessonAttendance(f"lesson-attendance-{lesson.lesson_id}")
    mark = MarkEntry(student_id=school.anna, minutes_late=minutes_late)
    return attendance.take(
        TakeAttendance(lesson_id=lesson.lesson_id, marks=(mark,)),
        lesson=lesson,
        codes=DEFAULT_CODES,
        by=school.teacher_of(lesson),
        now=lesson.starts_at + dt.timedelta(minutes=50),
    )


def test_minutes_late_beyond_the_lessons_length_are_refused_naming_the_range(school: Any) -> None:
    lesson = school.lesson(DAY).model_copy(
        update={"ends_at": school.lesson(DAY).starts_at + dt.timedelta(minutes=45)}
    )

    with pytest.raises(Invalid) as err:
        take(school, lesson, 10**12)

    assert err.value.field == "marks[0].minutes_late"
    assert "between 1 and 45" in err.value.message
    assert err.value.details == {"min": 1, "max": 45}


def test_minutes_late_up_to_the_lessons_end_are_a_late_arrival(school: Any) -> None:
    lesson = school.lesson(DAY).model_copy(
        update={"ends_at": school.lesson(DAY).starts_at + dt.timedelta(minutes=45)}
    )

    events = take(school, lesson, 45)

    assert events[1].minutes_late == 45


def test_a_lesson_of_unknown_length_is_the_standard_lesson(school: Any) -> None:
    lesson = school.lesson(DAY)  # no end known

    assert lesson.minutes == STANDARD_LESSON_MINUTES
    take(school, lesson, STANDARD_LESSON_MINUTES)
    with pytest.raises(Invalid) as err:
        take(school, lesson, STANDARD_LESSON_MINUTES + 1)
    assert f"between 1 and {STANDARD_LESSON_MINUTES}" in err.value.message


def test_a_correction_to_more_minutes_than_the_lesson_has_is_refused(school: Any) -> None:
    lesson = school.lesson(DAY)
    attendance = school.absent(lesson, school.anna)

    with pytest.raises(Invalid) as err:
        attendance.correct(
            CorrectMark(lesson_id=lesson.lesson_id, student_id=school.anna, minutes_late=41),
            lesson=lesson,
            codes=DEFAULT_CODES,
            by=school.teacher_of(lesson),
        )

    assert err.value.field == "minutes_late"
    assert "between 1 and 40" in err.value.message


ADMIN = Relationships(person_id=uuid4(), administration=True)


@pytest.mark.parametrize(("thresholds", "field"), [((10, 201), "[1]"), ((0,), "[0]")])
def test_a_threshold_no_month_can_reach_is_refused(thresholds: tuple[int, ...], field: str) -> None:
    settings = AttendanceSettings("attendance-settings-x")
    cmd = SetExcusePolicy(
        school_id=uuid4(),
        parent_note_max_days=3,
        unexcused_thresholds=thresholds,
        effective_from=DAY,
    )

    with pytest.raises(Invalid) as err:
        settings.set_excuse_policy(cmd, by=ADMIN, today=DAY)

    assert err.value.field == f"unexcused_thresholds{field}"
    assert "between 1 and 200" in err.value.message


def submit(
    school: Any, first: dt.date, last: dt.date, year: SchoolYearSpan | None = YEAR
) -> list[Any]:
    cmd = SubmitExcuse(
        request_id=uuid4(),
        student_id=school.anna,
        covers_from=first,
        covers_to=last,
        reason="slimība",
        document_type="doctor_certificate",
    )
    return ExcuseRequest(f"excuse-request-{cmd.request_id}").submit(
        cmd, by=school.guardian, policy=DEFAULT_EXCUSE_POLICY, today=DAY, school_year=year
    )


@pytest.mark.parametrize(
    ("first", "last", "field"),
    [
        (dt.date(2021, 10, 4), dt.date(2021, 10, 5), "covers_from"),
        (dt.date(2026, 6, 18), dt.date(2026, 7, 2), "covers_to"),
    ],
)
def test_an_excuse_outside_the_school_year_is_refused_naming_the_range(
    school: Any, first: dt.date, last: dt.date, field: str
) -> None:
    with pytest.raises(Invalid) as err:
        submit(school, first, last)

    assert err.value.field == field
    assert "2025-09-01 to 2026-06-19" in err.value.message


def test_an_excuse_within_the_school_year_is_submitted(school: Any) -> None:
    events = submit(school, dt.date(2025, 10, 6), dt.date(2025, 10, 7))

    assert events[0].covers_from == dt.date(2025, 10, 6)


def test_without_a_known_calendar_the_customary_school_year_bounds_an_excuse(school: Any) -> None:
    with pytest.raises(Invalid) as err:
        submit(school, dt.date(2021, 10, 4), dt.date(2021, 10, 5), year=None)

    assert "2025-09-01 to 2026-08-31" in err.value.message


def test_the_current_school_year_is_the_latest_that_has_begun() -> None:
    last = YEAR.model_copy(
        update={
            "school_year": "2024/2025",
            "first_day": dt.date(2024, 9, 2),
            "last_day": dt.date(2025, 6, 20),
        }
    )
    later = YEAR.model_copy(
        update={
            "school_year": "2026/2027",
            "first_day": dt.date(2026, 9, 1),
            "last_day": dt.date(2027, 6, 18),
        }
    )

    assert current_year([last, YEAR, later], DAY) == YEAR
    assert current_year([last, YEAR, later], dt.date(2026, 7, 15)) == YEAR
