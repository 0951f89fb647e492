"""Builders shared by the lessons domain tests: a Riga clock and a scheduled lesson."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time
from uuid import UUID, uuid4
from zoneinfo import ZoneInfo

import pytest

from ezurnals.lessons.domain import (
    DEFAULT_SCHEDULE,
    DateRange,
    Holiday,
    Lesson,
    RecordLesson,
    ScheduleLesson,
    SchoolCalendar,
)
from ezurnals.shared.contracts.lessons import LessonScheduled

RIGA = ZoneInfo("Europe/Riga")


@pytest.fixture
def calendar_2025_26() -> SchoolCalendar:
    """The 2025/26 year of DOMAIN.md: autumn, winter and spring holidays, an extra week for
    grade 1, grade 9 until 12 June, grade 12 until 19 June, the others until 29 May."""
    return SchoolCalendar(
        school_year="2025/2026",
        semesters=(
            DateRange(first_day=date(2025, 9, 1), last_day=date(2025, 12, 19)),
            DateRange(first_day=date(2026, 1, 5), last_day=date(2026, 6, 19)),
        ),
        holidays=(
            Holiday(first_day=date(2025, 10, 20), last_day=date(2025, 10, 24)),
            Holiday(first_day=date(2026, 3, 9), last_day=date(2026, 3, 13)),
            Holiday(first_day=date(2026, 2, 16), last_day=date(2026, 2, 20), grades=frozenset({1})),
        ),
        grade_end_dates={
            **{grade: date(2026, 5, 29) for grade in (1, 2, 3, 4, 5, 6, 7, 8, 10, 11)},
            9: date(2026, 6, 12),
            12: date(2026, 6, 19),
        },
    )


@pytest.fixture
def riga() -> ZoneInfo:
    return RIGA


@pytest.fixture
def at_riga() -> Callable[[date, int, int], datetime]:
    """The UTC instant of a wall-clock time in Riga on a day."""

    def instant(day: date, hour: int, minute: int = 0) -> datetime:
        return datetime.combine(day, time(hour, minute), tzinfo=RIGA).astimezone(UTC)

    return instant


@pytest.fixture
def teacher_id() -> UUID:
    return uuid4()


@pytest.fixture
def plan_lesson(teacher_id: UUID) -> Callable[..., ScheduleLesson]:
    """A lesson's plan: the 3rd period, 10:00–10:40, taught by ``teacher_id``."""

    def plan(lesson_date: date = date(2026, 3, 27), grade_level: int = 5) -> ScheduleLesson:
        return ScheduleLesson(
            lesson_id=uuid4(),
            school_id=uuid4(),
            timetable_id=uuid4(),
            slot_id=uuid4(),
            class_id=uuid4(),
            subject_id=uuid4(),
            teacher_id=teacher_id,
            lesson_date=lesson_date,
            starts_at=time(10, 0),
            ends_at=time(10, 40),
            period=3,
            room="204",
            grade_level=grade_level,
        )

    return plan


@pytest.fixture
def scheduled(plan_lesson: Callable[..., ScheduleLesson]) -> Callable[..., Lesson]:
    """Given a lesson that the timetable scheduled."""

    def lesson(lesson_date: date = date(2026, 3, 27), grade_level: int = 5) -> Lesson:
        plan = plan_lesson(lesson_date, grade_level)
        return Lesson.rehydrate(str(plan.lesson_id), [LessonScheduled(**plan.model_dump())])

    return lesson


@pytest.fixture
def recorded_lesson(scheduled: Callable[..., Lesson], teacher_id: UUID) -> Callable[..., Lesson]:
    """Given a lesson of grade 5 on Friday 27.03.2026 that its teacher recorded at 11:00,
    with "no homework"."""

    def lesson(topic: str = "Daļskaitļi") -> Lesson:
        given = scheduled(date(2026, 3, 27), 5)
        cmd = RecordLesson(topic=topic, no_homework=True, recorded_by=teacher_id)
        now = datetime.combine(date(2026, 3, 27), time(11, 0), tzinfo=RIGA)
        return given.applied(given.record(cmd, now, DEFAULT_SCHEDULE, RIGA))

    return lesson
