"""Read-model queries: the facts other services told us (rm.*) and the service's own grade views.

Every query is scoped by school: a class, student or lesson of another school is simply not found.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import asyncpg

from ezurnals.grading.domain import ClassSubjectProgress, Guardianship, Relationships
from ezurnals.grading.domain.authorization import TeachingAssignment
from ezurnals.shared.contracts.grading import PeriodKind, Term
from ezurnals.shared.contracts.identity import DEFAULT_TIME_ZONE
from ezurnals.shared.domain import Invalid

Row = dict[str, Any]


@dataclass(frozen=True)
class ClassInfo:
    class_id: UUID
    school_year: str
    grade_level: int
    label: str


async def school_today(conn: asyncpg.Connection, school_id: UUID, now: datetime) -> date:
    """Today in the school's time zone: assignments and deadlines are school days."""
    zone = await conn.fetchval("SELECT time_zone FROM rm.schools WHERE school_id = $1", school_id)
    return now.astimezone(ZoneInfo(zone or DEFAULT_TIME_ZONE)).date()


async def staff_roles(conn: asyncpg.Connection, school_id: UUID, person_id: UUID) -> frozenset[str]:
    """The roles identity says the person holds on the staff; none once the employment ended."""
    roles = await conn.fetchval(
        "SELECT roles FROM rm.staff WHERE school_id = $1 AND person_id = $2 AND employed",
        school_id,
        person_id,
    )
    return frozenset(roles or ())


async def class_info(conn: asyncpg.Connection, school_id: UUID, class_id: UUID) -> ClassInfo | None:
    row = await conn.fetchrow(
        """SELECT class_id, school_year, grade_level, label FROM rm.classes
           WHERE school_id = $1 AND class_id = $2""",
        school_id,
        class_id,
    )
    return None if row is None else ClassInfo(**dict(row))


async def subject_known(conn: asyncpg.Connection, school_id: UUID, subject_id: UUID) -> bool:
    return bool(
        await conn.fetchval(
            "SELECT 1 FROM rm.subjects WHERE school_id = $1 AND subject_id = $2",
            school_id,
            subject_id,
        )
    )


async def roster(conn: asyncpg.Connection, class_id: UUID) -> frozenset[UUID]:
    """The students enrolled in the class now."""
    rows = await conn.fetch(
        "SELECT student_id FROM rm.enrolments WHERE class_id = $1 AND active", class_id
    )
    return frozenset(r["student_id"] for r in rows)


async def term_of(conn: asyncpg.Connection, school_id: UUID, school_year: str, day: date) -> Term:
    """The semester a day falls in, per the school calendar; 422 if it falls in none."""
    semesters = await conn.fetchval(
        "SELECT semesters FROM rm.school_years WHERE school_id = $1 AND school_year = $2",
        school_id,
        school_year,
    )
    if semesters is None:
        raise Invalid(f"the school calendar of {school_year} is not known yet", field="given_on")
    count = len(semesters)
    for semester in semesters:
        if (
            date.fromisoformat(semester["first_day"])
            <= day
            <= date.fromisoformat(semester["last_day"])
        ):
            # Schools with more than two study periods fold them into the two semesters.
            first_half = semester["number"] <= max(1, count // 2)
            return Term.SEMESTER1 if first_half else Term.SEMESTER2
    raise Invalid(
        f"{day.isoformat()} is in no semester of {school_year}",
        field="given_on",
        details={"semesters": semesters},
    )


async def lesson_date(
    conn: asyncpg.Connection, school_id: UUID, lesson_id: UUID, class_id: UUID, subject_id: UUID
) -> date:
    """The date of a lesson of this class and subject; 422 naming the field otherwise."""
    day = await conn.fetchval(
        """SELECT lesson_date FROM rm.lessons WHERE school_id = $1 AND lesson_id = $2
           AND class_id = $3 AND subject_id = $4""",
        school_id,
        lesson_id,
        class_id,
        subject_id,
    )
    if day is None:
        raise Invalid("no such lesson of this class and subject", field="work.lesson_id")
    assert isinstance(day, date)
    return day


_VALID_ON = "valid_from <= $2 AND (valid_to IS NULL OR $2 <= valid_to)"


async def relationships_of(
    conn: asyncpg.Connection, school_id: UUID, person_id: UUID, today: date
) -> Relationships:
    """The caller's own relationships: all the domain's rules need to decide for them."""
    teaching = await conn.fetch(
        f"""SELECT teacher_id, class_id, subject_id FROM rm.teaching_assignments
            WHERE school_id = $1 AND {_VALID_ON} AND teacher_id = $3""",
        school_id,
        today,
        person_id,
    )
    class_teachers = await conn.fetch(
        "SELECT teacher_id, class_id FROM rm.class_teachers WHERE school_id = $1 "
        "AND teacher_id = $2",
        school_id,
        person_id,
    )
    guardianships = await conn.fetch(
        """SELECT guardian_id, student_id, restricted OR access_withdrawn AS restricted
           FROM rm.guardianships WHERE school_id = $1 AND guardian_id = $2""",
        school_id,
        person_id,
    )
    return Relationships(
        school_id=school_id,
        teaching=frozenset(TeachingAssignment(**dict(r)) for r in teaching),
        class_teachers=frozenset((r["teacher_id"], r["class_id"]) for r in class_teachers),
        guardianships=frozenset(Guardianship(**dict(r)) for r in guardianships),
    )


async def school_teaching(conn: asyncpg.Connection, school_id: UUID, today: date) -> Relationships:
    """Every current teaching assignment of the school: whose each class-subject is."""
    teaching = await conn.fetch(
        f"""SELECT teacher_id, class_id, subject_id FROM rm.teaching_assignments
            WHERE school_id = $1 AND {_VALID_ON}""",
        school_id,
        today,
    )
    return Relationships(
        school_id=school_id,
        teaching=frozenset(TeachingAssignment(**dict(r)) for r in teaching),
    )


async def progress(
    conn: asyncpg.Connection,
    school_id: UUID,
    school_year: str,
    period: PeriodKind,
    class_subjects: set[tuple[UUID, UUID]],
) -> list[ClassSubjectProgress]:
    """How far each class-subject is with the period's grades."""
    rows = await conn.fetch(
        """SELECT c.class_id, cs.subject_id, c.grade_level,
                  coalesce((SELECT array_agg(e.student_id) FROM rm.enrolments e
                            WHERE e.class_id = c.class_id AND e.active), '{}') AS roster,
                  coalesce((SELECT array_agg(p.student_id) FROM period_grade_entries p
                            WHERE p.class_id = c.class_id AND p.subject_id = cs.subject_id
                              AND p.school_year = $2 AND p.period = $3), '{}') AS graded,
                  coalesce((SELECT l.locked FROM class_subject_periods l
                            WHERE l.class_id = c.class_id AND l.subject_id = cs.subject_id
                              AND l.school_year = $2 AND l.period = $3), false) AS finalized
           FROM unnest($4::uuid[], $5::uuid[]) AS cs(class_id, subject_id)
           JOIN rm.classes c ON c.class_id = cs.class_id
           WHERE c.school_id = $1 AND c.school_year = $2""",
        school_id,
        school_year,
        period.value,
        [c for c, _ in class_subjects],
        [s for _, s in class_subjects],
    )
    return [
        ClassSubjectProgress(
            class_id=r["class_id"],
            subject_id=r["subject_id"],
            grade_level=r["grade_level"],
            roster=frozenset(r["roster"]),
            graded=frozenset(r["graded"]),
            finalized=r["finalized"],
        )
        for r in rows
    ]


async def student_enrolments(
    conn: asyncpg.Connection, school_id: UUID, student_id: UUID
) -> list[UUID]:
    """The classes (any year, present or past) the student was enrolled in at this school."""
    rows = await conn.fetch(
        "SELECT class_id FROM rm.enrolments WHERE school_id = $1 AND student_id = $2",
        school_id,
        student_id,
    )
    return [r["class_id"] for r in rows]


async def student_grades(
    conn: asyncpg.Connection, school_id: UUID, student_id: UUID, school_year: str | None
) -> tuple[list[Row], list[Row]]:
    """The student's grades and period grades, newest first."""
    grades = await conn.fetch(
        """SELECT g.*, s.name AS subject_name FROM grade_entries g
           LEFT JOIN rm.subjects s ON s.subject_id = g.subject_id
           WHERE g.school_id = $1 AND g.student_id = $2
             AND ($3::text IS NULL OR g.school_year = $3)
           ORDER BY g.given_on DESC, g.recorded_at DESC""",
        school_id,
        student_id,
        school_year,
    )
    periods = await conn.fetch(
        """SELECT p.*, s.name AS subject_name FROM period_grade_entries p
           LEFT JOIN rm.subjects s ON s.subject_id = p.subject_id
           WHERE p.school_id = $1 AND p.student_id = $2
             AND ($3::text IS NULL OR p.school_year = $3)
           ORDER BY p.school_year DESC, p.subject_id, p.period""",
        school_id,
        student_id,
        school_year,
    )
    return [dict(r) for r in grades], [dict(r) for r in periods]
