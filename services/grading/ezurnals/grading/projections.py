"""Read models: what grading must know of identity and lessons, and its own grade views.

Identity's and lessons' facts are projected by the worker into the read-model schema (``rm``);
the grading service's own events are applied inline to the tables of ``migrations/``, by the
append's own statement (``OWN_VIEWS``), so a teacher sees a grade the moment it is recorded.
"""

from __future__ import annotations

import json
from typing import ClassVar

import asyncpg

from ezurnals.grading.domain.semester_grades import SemesterGradesUsageSet
from ezurnals.shared.contracts import identity as idn
from ezurnals.shared.contracts import lessons as les
from ezurnals.shared.contracts.base import EventEnvelope, IntegrationEvent, JsonDict
from ezurnals.shared.contracts.grading import (
    GradeCorrected,
    GradeFinalized,
    GradeRecorded,
    GradeScaleDefined,
    PeriodFinalized,
    PeriodGradeDeadlineSet,
    PeriodGradeSet,
    PeriodUnlocked,
)
from ezurnals.shared.contracts.school_year import spelled
from ezurnals.shared.eventstore import SqlProjection, appended, row_of
from ezurnals.shared.messaging.projection import Projection
from ezurnals.shared.settings import Settings


class SchoolDirectory(Projection):
    """Schools, calendars, classes, rolls, staffing and families: who may see and grade whom."""

    sources = ("identity",)
    ddl = (
        """CREATE TABLE IF NOT EXISTS schools (
               school_id UUID PRIMARY KEY, time_zone TEXT NOT NULL)""",
        """CREATE TABLE IF NOT EXISTS school_years (
               school_id UUID NOT NULL, school_year TEXT NOT NULL, semesters JSONB NOT NULL,
               PRIMARY KEY (school_id, school_year))""",
        """CREATE TABLE IF NOT EXISTS classes (
               class_id UUID PRIMARY KEY, school_id UUID NOT NULL, school_year TEXT NOT NULL,
               grade_level INTEGER NOT NULL, label TEXT NOT NULL)""",
        """CREATE TABLE IF NOT EXISTS enrolments (
               class_id UUID NOT NULL, student_id UUID NOT NULL, school_id UUID NOT NULL,
               school_year TEXT NOT NULL, active BOOLEAN NOT NULL,
               PRIMARY KEY (class_id, student_id))""",
        "CREATE INDEX IF NOT EXISTS enrolments_student ON enrolments (school_id, student_id)",
        """CREATE TABLE IF NOT EXISTS teaching_assignments (
               assignment_id UUID PRIMARY KEY, school_id UUID NOT NULL, class_id UUID NOT NULL,
               teacher_id UUID NOT NULL, subject_id UUID NOT NULL, valid_from DATE NOT NULL,
               valid_to DATE, substitute BOOLEAN NOT NULL)""",
        """CREATE INDEX IF NOT EXISTS teaching_assignments_teacher
               ON teaching_assignments (school_id, teacher_id)""",
        """CREATE TABLE IF NOT EXISTS class_teachers (
               class_id UUID PRIMARY KEY, school_id UUID NOT NULL, teacher_id UUID NOT NULL,
               valid_from DATE NOT NULL)""",
        """CREATE TABLE IF NOT EXISTS guardianships (
               guardian_id UUID NOT NULL, student_id UUID NOT NULL, school_id UUID NOT NULL,
               restricted BOOLEAN NOT NULL, access_withdrawn BOOLEAN NOT NULL DEFAULT false,
               PRIMARY KEY (guardian_id, student_id))""",
        """CREATE TABLE IF NOT EXISTS staff (
               school_id UUID NOT NULL, person_id UUID NOT NULL, roles TEXT[] NOT NULL,
               employed BOOLEAN NOT NULL, PRIMARY KEY (school_id, person_id))""",
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
            "GuardianLinked",
            "GuardianUnlinked",
            "GuardianshipRestricted",
            "GuardianshipUnrestricted",
            "GuardianAccessDecided",
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
        match event:
            case idn.SchoolRegistered():
                await conn.execute(
                    """INSERT INTO schools VALUES ($1, $2)
                       ON CONFLICT (school_id) DO UPDATE SET time_zone = excluded.time_zone""",
                    event.school_id,
                    event.time_zone,
                )
            case idn.SchoolYearDefined():
                semesters = [s.model_dump(mode="json") for s in event.semesters]
                await conn.execute(
                    """INSERT INTO school_years VALUES ($1, $2, $3)
                       ON CONFLICT (school_id, school_year)
                       DO UPDATE SET semesters = excluded.semesters""",
                    event.school_id,
                    spelled(event.school_year),
                    json.dumps(semesters),
                )
            case idn.ClassOpened():
                await conn.execute(
                    """INSERT INTO classes VALUES ($1, $2, $3, $4, $5)
                       ON CONFLICT (class_id) DO UPDATE SET grade_level = excluded.grade_level,
                           label = excluded.label, school_year = excluded.school_year""",
                    event.class_id,
                    event.school_id,
                    spelled(event.school_year),
                    event.grade_level,
                    event.label,
                )
            case idn.StudentEnrolled():
                await self._enrol(
                    conn,
                    event.school_id,
                    event.class_id,
                    event.student_id,
                    event.school_year,
                    active=True,
                )
            case idn.StudentMoved():
                await self._enrol(
                    conn,
                    event.school_id,
                    event.from_class_id,
                    event.student_id,
                    event.school_year,
                    active=False,
                )
                await self._enrol(
                    conn,
                    event.school_id,
                    event.to_class_id,
                    event.student_id,
                    event.school_year,
                    active=True,
                )
            case idn.StudentWithdrawn():
                await self._enrol(
                    conn,
                    event.school_id,
                    event.class_id,
                    event.student_id,
                    event.school_year,
                    active=False,
                )
            case idn.StudentsPromoted():
                for promotion in event.promotions:
                    if promotion.to_class_id is not None:
                        await self._enrol(
                            conn,
                            event.school_id,
                            promotion.to_class_id,
                            promotion.student_id,
                            event.to_year,
                            active=True,
                        )
            case _:
                await self._apply_people(conn, event)

    async def _apply_people(self, conn: asyncpg.Connection, event: IntegrationEvent) -> None:
        match event:
            case idn.GuardianLinked():
                await conn.execute(
                    """INSERT INTO guardianships (guardian_id, student_id, school_id, restricted)
                       VALUES ($1, $2, $3, $4) ON CONFLICT (guardian_id, student_id)
                       DO UPDATE SET restricted = excluded.restricted""",
                    event.guardian_id,
                    event.student_id,
                    event.school_id,
                    event.restricted,
                )
            case idn.GuardianUnlinked():
                await conn.execute(
                    "DELETE FROM guardianships WHERE guardian_id = $1 AND student_id = $2",
                    event.guardian_id,
                    event.student_id,
                )
            case idn.GuardianshipRestricted() | idn.GuardianshipUnrestricted():
                await conn.execute(
                    """UPDATE guardianships SET restricted = $3
                       WHERE guardian_id = $1 AND student_id = $2""",
                    event.guardian_id,
                    event.student_id,
                    isinstance(event, idn.GuardianshipRestricted),
                )
            case idn.GuardianAccessDecided():
                await conn.execute(
                    """UPDATE guardianships SET access_withdrawn = $3
                       WHERE guardian_id = $1 AND student_id = $2""",
                    event.guardian_id,
                    event.student_id,
                    not event.keeps_access,
                )
            case idn.StaffMemberHired() | idn.StaffRolesChanged():
                await conn.execute(
                    """INSERT INTO staff VALUES ($1, $2, $3, true)
                       ON CONFLICT (school_id, person_id)
                       DO UPDATE SET roles = excluded.roles, employed = true""",
                    event.school_id,
                    event.person_id,
                    [str(r) for r in event.roles],
                )
            case idn.EmploymentEnded():
                await conn.execute(
                    "UPDATE staff SET employed = false WHERE school_id = $1 AND person_id = $2",
                    event.school_id,
                    event.person_id,
                )
            case idn.ClassTeacherAssigned():
                await conn.execute(
                    """INSERT INTO class_teachers VALUES ($1, $2, $3, $4)
                       ON CONFLICT (class_id) DO UPDATE SET teacher_id = excluded.teacher_id,
                           valid_from = excluded.valid_from""",
                    event.class_id,
                    event.school_id,
                    event.teacher_id,
                    event.valid_from,
                )
            case idn.TeachingAssigned():
                await conn.execute(
                    """INSERT INTO teaching_assignments VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
                       ON CONFLICT (assignment_id) DO UPDATE SET valid_from = excluded.valid_from,
                           valid_to = excluded.valid_to""",
                    event.assignment_id,
                    event.school_id,
                    event.class_id,
                    event.teacher_id,
                    event.subject_id,
                    event.valid_from,
                    event.valid_to,
                    event.substitute,
                )
            case idn.TeachingUnassigned():
                await conn.execute(
                    """UPDATE teaching_assignments
                       SET valid_to = least(coalesce(valid_to, $2), $2)
                       WHERE assignment_id = $1""",
                    event.assignment_id,
                    event.last_day,
                )

    @staticmethod
    async def _enrol(
        conn: asyncpg.Connection,
        school_id: object,
        class_id: object,
        student_id: object,
        school_year: str,
        *,
        active: bool,
    ) -> None:
        await conn.execute(
            """INSERT INTO enrolments VALUES ($1, $2, $3, $4, $5)
               ON CONFLICT (class_id, student_id) DO UPDATE SET active = excluded.active""",
            class_id,
            student_id,
            school_id,
            spelled(school_year),
            active,
        )


class LessonsCatalog(Projection):
    """Subjects (for names on the views) and lessons (a grade may be given for a lesson)."""

    sources = ("lessons",)
    ddl = (
        """CREATE TABLE IF NOT EXISTS subjects (
               subject_id UUID PRIMARY KEY, school_id UUID NOT NULL, name_key TEXT NOT NULL,
               name TEXT NOT NULL)""",
        """CREATE TABLE IF NOT EXISTS lessons (
               lesson_id UUID PRIMARY KEY, school_id UUID NOT NULL, class_id UUID NOT NULL,
               subject_id UUID NOT NULL, teacher_id UUID NOT NULL, lesson_date DATE NOT NULL)""",
    )
    event_types: ClassVar[frozenset[str] | None] = frozenset({"SubjectDefined", "LessonScheduled"})

    async def apply(
        self, conn: asyncpg.Connection, envelope: EventEnvelope, event: IntegrationEvent
    ) -> None:
        if isinstance(event, les.SubjectDefined):
            await conn.execute(
                """INSERT INTO subjects VALUES ($1, $2, $3, $4) ON CONFLICT (subject_id)
                   DO UPDATE SET name_key = excluded.name_key, name = excluded.name""",
                event.subject_id,
                event.school_id,
                event.name_key,
                event.name,
            )
        elif isinstance(event, les.LessonScheduled):
            await conn.execute(
                """INSERT INTO lessons VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (lesson_id)
                   DO UPDATE SET class_id = excluded.class_id, subject_id = excluded.subject_id,
                       teacher_id = excluded.teacher_id, lesson_date = excluded.lesson_date""",
                event.lesson_id,
                event.school_id,
                event.class_id,
                event.subject_id,
                event.teacher_id,
                event.lesson_date,
            )


def all(_: Settings) -> list[Projection]:
    return [SchoolDirectory(), LessonsCatalog()]


# --- the service's own views, applied inline --------------------------------------------------


_GRADE_COLUMNS = """grade_id, school_id, class_id, subject_id, school_year, student_id, lesson_id,
        term, given_on, work_title, work_kind, summative, weight, scale, value, points,
        recorded_by, recorded_at"""
_CORRECT_GRADE = """UPDATE grade_entries g SET value = {value}, points = {points}, scale = {scale},
        history = g.history || jsonb_build_array({entry})"""
_SET_PERIOD_GRADE = """ON CONFLICT (class_id, subject_id, school_year, period, student_id)
    DO UPDATE SET scale = excluded.scale, value = excluded.value, points = excluded.points,
        suggested_value = excluded.suggested_value, overridden = excluded.overridden,
        set_by = excluded.set_by, set_at = excluded.set_at, final = false"""
_FINALIZE_PERIOD = """INSERT INTO class_subject_periods (school_id, class_id, subject_id,
        school_year, period, locked, finalized_by, finalized_at)
    {rows}
    ON CONFLICT (class_id, subject_id, school_year, period)
    DO UPDATE SET locked = true, finalized_by = excluded.finalized_by,
        finalized_at = excluded.finalized_at"""
_UNLOCK_PERIOD = """UPDATE class_subject_periods c
    SET locked = false, unlocks = c.unlocks || jsonb_build_array({entry})"""


def _isoformat(field: str) -> str:
    """The payload's instant as ``datetime.isoformat()`` writes it, as the views have always
    kept it (pydantic writes UTC as ``Z``, isoformat as ``+00:00``; the rest is alike)."""
    return f"regexp_replace(e.payload->>'{field}', 'Z$', '+00:00')"


def _jsonb_object(*fields: str, instant: str) -> str:
    """A jsonb object of the payload's ``fields`` as they are and ``instant`` isoformatted."""
    pairs = [f"'{f}', e.payload->'{f}'" for f in fields]
    return f"jsonb_build_object({', '.join(pairs)}, '{instant}', {_isoformat(instant)})"


_PERIOD = ("class_id", "subject_id", "school_year", "period")
_SAME_PERIOD = "({0}.class_id, {0}.subject_id, {0}.school_year, {0}.period) = " + (
    "(r.class_id, r.subject_id, r.school_year, r.period)"
)
_UNLOCKED = (row_of("class_subject_periods", *_PERIOD), row_of("period_grade_entries", *_PERIOD))


def _unlocked(payload: JsonDict) -> list[tuple[str, ...]]:
    """A period unlocked writes its lock and every period grade of it."""
    return [row for rows in _UNLOCKED for row in rows(payload)]


#: The grade views, as the handlers register them: done by the append's own statement for every
#: batch where no two events write one row (a correction of a grade recorded in the same batch,
#: say, is applied after the append, in order, in its transaction).
OWN_VIEWS = SqlProjection(
    ctes={
        "grades_recorded": f"""INSERT INTO grade_entries ({_GRADE_COLUMNS})
            SELECT {_GRADE_COLUMNS} {appended(GradeRecorded, "grade_entries")}""",
        "grades_corrected": _CORRECT_GRADE.format(
            value="e.payload->>'new_value'",
            points="(e.payload->>'new_points')::int",
            scale="r.scale",
            entry=_jsonb_object(
                "old_value", "new_value", "reason", "corrected_by", instant="corrected_at"
            ),
        )
        + f" {appended(GradeCorrected, 'grade_entries')} AND g.grade_id = r.grade_id",
        "period_grades_set": f"""INSERT INTO period_grade_entries
            SELECT school_id, class_id, subject_id, school_year, period, student_id, scale, value,
                   points, suggested_value, overridden, set_by, set_at, false
            {appended(PeriodGradeSet, "period_grade_entries")}
            {_SET_PERIOD_GRADE}""",
        "grades_finalized": f"""UPDATE period_grade_entries p SET final = true
            {appended(GradeFinalized, "period_grade_entries")}
            AND {_SAME_PERIOD.format("p")} AND p.student_id = r.student_id""",
        "periods_finalized": _FINALIZE_PERIOD.format(
            rows="SELECT school_id, class_id, subject_id, school_year, period, true, "
            f"finalized_by, finalized_at {appended(PeriodFinalized, 'class_subject_periods')}"
        ),
        "periods_unlocked": _UNLOCK_PERIOD.format(
            entry=_jsonb_object("reason", "unlocked_by", instant="unlocked_at")
        )
        + f" {appended(PeriodUnlocked, 'class_subject_periods')} AND {_SAME_PERIOD.format('c')}",
        "period_grades_reopened": f"""UPDATE period_grade_entries p SET final = false
            {appended(PeriodUnlocked, "period_grade_entries")} AND {_SAME_PERIOD.format("p")}""",
    },
    writes={
        GradeRecorded: row_of("grade_entries", "grade_id"),
        GradeCorrected: row_of("grade_entries", "grade_id"),
        PeriodGradeSet: row_of("period_grade_entries", *_PERIOD, "student_id"),
        GradeFinalized: row_of("period_grade_entries", *_PERIOD, "student_id"),
        PeriodFinalized: row_of("class_subject_periods", *_PERIOD),
        PeriodUnlocked: _unlocked,
    },
)


def _deadline_row(payload: JsonDict) -> list[tuple[str, ...]]:
    band = payload.get("band")
    key = "" if band is None else f"{band['first']}-{band['last']}"
    school_year = str(payload["school_year"])
    return [
        ("period_grade_deadlines", str(payload["school_id"]), school_year, payload["period"], key)
    ]


#: The policy's views (``migrations/0003_policy_views.sql``), kept by the policy commands' append.
POLICY_VIEWS = SqlProjection(
    ctes={
        "scales_defined": f"""INSERT INTO grade_scales (scale_id, school_id, definition)
            SELECT r.scale_id, r.school_id, e.payload {appended(GradeScaleDefined, "grade_scales")}
            ON CONFLICT (scale_id) DO UPDATE SET definition = excluded.definition""",
        "deadlines_set": f"""INSERT INTO period_grade_deadlines
            SELECT r.school_id, r.school_year, r.period,
                   coalesce((e.payload->'band'->>'first') || '-' || (e.payload->'band'->>'last'),
                            ''),
                   e.payload
            {appended(PeriodGradeDeadlineSet, "period_grade_deadlines")}
            ON CONFLICT (school_id, school_year, period, band_key)
            DO UPDATE SET deadline = excluded.deadline""",
        "semester_grades_usage_set": f"""INSERT INTO semester_grades_usage
            SELECT r.school_id, r.used {appended(SemesterGradesUsageSet, "semester_grades_usage")}
            ON CONFLICT (school_id) DO UPDATE SET used = excluded.used""",
    },
    writes={
        GradeScaleDefined: row_of("grade_scales", "scale_id"),
        PeriodGradeDeadlineSet: _deadline_row,
        SemesterGradesUsageSet: row_of("semester_grades_usage", "school_id"),
    },
)
