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

from ezurnals.shared.contracts import identity as idn
from ezurnals.shared.contracts import lessons as les
from ezurnals.shared.contracts.base import EventEnvelope, IntegrationEvent
from ezurnals.shared.messaging.projection import Projection
from ezurnals.shared.settings import Settings

GuardianshipChange = (
    idn.GuardianUnlinked
    | idn.GuardianshipRestricted
    | idn.GuardianshipUnrestricted
    | idn.GuardianAccessDecided
)
StaffChange = idn.StaffMemberHired | idn.StaffRolesChanged | idn.EmploymentEnded


class SchoolRelationships(Projection):
    """Schools, classes, rosters, class teachers, families and staff from identity's events."""

    sources = ("identity",)
    ddl = (
        """CREATE TABLE IF NOT EXISTS att_schools (
               school_id UUID PRIMARY KEY, time_zone TEXT NOT NULL)""",
        """CREATE TABLE IF NOT EXISTS att_school_years (
               school_id UUID NOT NULL, school_year TEXT NOT NULL, first_day DATE NOT NULL,
               last_day DATE NOT NULL, PRIMARY KEY (school_id, school_year))""",
        """CREATE TABLE IF NOT EXISTS att_classes (
               class_id UUID PRIMARY KEY, school_id UUID NOT NULL, school_year TEXT NOT NULL,
               grade_level INTEGER NOT NULL, label TEXT NOT NULL)""",
        """CREATE TABLE IF NOT EXISTS att_enrolments (
               school_id UUID NOT NULL, student_id UUID NOT NULL, class_id UUID NOT NULL,
               enrolled_on DATE NOT NULL, left_on DATE,
               PRIMARY KEY (student_id, class_id, enrolled_on))""",
        """CREATE INDEX IF NOT EXISTS att_enrolments_class ON att_enrolments (class_id)""",
        """CREATE TABLE IF NOT EXISTS att_class_teachers (
               class_id UUID NOT NULL, valid_from DATE NOT NULL, school_id UUID NOT NULL,
               teacher_id UUID NOT NULL, PRIMARY KEY (class_id, valid_from))""",
        """CREATE TABLE IF NOT EXISTS att_guardianships (
               guardian_id UUID NOT NULL, student_id UUID NOT NULL, school_id UUID NOT NULL,
               linked BOOLEAN NOT NULL, restricted BOOLEAN NOT NULL,
               keeps_access BOOLEAN NOT NULL DEFAULT TRUE,
               PRIMARY KEY (guardian_id, student_id))""",
        """CREATE TABLE IF NOT EXISTS att_adult_students (
               student_id UUID PRIMARY KEY, school_id UUID NOT NULL, adult_since DATE NOT NULL)""",
        """CREATE TABLE IF NOT EXISTS att_staff (
               school_id UUID NOT NULL, person_id UUID NOT NULL, roles TEXT[] NOT NULL,
               active BOOLEAN NOT NULL, PRIMARY KEY (school_id, person_id))""",
    )
    event_types: ClassVar[frozenset[str] | None] = frozenset(
        {
            idn.SchoolRegistered.event_type,
            idn.SchoolYearDefined.event_type,
            idn.ClassOpened.event_type,
            idn.StudentEnrolled.event_type,
            idn.StudentMoved.event_type,
            idn.StudentWithdrawn.event_type,
            idn.StudentsPromoted.event_type,
            idn.ClassTeacherAssigned.event_type,
            idn.GuardianLinked.event_type,
            idn.GuardianUnlinked.event_type,
            idn.GuardianshipRestricted.event_type,
            idn.GuardianshipUnrestricted.event_type,
            idn.GuardianAccessDecided.event_type,
            idn.StudentCameOfAge.event_type,
            idn.StaffMemberHired.event_type,
            idn.StaffRolesChanged.event_type,
            idn.EmploymentEnded.event_type,
        }
    )

    async def apply(
        self, conn: asyncpg.Connection, envelope: EventEnvelope, event: IntegrationEvent
    ) -> None:
        handler = getattr(self, f"_{event.event_type}")
        await handler(conn, event)

    async def _SchoolRegistered(self, conn: asyncpg.Connection, e: idn.SchoolRegistered) -> None:
        await conn.execute(
            """INSERT INTO att_schools VALUES ($1, $2)
               ON CONFLICT (school_id) DO UPDATE SET time_zone = excluded.time_zone""",
            e.school_id,
            e.time_zone,
        )

    async def _SchoolYearDefined(self, conn: asyncpg.Connection, e: idn.SchoolYearDefined) -> None:
        """Only the year's first and last school day: an excuse must lie between them."""
        if not e.semesters:
            return
        last_days = [s.last_day for s in e.semesters] + [g.last_day for g in e.grade_end_dates]
        await conn.execute(
            """INSERT INTO att_school_years VALUES ($1, $2, $3, $4)
               ON CONFLICT (school_id, school_year) DO UPDATE
               SET first_day = excluded.first_day, last_day = excluded.last_day""",
            e.school_id,
            e.school_year,
            min(s.first_day for s in e.semesters),
            max(last_days),
        )

    async def _ClassOpened(self, conn: asyncpg.Connection, e: idn.ClassOpened) -> None:
        await conn.execute(
            """INSERT INTO att_classes VALUES ($1, $2, $3, $4, $5) ON CONFLICT (class_id)
               DO UPDATE SET grade_level = excluded.grade_level, label = excluded.label""",
            e.class_id,
            e.school_id,
            e.school_year,
            e.grade_level,
            e.label,
        )

    async def _enrol(self, conn: asyncpg.Connection, school_id: object, *row: object) -> None:
        await conn.execute(
            """INSERT INTO att_enrolments (school_id, student_id, class_id, enrolled_on)
               VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING""",
            school_id,
            *row,
        )

    async def _leave(self, conn: asyncpg.Connection, *row: object) -> None:
        await conn.execute(
            """UPDATE att_enrolments SET left_on = $3
               WHERE student_id = $1 AND class_id = $2 AND left_on IS NULL""",
            *row,
        )

    async def _StudentEnrolled(self, conn: asyncpg.Connection, e: idn.StudentEnrolled) -> None:
        await self._enrol(conn, e.school_id, e.student_id, e.class_id, e.enrolled_on)

    async def _StudentMoved(self, conn: asyncpg.Connection, e: idn.StudentMoved) -> None:
        await self._leave(conn, e.student_id, e.from_class_id, e.moved_on)
        await self._enrol(conn, e.school_id, e.student_id, e.to_class_id, e.moved_on)

    async def _StudentWithdrawn(self, conn: asyncpg.Connection, e: idn.StudentWithdrawn) -> None:
        await self._leave(conn, e.student_id, e.class_id, e.withdrawn_on)

    async def _StudentsPromoted(self, conn: asyncpg.Connection, e: idn.StudentsPromoted) -> None:
        for p in e.promotions:
            await self._leave(conn, p.student_id, p.from_class_id, e.promoted_on)
            if p.to_class_id is not None:
                await self._enrol(conn, e.school_id, p.student_id, p.to_class_id, e.promoted_on)

    async def _ClassTeacherAssigned(
        self, conn: asyncpg.Connection, e: idn.ClassTeacherAssigned
    ) -> None:
        await conn.execute(
            """INSERT INTO att_class_teachers VALUES ($1, $2, $3, $4) ON CONFLICT (class_id,
               valid_from) DO UPDATE SET teacher_id = excluded.teacher_id""",
            e.class_id,
            e.valid_from,
            e.school_id,
            e.teacher_id,
        )

    async def _GuardianLinked(self, conn: asyncpg.Connection, e: idn.GuardianLinked) -> None:
        await conn.execute(
            """INSERT INTO att_guardianships (guardian_id, student_id, school_id, linked,
                                              restricted)
               VALUES ($1, $2, $3, TRUE, $4) ON CONFLICT (guardian_id, student_id)
               DO UPDATE SET linked = TRUE, restricted = excluded.restricted""",
            e.guardian_id,
            e.student_id,
            e.school_id,
            e.restricted,
        )

    async def _set_link(
        self, conn: asyncpg.Connection, column: str, value: bool, e: GuardianshipChange
    ) -> None:
        await conn.execute(
            f"UPDATE att_guardianships SET {column} = $3 "
            "WHERE guardian_id = $1 AND student_id = $2",
            e.guardian_id,
            e.student_id,
            value,
        )

    async def _GuardianUnlinked(self, conn: asyncpg.Connection, e: idn.GuardianUnlinked) -> None:
        await self._set_link(conn, "linked", False, e)

    async def _GuardianshipRestricted(
        self, conn: asyncpg.Connection, e: idn.GuardianshipRestricted
    ) -> None:
        await self._set_link(conn, "restricted", True, e)

    async def _GuardianshipUnrestricted(
        self, conn: asyncpg.Connection, e: idn.GuardianshipUnrestricted
    ) -> None:
        await self._set_link(conn, "restricted", False, e)

    async def _GuardianAccessDecided(
        self, conn: asyncpg.Connection, e: idn.GuardianAccessDecided
    ) -> None:
        """Identity lets only a student of 18 decide, so the decision also proves they are of
        age on that day: kept for students who came of age before identity announced it."""
        await self._set_link(conn, "keeps_access", e.keeps_access, e)
        await self._adult(conn, e.school_id, e.student_id, e.decided_on)

    async def _StudentCameOfAge(self, conn: asyncpg.Connection, e: idn.StudentCameOfAge) -> None:
        await self._adult(conn, e.school_id, e.student_id, e.on)

    async def _adult(
        self, conn: asyncpg.Connection, school_id: object, student_id: object, since: object
    ) -> None:
        """The earliest day any fact shows the student of age wins."""
        await conn.execute(
            """INSERT INTO att_adult_students VALUES ($1, $2, $3) ON CONFLICT (student_id)
               DO UPDATE SET adult_since = least(att_adult_students.adult_since,
                                                 excluded.adult_since)""",
            student_id,
            school_id,
            since,
        )

    async def _staff(
        self, conn: asyncpg.Connection, e: StaffChange, roles: tuple[str, ...] | None
    ) -> None:
        """``roles`` None: the employment ended; the person keeps no staff role here."""
        await conn.execute(
            """INSERT INTO att_staff VALUES ($1, $2, $3, $4) ON CONFLICT (school_id, person_id)
               DO UPDATE SET roles = excluded.roles, active = excluded.active""",
            e.school_id,
            e.person_id,
            list(roles or ()),
            roles is not None,
        )

    async def _StaffMemberHired(self, conn: asyncpg.Connection, e: idn.StaffMemberHired) -> None:
        await self._staff(conn, e, tuple(r.value for r in e.roles))

    async def _StaffRolesChanged(self, conn: asyncpg.Connection, e: idn.StaffRolesChanged) -> None:
        await self._staff(conn, e, tuple(r.value for r in e.roles))

    async def _EmploymentEnded(self, conn: asyncpg.Connection, e: idn.EmploymentEnded) -> None:
        await self._staff(conn, e, None)


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
        # The end bounds a late arrival's minutes; rows from before it was kept have none.
        "ALTER TABLE att_lessons ADD COLUMN IF NOT EXISTS ends_at TIME",
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
                                            lesson_date, starts_at, grade_level, ends_at)
                   VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (lesson_id) DO UPDATE SET
                       class_id = excluded.class_id, teacher_id = excluded.teacher_id,
                       lesson_date = excluded.lesson_date, starts_at = excluded.starts_at,
                       grade_level = excluded.grade_level, ends_at = excluded.ends_at""",
                event.lesson_id,
                event.school_id,
                event.class_id,
                event.teacher_id,
                event.lesson_date,
                event.starts_at,
                event.grade_level,
                event.ends_at,
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
    return [SchoolRelationships(), ScheduledLessons()]
