"""Read-model queries: the facts other services told us (rm.*) and the service's own grade views.

Every query is scoped by school: a class, student or lesson of another school is simply not found.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import asyncpg

from ezurnals.grading.domain import (
    ClassSubjectProgress,
    GradingPolicy,
    Guardianship,
    Relationships,
    SchoolGradingPolicy,
)
from ezurnals.grading.domain.authorization import TeachingAssignment
from ezurnals.grading.domain.scales import GradeValue
from ezurnals.grading.domain.semester_grades import DEFAULT_SEMESTER_GRADES_USED
from ezurnals.shared.contracts.grading import (
    GradeScaleDefined,
    PeriodGradeDeadlineSet,
    PeriodKind,
    Term,
)
from ezurnals.shared.contracts.identity import DEFAULT_TIME_ZONE
from ezurnals.shared.domain import Invalid, missing
from ezurnals.shared.eventstore import parse_column, stream_column

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


def term_of(semesters: list[dict[str, Any]] | None, school_year: str, day: date) -> Term:
    """The semester of ``day`` in the calendar of ``school_year`` (None: not known yet)."""
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


_VALID_ON = "valid_from <= $2 AND (valid_to IS NULL OR $2 <= valid_to)"


#: The caller's own rows behind ``Relationships`` ($1 school, $2 person), as columns of one
#: SELECT: teaching assignments with their dates (today is the school's, decided in Python).
_CALLER_ROWS = """
       ARRAY(SELECT ROW(class_id, subject_id, valid_from, valid_to)
             FROM rm.teaching WHERE school_id = $1 AND teacher_id = $2) AS teaching,
       ARRAY(SELECT class_id FROM (SELECT DISTINCT ON (class_id) class_id, teacher_id
                                   FROM rm.class_teachers WHERE school_id = $1
                                   ORDER BY class_id, valid_from DESC) latest
             WHERE teacher_id = $2) AS class_teacher_of,
       ARRAY(SELECT ROW(student_id, restricted OR keeps_access IS FALSE)
             FROM rm.guardianships WHERE school_id = $1 AND guardian_id = $2 AND linked)
           AS guardianships"""

Teaching = tuple[tuple[UUID, UUID, date, date | None], ...]
Guardianships = tuple[tuple[UUID, bool], ...]


def _relationships(
    school_id: UUID,
    person_id: UUID,
    today: date,
    teaching: Teaching,
    class_teacher_of: frozenset[UUID],
    guardianships: Guardianships,
) -> Relationships:
    return Relationships(
        school_id=school_id,
        teaching=frozenset(
            TeachingAssignment(person_id, class_id, subject_id)
            for class_id, subject_id, valid_from, valid_to in teaching
            if valid_from <= today and (valid_to is None or today <= valid_to)
        ),
        class_teachers=frozenset((person_id, c) for c in class_teacher_of),
        guardianships=frozenset(
            Guardianship(person_id, student_id, restricted)
            for student_id, restricted in guardianships
        ),
    )


async def relationships_of(
    conn: asyncpg.Connection, school_id: UUID, person_id: UUID, today: date
) -> Relationships:
    """The caller's own relationships: all the domain's rules need to decide for them."""
    row = await conn.fetchrow(f"SELECT {_CALLER_ROWS}", school_id, person_id)
    assert row is not None
    return _relationships(
        school_id,
        person_id,
        today,
        tuple(row["teaching"]),
        frozenset(row["class_teacher_of"]),
        tuple(row["guardianships"]),
    )


@dataclass(frozen=True)
class BookRead:
    """A grade book's events after the version this process keeps, read with its facts."""

    stream_id: str
    after_version: int
    #: A ``stream_column``: ``[[event_type, schema_version, payload], …]``.
    events: list[list[Any]]


@dataclass(frozen=True)
class BookFacts:
    """What a command on one class-subject grade book needs to know besides the book, read in
    one statement: each round trip costs the API CPU (issue 9)."""

    staff_roles: frozenset[str]
    time_zone: str
    klass: ClassInfo | None
    subject_known: bool
    roster: frozenset[UUID]
    #: The caller's teaching assignments at the school: (class, subject, valid_from, valid_to).
    teaching: Teaching
    class_teacher_of: frozenset[UUID]
    #: The caller's guardianships: (student, restricted or access withdrawn).
    guardianships: Guardianships
    #: The date of the lesson asked about, if it is one of this class and subject.
    lesson_date: date | None
    #: The calendar of the class's school year, if asked for and known.
    semesters: list[dict[str, Any]] | None
    #: The school's grading policy: for a command from its stream as committed when the facts
    #: were read (another API process may have just changed it, so it is not kept between
    #: commands), for a read from its views.
    policy: GradingPolicy
    #: The grade book's newer events, when the caller named its stream and version.
    book: BookRead | None

    def found_class(self) -> ClassInfo:
        """The class of the grade book; 404 for a class or subject the school does not have."""
        if self.klass is None:
            raise missing("class", "class_id")
        if not self.subject_known:
            raise missing("subject", "subject_id")
        return self.klass

    def today(self, now: datetime) -> date:
        """Today in the school's time zone, as ``school_today`` says."""
        return now.astimezone(ZoneInfo(self.time_zone)).date()

    def relationships(self, school_id: UUID, person_id: UUID, today: date) -> Relationships:
        """The caller's relationships on ``today``, as ``relationships_of`` says."""
        return _relationships(
            school_id,
            person_id,
            today,
            self.teaching,
            self.class_teacher_of,
            self.guardianships,
        )


_BOOK_FACTS = f"""
SELECT c.class_id, c.school_year, c.grade_level, c.label,
       (SELECT roles FROM rm.staff WHERE school_id = $1 AND person_id = $2 AND employed)
           AS staff_roles,
       (SELECT time_zone FROM rm.schools WHERE school_id = $1) AS time_zone,
       EXISTS (SELECT 1 FROM rm.subjects WHERE school_id = $1 AND subject_id = $4)
           AS subject_known,
       ARRAY(SELECT student_id FROM rm.enrolments WHERE class_id = $3 AND active) AS roster,
       {_CALLER_ROWS},
       (SELECT lesson_date FROM rm.lessons WHERE school_id = $1 AND lesson_id = $5
           AND class_id = $3 AND subject_id = $4) AS lesson_date,
       CASE WHEN $6 THEN (SELECT semesters FROM rm.school_years
                          WHERE school_id = $1 AND school_year = c.school_year) END AS semesters,
       {{tail}}
FROM (VALUES (1)) AS one
LEFT JOIN rm.classes c ON c.school_id = $1 AND c.class_id = $3
"""
_FACTS = _BOOK_FACTS.format(
    tail=f"""{stream_column("$7")} AS policy,
       {stream_column("$8", "$9")} AS book"""
)

#: The school's policy ($1) as its views hold it: scales, deadlines, the semester-grades setting
#: (jsonb inside an array comes as text: the connection's json codec decodes top-level only).
_POLICY_COLUMNS = """
       ARRAY(SELECT definition::text FROM grade_scales WHERE school_id = $1 ORDER BY position)
           AS scales,
       ARRAY(SELECT deadline::text FROM period_grade_deadlines WHERE school_id = $1)
           AS deadlines,
       (SELECT used FROM semester_grades_usage WHERE school_id = $1) AS semester_grades_used"""

#: The class-subject's rows of the grade views, in the order the book recorded them.
_SHEET_ROWS = """,
       ARRAY(SELECT ROW(g.grade_id, g.student_id, g.term, g.given_on, g.lesson_id, g.work_title,
                        g.work_kind, g.summative, g.weight, g.scale, g.value, g.points,
                        g.recorded_by, g.recorded_at, g.history::text)
             FROM grade_entries g
             WHERE g.class_id = $3 AND g.subject_id = $4 AND g.school_year = c.school_year
             ORDER BY g.given_on, g.recorded_at, g.grade_id) AS grades,
       ARRAY(SELECT ROW(p.period, p.student_id, p.value, p.points, p.scale, p.suggested_value,
                        p.overridden, p.set_by, p.set_at)
             FROM period_grade_entries p
             WHERE p.class_id = $3 AND p.subject_id = $4 AND p.school_year = c.school_year)
           AS period_grades,
       ARRAY(SELECT ROW(l.period, l.locked, l.finalized_by, l.finalized_at, l.unlocks::text)
             FROM class_subject_periods l
             WHERE l.class_id = $3 AND l.subject_id = $4 AND l.school_year = c.school_year)
           AS periods"""
_SHEET = _BOOK_FACTS.format(tail=_POLICY_COLUMNS.strip() + _SHEET_ROWS)


@dataclass(frozen=True)
class SheetRows:
    """A class-subject's grades, period grades and period locks as the grade views hold them."""

    #: ``(grade_id, student_id, term, given_on, lesson_id, work_title, work_kind, summative,
    #: weight, scale, value, points, recorded_by, recorded_at, history)``
    grades: list[tuple[Any, ...]]
    #: ``(period, student_id, value, points, scale, suggested_value, overridden, set_by, set_at)``
    period_grades: list[tuple[Any, ...]]
    #: ``(period, locked, finalized_by, finalized_at, unlocks)``
    periods: list[tuple[Any, ...]]


async def sheet_facts(
    conn: asyncpg.Connection,
    school_id: UUID,
    person_id: UUID,
    class_id: UUID,
    subject_id: UUID,
) -> tuple[BookFacts, SheetRows]:
    """``book_facts`` and the class-subject's rows of the grade views, in one statement."""
    args = _facts_args(school_id, person_id, class_id, subject_id, None, False)
    row = await conn.fetchrow(_SHEET, *args)
    assert row is not None
    # jsonb inside a record comes as text: the connection's json codec decodes top-level only
    rows = SheetRows(
        [(*r[:-1], json.loads(r[-1])) for r in row["grades"] or ()],
        [tuple(r) for r in row["period_grades"] or ()],
        [(*r[:-1], json.loads(r[-1])) for r in row["periods"] or ()],
    )
    return _facts_of(row, policy_of(row), None), rows


async def book_facts(
    conn: asyncpg.Connection,
    school_id: UUID,
    person_id: UUID,
    class_id: UUID,
    subject_id: UUID,
    *,
    lesson_id: UUID | None = None,
    calendar: bool = False,
    book: tuple[str, int] | None = None,
) -> BookFacts:
    """The caller's ``staff_roles``, the class, whether the subject is the school's, the roster,
    the school's time zone, the rows behind ``relationships_of``, the school's grading policy
    and, on request, the date of ``lesson_id`` (a lesson of this class and subject), the
    calendar of the class's year and the events of ``book`` (a grade book's stream) after a
    version: one round trip where a command used to take ten."""
    row = await conn.fetchrow(
        _FACTS,
        *_facts_args(school_id, person_id, class_id, subject_id, lesson_id, calendar),
        *_stream_args(school_id, book),
    )
    assert row is not None
    policy = SchoolGradingPolicy.for_school(school_id).applied(parse_column(row["policy"]))
    return _facts_of(row, policy.in_force, book)


def _facts_args(
    school_id: UUID,
    person_id: UUID,
    class_id: UUID,
    subject_id: UUID,
    lesson_id: UUID | None,
    calendar: bool,
) -> tuple[Any, ...]:
    return (school_id, person_id, class_id, subject_id, lesson_id, calendar)


def _stream_args(school_id: UUID, book: tuple[str, int] | None) -> tuple[Any, ...]:
    book_stream, book_after = book or (None, 0)
    return (SchoolGradingPolicy.for_school(school_id).stream_id, book_stream, book_after)


def policy_of(row: asyncpg.Record) -> GradingPolicy:
    """The school's policy from its views' columns (``_POLICY_COLUMNS``)."""
    scales = [GradeScaleDefined.model_validate(json.loads(d)) for d in row["scales"]]
    deadlines = [PeriodGradeDeadlineSet.model_validate(json.loads(d)) for d in row["deadlines"]]
    used = row["semester_grades_used"]
    return GradingPolicy(
        scales={s.scale_id: s for s in scales},
        deadlines={(d.school_year, d.period, d.band): d.due_on for d in deadlines},
        semester_grades_used=DEFAULT_SEMESTER_GRADES_USED if used is None else used,
    )


def _facts_of(
    row: asyncpg.Record, policy: GradingPolicy, book: tuple[str, int] | None
) -> BookFacts:
    book_stream, book_after = book or (None, 0)
    klass = (
        None
        if row["class_id"] is None
        else ClassInfo(row["class_id"], row["school_year"], row["grade_level"], row["label"])
    )
    return BookFacts(
        staff_roles=frozenset(row["staff_roles"] or ()),
        time_zone=row["time_zone"] or DEFAULT_TIME_ZONE,
        klass=klass,
        subject_known=row["subject_known"],
        roster=frozenset(row["roster"]),
        teaching=tuple(row["teaching"]),
        class_teacher_of=frozenset(row["class_teacher_of"]),
        guardianships=tuple(row["guardianships"]),
        lesson_date=row["lesson_date"],
        semesters=row["semesters"],
        policy=policy,
        book=None if book_stream is None else BookRead(book_stream, book_after, row["book"]),
    )


async def school_policy(conn: asyncpg.Connection, school_id: UUID) -> GradingPolicy:
    """The school's grading policy as its views hold it."""
    row = await conn.fetchrow(f"SELECT {_POLICY_COLUMNS}", school_id)
    assert row is not None
    return policy_of(row)


async def school_teaching(conn: asyncpg.Connection, school_id: UUID, today: date) -> Relationships:
    """Every current teaching assignment of the school: whose each class-subject is."""
    teaching = await conn.fetch(
        f"""SELECT teacher_id, class_id, subject_id FROM rm.teaching
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
                              AND l.school_year = $2 AND l.period = $3), false) AS finalized,
                  CASE WHEN $3 = 'reexam' THEN
                    (SELECT jsonb_agg(jsonb_build_array(a.student_id, a.value, a.points))
                     FROM period_grade_entries a
                     WHERE a.class_id = c.class_id AND a.subject_id = cs.subject_id
                       AND a.school_year = $2 AND a.period = 'annual') END AS annual
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
            annual={
                UUID(student): GradeValue(value, points)
                for student, value, points in r["annual"] or []
            },
        )
        for r in rows
    ]


async def student_enrolments(
    conn: asyncpg.Connection, school_id: UUID, student_id: UUID
) -> list[UUID]:
    """The classes (any year, present or past) the student was enrolled in at this school."""
    rows = await conn.fetch(
        "SELECT DISTINCT class_id FROM rm.enrolments WHERE school_id = $1 AND student_id = $2",
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
