"""attendance's local copy of what it needs from identity and lessons, in the read-model schema.

Identity tells who is who (school time zone, classes, enrolment, class teachers, guardianships and
their restrictions, students who came of age and their decisions, staff roles); lessons tells
which lesson is when, who gives it and by when its entries are due. Handlers authorise and
decide from these tables.
"""

from __future__ import annotations

from ezurnals.shared.messaging.directory import Directory, Part
from ezurnals.shared.messaging.lessons_facts import LessonPart, LessonsFacts
from ezurnals.shared.messaging.projection import Projection
from ezurnals.shared.settings import Settings


class AttendanceDirectory(Directory):
    """Schools, their years' calendars, classes, rosters, class teachers, families, adult
    students and staff."""

    parts = frozenset(
        {
            Part.SCHOOLS,
            Part.SCHOOL_YEARS,
            Part.CLASSES,
            Part.ENROLMENTS,
            Part.CLASS_TEACHERS,
            Part.GUARDIANSHIPS,
            Part.ADULT_STUDENTS,
            Part.STAFF,
        }
    )


class ScheduledLessons(LessonsFacts):
    """Lessons with their class, time, teacher and substitute, and the entry-deadline policy."""

    parts = frozenset({LessonPart.LESSONS, LessonPart.DEADLINES})


def all(_: Settings) -> list[Projection]:
    return [AttendanceDirectory(), ScheduledLessons()]
