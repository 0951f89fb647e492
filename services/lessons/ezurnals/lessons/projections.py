"""Read models: identity's facts the lessons service decides with (consumed by the worker into
``rm.*``), and the service's own query tables (kept inline, by the append's own statement).

Identity owns schools, calendars, classes, rosters and staffing; this service keeps only the ids
and dates it needs to authorise and to plan — never names.
"""

from __future__ import annotations

from datetime import date
from typing import ClassVar
from uuid import UUID

import asyncpg

from ezurnals.shared.contracts import identity as idn
from ezurnals.shared.contracts import lessons as ev
from ezurnals.shared.contracts.base import EventEnvelope, IntegrationEvent
from ezurnals.shared.eventstore import SqlProjection, appended, row_of
from ezurnals.shared.messaging.projection import Projection
from ezurnals.shared.settings import Settings


class SchoolFacts(Projection):
    """The school's time zone, calendars, classes, rosters, staff and who teaches what."""

    sources = ("identity",)
    ddl = (
        """CREATE TABLE IF NOT EXISTS school (
               school_id UUID PRIMARY KEY, time_zone TEXT NOT NULL)""",
        """CREATE TABLE IF NOT EXISTS school_year (
               school_id UUID NOT NULL, school_year TEXT NOT NULL, calendar JSONB NOT NULL,
               PRIMARY KEY (school_id, school_year))""",
        """CREATE TABLE IF NOT EXISTS school_class (
               class_id UUID PRIMARY KEY, school_id UUID NOT NULL, school_year TEXT NOT NULL,
               grade_level INTEGER NOT NULL, label TEXT NOT NULL)""",
        """CREATE TABLE IF NOT EXISTS enrolment (
               class_id UUID NOT NULL, student_id UUID NOT NULL, school_id UUID NOT NULL,
               enrolled_on DATE NOT NULL, left_on DATE, PRIMARY KEY (class_id, student_id))""",
        """CREATE TABLE IF NOT EXISTS staff (
               school_id UUID NOT NULL, person_id UUID NOT NULL, roles TEXT[] NOT NULL,
               employed BOOLEAN NOT NULL, PRIMARY KEY (school_id, person_id))""",
        """CREATE TABLE IF NOT EXISTS class_teacher (
               class_id UUID NOT NULL, valid_from DATE NOT NULL, teacher_id UUID NOT NULL,
               school_id UUID NOT NULL, PRIMARY KEY (class_id, valid_from))""",
        """CREATE TABLE IF NOT EXISTS teaching (
               assignment_id UUID PRIMARY KEY, school_id UUID NOT NULL, class_id UUID NOT NULL,
               teacher_id UUID NOT NULL, subject_id UUID NOT NULL, valid_from DATE NOT NULL,
               valid_to DATE, substitute BOOLEAN NOT NULL)""",
    )
    event_types: ClassVar[frozenset[str] | None] = frozenset(
        {
            "SchoolRegistered",
            "SchoolYearDefined",
            "ClassOpened",
            "StudentEnrolled",
            "StudentMoved",
            "StudentWithdrawn",
            "StudentsPromoted",
            "StaffMemberHired",
            "StaffRolesChanged",
            "EmploymentEnded",
            "ClassTeacherAssigned",
            "TeachingAssigned",
            "TeachingUnassigned",
        }
    )

    async def apply(
        self, conn: asyncpg.Connection, envelope: EventEnvelope, event: IntegrationEvent
    ) -> None:
        if isinstance(event, idn.SchoolRegistered):
            await conn.execute(
                """INSERT INTO school VALUES ($1, $2)
                   ON CONFLICT (school_id) DO UPDATE SET time_zone = excluded.time_zone""",
                event.school_id,
                event.time_zone,
            )
        elif isinstance(event, idn.SchoolYearDefined):
            await conn.execute(
                """INSERT INTO school_year VALUES ($1, $2, $3)
                   ON CONFLICT (school_id, school_year) DO UPDATE
                   SET calendar = excluded.calendar""",
                event.school_id,
                event.school_year,
                event.model_dump_json(),
            )
        elif isinstance(event, idn.ClassOpened):
            await conn.execute(
                """INSERT INTO school_class VALUES ($1, $2, $3, $4, $5)
                   ON CONFLICT (class_id) DO UPDATE SET grade_level = excluded.grade_level,
                       label = excluded.label, school_year = excluded.school_year""",
                event.class_id,
                event.school_id,
                event.school_year,
                event.grade_level,
                event.label,
            )
        elif isinstance(event, idn.StudentEnrolled):
            await _enrol(conn, event.school_id, event.class_id, event.student_id, event.enrolled_on)
        elif isinstance(event, idn.StudentMoved):
            await _leave(conn, event.from_class_id, event.student_id, event.moved_on)
            await _enrol(conn, event.school_id, event.to_class_id, event.student_id, event.moved_on)
        elif isinstance(event, idn.StudentWithdrawn):
            await _leave(conn, event.class_id, event.student_id, event.withdrawn_on)
        elif isinstance(event, idn.StudentsPromoted):
            day = event.promoted_on
            for promotion in event.promotions:
                await _leave(conn, promotion.from_class_id, promotion.student_id, day)
                if promotion.to_class_id is not None:
                    await _enrol(
                        conn, event.school_id, promotion.to_class_id, promotion.student_id, day
                    )
        else:
            await self._staffing(conn, event)

    async def _staffing(self, conn: asyncpg.Connection, event: IntegrationEvent) -> None:
        if isinstance(event, idn.StaffMemberHired | idn.StaffRolesChanged):
            await conn.execute(
                """INSERT INTO staff VALUES ($1, $2, $3, true)
                   ON CONFLICT (school_id, person_id) DO UPDATE
                   SET roles = excluded.roles, employed = true""",
                event.school_id,
                event.person_id,
                [str(role) for role in event.roles],
            )
        elif isinstance(event, idn.EmploymentEnded):
            await conn.execute(
                "UPDATE staff SET employed = false WHERE school_id = $1 AND person_id = $2",
                event.school_id,
                event.person_id,
            )
        elif isinstance(event, idn.ClassTeacherAssigned):
            await conn.execute(
                """INSERT INTO class_teacher VALUES ($1, $2, $3, $4)
                   ON CONFLICT (class_id, valid_from) DO UPDATE
                   SET teacher_id = excluded.teacher_id""",
                event.class_id,
                event.valid_from,
                event.teacher_id,
                event.school_id,
            )
        elif isinstance(event, idn.TeachingAssigned):
            await conn.execute(
                """INSERT INTO teaching VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
                   ON CONFLICT (assignment_id) DO UPDATE SET valid_from = excluded.valid_from,
                       valid_to = excluded.valid_to, substitute = excluded.substitute""",
                event.assignment_id,
                event.school_id,
                event.class_id,
                event.teacher_id,
                event.subject_id,
                event.valid_from,
                event.valid_to,
                event.substitute,
            )
        elif isinstance(event, idn.TeachingUnassigned):
            await conn.execute(
                "UPDATE teaching SET valid_to = $2 WHERE assignment_id = $1",
                event.assignment_id,
                event.last_day,
            )


async def _enrol(
    conn: asyncpg.Connection, school_id: UUID, class_id: UUID, student_id: UUID, day: date
) -> None:
    await conn.execute(
        """INSERT INTO enrolment VALUES ($1, $2, $3, $4, NULL)
           ON CONFLICT (class_id, student_id) DO UPDATE
           SET enrolled_on = excluded.enrolled_on, left_on = NULL""",
        class_id,
        student_id,
        school_id,
        day,
    )


async def _leave(conn: asyncpg.Connection, class_id: UUID, student_id: UUID, day: date) -> None:
    await conn.execute(
        "UPDATE enrolment SET left_on = $3 WHERE class_id = $1 AND student_id = $2",
        class_id,
        student_id,
        day,
    )


def projections(_: Settings) -> list[Projection]:
    return [SchoolFacts()]


# --- the service's own query tables, updated inline ---------------------------------------------

_SUBJECT = """ON CONFLICT (subject_id) DO UPDATE SET name_key = excluded.name_key,
    name = excluded.name, curriculum_hours = excluded.curriculum_hours"""
_LESSON_COLUMNS = """lesson_id, school_id, timetable_id, slot_id, class_id, subject_id, teacher_id,
    lesson_date, starts_at, ends_at, period, room, grade_level"""
_SCHEDULE = f"""INSERT INTO lessons ({_LESSON_COLUMNS}) {{rows}}
    ON CONFLICT (lesson_id) DO UPDATE SET subject_id = excluded.subject_id,
        teacher_id = excluded.teacher_id, starts_at = excluded.starts_at,
        ends_at = excluded.ends_at, period = excluded.period, room = excluded.room,
        grade_level = excluded.grade_level"""
_RECORD = "recorded = true, topic = {}, homework = {}, no_homework = {}"
_BRIEFING_TYPE = """ON CONFLICT (briefing_type_id) DO UPDATE
    SET name_key = excluded.name_key, name = excluded.name"""


def _insert(
    contract: type[IntegrationEvent], table: str, then: str = "ON CONFLICT DO NOTHING"
) -> str:
    """Each appended ``contract`` event as a new row of ``table``: for tables whose every column
    is a field of the event (a column with a default of its own would get null here)."""
    return f"INSERT INTO {table} SELECT r.* {appended(contract, table)} {then}"


def _update(contract: type[IntegrationEvent], changes: str) -> str:
    """The lesson each appended ``contract`` event names, changed by ``changes``."""
    return (
        f"UPDATE lessons l SET {changes} {appended(contract, 'lessons')} "
        "AND l.lesson_id = r.lesson_id"
    )


_RECORDED = _RECORD.format(
    "r.topic", "NULLIF(e.payload->'homework', 'null'::jsonb)", "r.no_homework"
)
_LESSON = row_of("lessons", "lesson_id")

#: The query tables, as the handlers register them: done by the append's own statement for every
#: batch where no two events write one row (a lesson substituted and recorded in one command, say,
#: is applied after the append, in order, in its transaction).
VIEWS = SqlProjection(
    ctes={
        "subjects_defined": _insert(ev.SubjectDefined, "subjects", _SUBJECT),
        "timetables_opened": _insert(ev.TimetableOpened, "timetables"),
        "lessons_scheduled": _SCHEDULE.format(
            rows=f"SELECT {_LESSON_COLUMNS} {appended(ev.LessonScheduled, 'lessons')}"
        ),
        "lessons_recorded": _update(
            ev.LessonRecorded, f"{_RECORDED}, late = r.late, minutes_late = r.minutes_late"
        ),
        "records_corrected": _update(ev.LessonRecordCorrected, _RECORDED),
        "lessons_substituted": _update(
            ev.LessonSubstituted, "substitute_teacher_id = r.substitute_teacher_id"
        ),
        "lessons_cancelled": _update(
            ev.LessonCancelled, "cancelled = true, cancel_reason = e.payload->>'reason'"
        ),
        "lessons_overdue": _update(ev.LessonEntryOverdue, "overdue = true"),
        "briefing_types_defined": _insert(ev.BriefingTypeDefined, "briefing_types", _BRIEFING_TYPE),
        "briefings_conducted": _insert(ev.BriefingConducted, "briefings"),
        "briefings_acknowledged": _insert(ev.BriefingAcknowledged, "briefing_acknowledgements"),
        "consultations_recorded": _insert(ev.ConsultationRecorded, "consultations"),
    },
    writes={
        ev.SubjectDefined: row_of("subjects", "subject_id"),
        ev.TimetableOpened: row_of("timetables", "timetable_id"),
        ev.LessonScheduled: _LESSON,
        ev.LessonRecorded: _LESSON,
        ev.LessonRecordCorrected: _LESSON,
        ev.LessonSubstituted: _LESSON,
        ev.LessonCancelled: _LESSON,
        ev.LessonEntryOverdue: _LESSON,
        ev.BriefingTypeDefined: row_of("briefing_types", "briefing_type_id"),
        ev.BriefingConducted: row_of("briefings", "briefing_id"),
        ev.BriefingAcknowledged: row_of("briefing_acknowledgements", "briefing_id", "student_id"),
        ev.ConsultationRecorded: row_of("consultations", "consultation_id"),
    },
)
