"""attendance's local copy of what it needs from identity and lessons, in the read-model schema.

Identity tells who is who (school time zone, classes, enrolment, class teachers, guardianships and
their restrictions, students who came of age and their decisions, staff roles); lessons tells
which lesson is when, who gives it and by when its entries are due. Handlers authorise and
decide from these tables.
"""

from __future__ import annotations

import json
from typing import ClassVar

import asyncpg

from ezurnals.shared.contracts import lessons as les
from ezurnals.shared.contracts.base import EventEnvelope, IntegrationEvent
from ezurnals.shared.messaging.directory import Directory, Part
from ezurnals.shared.messaging.projection import Projection
from ezurnals.shared.settings import Settings


class AttendanceDirectory(Directory):
    """Schools, classes, rosters, class teachers, families, adult students and staff."""

    parts = frozenset(
        {
            Part.SCHOOLS,
            Part.CLASSES,
            Part.ENROLMENTS,
            Part.CLASS_TEACHERS,
            Part.GUARDIANSHIPS,
            Part.ADULT_STUDENTS,
            Part.STAFF,
        }
    )


class ScheduledLessons(Projection):
    """Lessons with their class, time, teacher and substitute, and the entry-deadline policy."""

    sources = ("lessons",)
    ddl = (
        """CREATE TABLE IF NOT EXISTS att_lessons (
               lesson_id UUID PRIMARY KEY, school_id UUID NOT NULL, class_id UUID NOT NULL,
               teacher_id UUID NOT NULL, substitute_teacher_id UUID, lesson_date DATE NOT NULL,
               starts_at TIME NOT NULL, grade_level INTEGER NOT NULL,
               cancelled BOOLEAN NOT NULL DEFAULT FALSE)""",
        """CREATE INDEX IF NOT EXISTS att_lessons_day ON att_lessons (school_id, lesson_date)""",
        """CREATE TABLE IF NOT EXISTS att_deadline_policies (
               school_id UUID NOT NULL, effective_from DATE NOT NULL, deadlines JSONB NOT NULL,
               PRIMARY KEY (school_id, effective_from))""",
    )
    event_types: ClassVar[frozenset[str] | None] = frozenset(
        {
            les.LessonScheduled.event_type,
            les.LessonSubstituted.event_type,
            les.LessonCancelled.event_type,
            les.EntryDeadlinePolicySet.event_type,
        }
    )

    async def apply(
        self, conn: asyncpg.Connection, envelope: EventEnvelope, event: IntegrationEvent
    ) -> None:
        if isinstance(event, les.LessonScheduled):
            await conn.execute(
                """INSERT INTO att_lessons (lesson_id, school_id, class_id, teacher_id,
                                            lesson_date, starts_at, grade_level)
                   VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (lesson_id) DO UPDATE SET
                       class_id = excluded.class_id, teacher_id = excluded.teacher_id,
                       lesson_date = excluded.lesson_date, starts_at = excluded.starts_at,
                       grade_level = excluded.grade_level""",
                event.lesson_id,
                event.school_id,
                event.class_id,
                event.teacher_id,
                event.lesson_date,
                event.starts_at,
                event.grade_level,
            )
        elif isinstance(event, les.LessonSubstituted):
            await conn.execute(
                "UPDATE att_lessons SET substitute_teacher_id = $2 WHERE lesson_id = $1",
                event.lesson_id,
                event.substitute_teacher_id,
            )
        elif isinstance(event, les.LessonCancelled):
            await conn.execute(
                "UPDATE att_lessons SET cancelled = TRUE WHERE lesson_id = $1", event.lesson_id
            )
        elif isinstance(event, les.EntryDeadlinePolicySet):
            bands = [band.model_dump(mode="json") for band in event.deadlines]
            await conn.execute(
                """INSERT INTO att_deadline_policies VALUES ($1, $2, $3)
                   ON CONFLICT (school_id, effective_from) DO UPDATE
                   SET deadlines = excluded.deadlines""",
                event.school_id,
                event.effective_from,
                json.dumps(bands),
            )


def all(_: Settings) -> list[Projection]:
    return [AttendanceDirectory(), ScheduledLessons()]
