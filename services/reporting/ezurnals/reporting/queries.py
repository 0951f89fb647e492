"""Read-model queries for the API and the jobs (raw asyncpg against the ``rm`` schema)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any
from uuid import UUID

import asyncpg

from ezurnals.reporting.domain.access import Guardianship, Reader, StudentFacts
from ezurnals.reporting.domain.calendar import report_period_days
from ezurnals.reporting.domain.compliance import DeadlineBand, DeadlinePolicy
from ezurnals.reporting.domain.diary import excuse_state
from ezurnals.reporting.domain.report_cards import Absences, ClassFacts, FinalGrade, Subject
from ezurnals.reporting.domain.statements import AbsenceEntry, GradeEntry
from ezurnals.shared.auth.principal import Principal
from ezurnals.shared.messaging.projection import schema_name


def _excuse_request(state: str) -> str:
    """Whether a family's excuse request in ``state`` covers the mark ``m`` (its lesson or day)."""
    return f"""EXISTS (SELECT 1 FROM rm.excuse_requests r
                          WHERE r.student_id = m.student_id AND r.state = '{state}'
                            AND (m.lesson_id = ANY (r.lesson_ids)
                                 OR m.day BETWEEN r.covers_from AND r.covers_to))"""


#: Who excused an absence, when, as what and against which document, as the diary and the
#: class journal read it from ``rm.absence_excuses x`` (ids as text).
_EXCUSE_RECORD = """x.excuse_id::text AS excuse_id, x.source AS excuse_source, x.reference,
                    x.excused_by::text AS excused_by, x.excused_as, x.excused_at"""

_MARKS = f"""SELECT m.student_id, m.lesson_id, m.day, m.code, m.counts_as_absence, m.is_late,
                  m.excused_by_code, m.minutes_late, x.document_type,
                  x.absence_id IS NOT NULL AS excused,
                  {_excuse_request("submitted")} AS pending,
                  {_excuse_request("rejected")} AS rejected, {_EXCUSE_RECORD}
           FROM rm.attendance_marks m
           LEFT JOIN rm.absence_excuses x ON x.absence_id = m.absence_id
           """


def _teaches(reader: str, school: str, when: str = "TRUE") -> str:
    """(class_id, subject_id, leads) rows: what the reader teaches or leads (as class teacher) in
    the school; both are parameter placeholders, ``when`` a condition on the parameters."""
    return f"""SELECT class_id, subject_id, FALSE AS leads FROM rm.teaching
               WHERE {when} AND teacher_id = {reader} AND school_id = {school}
               UNION SELECT class_id, NULL, TRUE FROM rm.class_teachers
               WHERE {when} AND teacher_id = {reader} AND school_id = {school}"""


_READER = _teaches("$1", "$2")

#: Who the student is in a school and what the reader teaches or leads there, as three array
#: columns of one row: $1 the student, $2 the school, $3 the reader, $4 whether they are staff
#: (families teach and lead no class: the last array is then empty without a lookup).
_ACCESS = f"""ARRAY(SELECT e.class_id FROM rm.enrolments e
                 WHERE e.student_id = $1 AND e.school_id = $2) AS class_ids,
           ARRAY(SELECT ROW(g.guardian_id, g.linked, g.restricted, g.keeps_access)
                 FROM rm.guardianships g
                 WHERE g.student_id = $1 AND g.school_id = $2) AS guardianships,
           ARRAY(SELECT ROW(t.class_id, t.subject_id, t.leads)
                 FROM ({_teaches("$3", "$2", when="$4")}) t) AS teaches"""

#: A student's week in one round trip: a row per lesson of the classes they were enrolled in,
#: in diary order ($5..$6 the week), with the student's mark if any; the first row (the only one
#: when the week has no lessons: then its lesson columns are NULL) also carries the access facts
#: and the week's grades as arrays of anonymous records. Plain rows: asyncpg decodes them about
#: twice as fast as the same values inside records. Ids come as text, as the answer carries
#: them: pydantic-core serialises asyncpg's UUID subclass some 15 times slower than a str. The
#: homework comes as JSON text, like the records' fields: those are always decoded in binary,
#: where the pool's text-format jsonb codec does not apply.
_DIARY = f"""SELECT w.lesson_id, w.lesson_date, w.period, w.starts_at, w.ends_at, w.room,
                  w.subject_id, w.subject, w.teacher_id, w.substitute_teacher_id, w.cancelled,
                  w.topic, w.homework, w.no_homework, w.corrected, w.code, w.counts_as_absence,
                  w.is_late, w.minutes_late, w.excused_by_code, w.excused, w.document_type,
                  w.pending, w.rejected,
                  w.excuse_id, w.excuse_source, w.reference, w.excused_by, w.excused_as,
                  w.excused_at,
                  CASE WHEN w.n IS NULL OR w.n = 1 THEN f.class_ids END AS class_ids,
                  CASE WHEN w.n IS NULL OR w.n = 1 THEN f.guardianships END AS guardianships,
                  CASE WHEN w.n IS NULL OR w.n = 1 THEN f.teaches END AS teaches,
                  CASE WHEN w.n IS NULL OR w.n = 1 THEN f.grades END AS grades
           FROM (SELECT {_ACCESS},
                        ARRAY(SELECT ROW(g.grade_id::text, g.lesson_id::text, g.subject_id::text,
                                         s.name, g.given_on, g.work_title, g.work_kind,
                                         g.summative, g.value, g.earlier_values)
                              FROM rm.grades g
                              LEFT JOIN rm.subjects s ON s.subject_id = g.subject_id
                              WHERE g.student_id = $1 AND g.given_on BETWEEN $5 AND $6
                              ORDER BY g.given_on, g.work_title) AS grades) f
           LEFT JOIN (
               SELECT row_number() OVER (ORDER BY l.lesson_date, l.starts_at, l.period) AS n,
                      l.lesson_id::text AS lesson_id, l.lesson_date, l.period, l.starts_at,
                      l.ends_at, l.room, l.subject_id::text AS subject_id, s.name AS subject,
                      l.teacher_id::text AS teacher_id,
                      l.substitute_teacher_id::text AS substitute_teacher_id, l.cancelled,
                      l.topic, l.homework::text AS homework, l.no_homework, l.corrected,
                      m.code, m.counts_as_absence, m.is_late, m.minutes_late, m.excused_by_code,
                      x.absence_id IS NOT NULL AS excused, x.document_type,
                      m.code IS NOT NULL AND {_excuse_request("submitted")} AS pending,
                      m.code IS NOT NULL AND {_excuse_request("rejected")} AS rejected,
                      {_EXCUSE_RECORD}
               FROM rm.enrolments e
               JOIN rm.lessons l ON l.class_id = e.class_id
                    AND l.lesson_date BETWEEN $5 AND $6
                    AND l.lesson_date >= e.from_day
                    AND (e.to_day IS NULL OR l.lesson_date <= e.to_day)
               LEFT JOIN rm.subjects s ON s.subject_id = l.subject_id
               LEFT JOIN rm.attendance_marks m ON m.lesson_id = l.lesson_id
                    AND m.student_id = e.student_id AND m.day BETWEEN $5 AND $6
                    AND m.code IS NOT NULL
               LEFT JOIN rm.absence_excuses x ON x.absence_id = m.absence_id
               WHERE e.student_id = $1) w ON TRUE
           ORDER BY w.n"""


def mark_fields(
    code: str,
    counts_as_absence: bool,
    is_late: bool,
    minutes_late: int | None,
    excused_by_code: bool,
    excused: bool,
    document_type: str | None,
    pending: bool,
    rejected: bool,
    excuse_record: dict[str, Any] | None,
) -> dict[str, Any]:
    """A mark as the diary and the class journal show it, in ``MarkOut``'s field order."""
    return {
        "code": code,
        "counts_as_absence": counts_as_absence,
        "is_late": is_late,
        "minutes_late": minutes_late,
        "excuse": excuse_state(
            excused_by_code=excused_by_code, excused=excused, pending=pending, rejected=rejected
        ),
        "document_type": document_type,
        "excuse_record": excuse_record,
    }


def excuse_record(
    excuse_id: str | None,
    source: str | None,
    document_type: str | None,
    reference: str | None,
    excused_by: str | None,
    excused_as: str | None,
    excused_at: datetime | None,
) -> dict[str, Any] | None:
    """Who excused the absence, when, as what and against which document, in ``ExcuseOut``'s
    field order; None while it is not excused against a document."""
    if excuse_id is None:
        return None
    return {
        "excuse_id": excuse_id,
        "source": source,
        "document_type": document_type,
        "reference": reference,
        "excused_by": excused_by,
        "excused_as": excused_as,
        "excused_at": excused_at,
    }


def _mark(r: asyncpg.Record) -> dict[str, Any]:
    return {
        "lesson_id": r["lesson_id"],
        "day": r["day"],
        **mark_fields(
            r["code"],
            r["counts_as_absence"],
            r["is_late"],
            r["minutes_late"],
            r["excused_by_code"],
            r["excused"],
            r["document_type"],
            r["pending"],
            r["rejected"],
            excuse_record(
                r["excuse_id"],
                r["excuse_source"],
                r["document_type"],
                r["reference"],
                r["excused_by"],
                r["excused_as"],
                r["excused_at"],
            ),
        ),
    }


@dataclass(frozen=True)
class Enrolment:
    student_id: UUID
    class_id: UUID
    grade_level: int
    label: str


@dataclass(frozen=True)
class DiaryWeek:
    """A student's week as read in one round trip, before anyone checked who may see it.

    ``lessons`` are the rows of ``_DIARY`` (ids as text), in its column order: lesson_id,
    lesson_date, period, starts_at, ends_at, room, subject_id, subject, teacher_id,
    substitute_teacher_id, cancelled, topic, homework (JSON text), no_homework, corrected, then
    the student's mark (None code: no mark): code, counts_as_absence, is_late, minutes_late,
    excused_by_code, excused, document_type, pending, rejected, then who excused it (None
    excuse_id: not against a document): excuse_id, excuse_source, reference, excused_by,
    excused_as, excused_at; then columns to ignore.
    ``grades`` rows (ids as text): grade_id, lesson_id, subject_id, subject, given_on, work_title,
    work_kind, summative, value, earlier_values.
    """

    reader: Reader
    student: StudentFacts | None
    lessons: Sequence[Sequence[Any]]
    grades: Sequence[Sequence[Any]]


def reader_of(principal: Principal, rows: Iterable[Sequence[Any]] = ()) -> Reader:
    """The reader from (class_id, subject_id, leads) rows of what they teach or lead (a family
    teaches and leads nothing)."""
    if not principal.is_staff:
        return Reader(person_id=principal.person_id, roles=principal.roles)
    rows = list(rows)
    return Reader(
        person_id=principal.person_id,
        roles=principal.roles,
        class_ids=frozenset(r[0] for r in rows),
        led_class_ids=frozenset(r[0] for r in rows if r[2]),
        taught=frozenset((r[0], r[1]) for r in rows if not r[2]),
    )


def _student(row: asyncpg.Record, student_id: UUID) -> StudentFacts | None:
    """None when the student was never enrolled in this school."""
    if not row["class_ids"]:
        return None
    return StudentFacts(
        student_id=student_id,
        class_ids=frozenset(row["class_ids"]),
        guardianships=tuple(Guardianship(*g) for g in row["guardianships"]),
    )


class Reads:
    """Queries over one read-model schema; every query is scoped by school."""

    def __init__(self, conn: asyncpg.Connection, schema: str) -> None:
        self.conn = conn
        self.rm = schema_name(schema)

    def _sql(self, sql: str) -> str:
        return sql.replace("rm.", f"{self.rm}.")

    async def fetch(self, sql: str, *args: Any) -> list[asyncpg.Record]:
        rows: list[asyncpg.Record] = await self.conn.fetch(self._sql(sql), *args)
        return rows

    async def fetchrow(self, sql: str, *args: Any) -> asyncpg.Record | None:
        row: asyncpg.Record | None = await self.conn.fetchrow(self._sql(sql), *args)
        return row

    # --- who is asking, about whom -------------------------------------------------------------

    async def reader(self, principal: Principal) -> Reader:
        if not principal.is_staff:  # families teach and lead no class: no query for them
            return reader_of(principal)
        rows = await self.fetch(_READER, principal.person_id, principal.school_id)
        return reader_of(principal, rows)

    async def student_access(
        self, principal: Principal, student_id: UUID
    ) -> tuple[Reader, StudentFacts | None]:
        """The reader and the student within the reader's school, in one round trip."""
        row = await self.fetchrow(
            f"SELECT {_ACCESS}",
            student_id,
            principal.school_id,
            principal.person_id,
            principal.is_staff,
        )
        assert row is not None
        return reader_of(principal, row["teaches"]), _student(row, student_id)

    async def class_row(self, class_id: UUID, school_id: UUID) -> asyncpg.Record | None:
        return await self.fetchrow(
            "SELECT * FROM rm.classes WHERE class_id = $1 AND school_id = $2", class_id, school_id
        )

    async def school(self, school_id: UUID) -> asyncpg.Record | None:
        return await self.fetchrow("SELECT * FROM rm.schools WHERE school_id = $1", school_id)

    async def first_school_day(self, school_id: UUID) -> date | None:
        """The first day of the school's earliest school year identity has defined."""
        row = await self.fetchrow(
            """SELECT min((s ->> 'first_day')::date) AS first_day FROM rm.school_years y,
                      jsonb_array_elements(y.semesters) s WHERE y.school_id = $1""",
            school_id,
        )
        return row["first_day"] if row else None

    async def class_teacher(self, class_id: UUID, on: date) -> UUID | None:
        row = await self.fetchrow(
            """SELECT teacher_id FROM rm.class_teachers WHERE class_id = $1 AND valid_from <= $2
               ORDER BY valid_from DESC LIMIT 1""",
            class_id,
            on,
        )
        return row["teacher_id"] if row else None

    # --- the diary -----------------------------------------------------------------------------

    async def diary(
        self, principal: Principal, student_id: UUID, first: date, last: date
    ) -> DiaryWeek:
        """The week from ``first`` to ``last`` with what the access check needs, in one query."""
        rows = await self.fetch(
            _DIARY,
            student_id,
            principal.school_id,
            principal.person_id,
            principal.is_staff,
            first,
            last,
        )
        head = rows[0]
        return DiaryWeek(
            reader=reader_of(principal, head["teaches"]),
            student=_student(head, student_id),
            lessons=rows if head["lesson_id"] is not None else [],
            grades=head["grades"],
        )

    # --- monthly statements --------------------------------------------------------------------

    async def students_between(
        self, school_id: UUID, first: date, last: date, class_id: UUID | None = None
    ) -> list[Enrolment]:
        """Everyone enrolled on some day from ``first`` to ``last``, in the class they were in
        last (a student who moved on belongs to the new class's documents)."""
        rows = await self.fetch(
            """SELECT DISTINCT ON (e.student_id) e.student_id, e.class_id, c.grade_level, c.label
               FROM rm.enrolments e JOIN rm.classes c ON c.class_id = e.class_id
               WHERE e.school_id = $1 AND e.from_day <= $3
                 AND (e.to_day IS NULL OR e.to_day >= GREATEST($2, e.from_day))
               ORDER BY e.student_id, e.from_day DESC""",
            school_id,
            first,
            last,
        )
        found = [
            Enrolment(r["student_id"], r["class_id"], r["grade_level"], r["label"]) for r in rows
        ]
        return [e for e in found if class_id is None or e.class_id == class_id]

    async def month_facts(
        self, school_id: UUID, student_ids: list[UUID], first: date, last: date
    ) -> tuple[dict[UUID, list[GradeEntry]], dict[UUID, list[AbsenceEntry]], dict[UUID, str]]:
        """The month's grades and counted marks of many students in two queries."""
        grades: dict[UUID, list[GradeEntry]] = {s: [] for s in student_ids}
        for r in await self.fetch(
            """SELECT student_id, subject_id, given_on, value, points, earlier_values, work_title
               FROM rm.grades WHERE school_id = $1 AND student_id = ANY ($2::uuid[])
                 AND given_on BETWEEN $3 AND $4""",
            school_id,
            student_ids,
            first,
            last,
        ):
            grades[r["student_id"]].append(
                GradeEntry(
                    subject_id=r["subject_id"],
                    given_on=r["given_on"],
                    value=r["value"],
                    points=r["points"],
                    earlier_values=tuple(r["earlier_values"]),
                    work_title=r["work_title"],
                )
            )
        absences: dict[UUID, list[AbsenceEntry]] = {s: [] for s in student_ids}
        for r in await self.fetch(
            """SELECT m.student_id, l.subject_id, m.day, m.code, m.counts_as_absence, m.is_late,
                      m.excused_by_code OR x.absence_id IS NOT NULL AS excused
               FROM rm.attendance_marks m
               LEFT JOIN rm.absence_excuses x ON x.absence_id = m.absence_id
               LEFT JOIN rm.lessons l ON l.lesson_id = m.lesson_id
               WHERE m.student_id = ANY ($1::uuid[]) AND m.day BETWEEN $2 AND $3
                 AND m.code IS NOT NULL AND (m.counts_as_absence OR m.is_late)""",
            student_ids,
            first,
            last,
        ):
            absences[r["student_id"]].append(
                AbsenceEntry(
                    subject_id=r["subject_id"],
                    day=r["day"],
                    code=r["code"],
                    counts_as_absence=r["counts_as_absence"],
                    is_late=r["is_late"],
                    excused=r["excused"],
                )
            )
        names = {
            r["subject_id"]: r["name"]
            for r in await self.fetch(
                "SELECT subject_id, name FROM rm.subjects WHERE school_id = $1", school_id
            )
        }
        return grades, absences, names

    # --- report cards and the summary journal --------------------------------------------------

    async def absence_totals(
        self, student_ids: list[UUID], first: date, last: date
    ) -> dict[UUID, Absences]:
        """Missed lessons from ``first`` to ``last``, excused (by code or document) or not."""
        rows = await self.fetch(
            """SELECT m.student_id,
                      count(*) FILTER (WHERE m.excused_by_code OR x.absence_id IS NOT NULL)
                          AS excused,
                      count(*) FILTER (WHERE NOT m.excused_by_code AND x.absence_id IS NULL)
                          AS unexcused
               FROM rm.attendance_marks m
               LEFT JOIN rm.absence_excuses x ON x.absence_id = m.absence_id
               WHERE m.student_id = ANY ($1::uuid[]) AND m.day BETWEEN $2 AND $3
                 AND m.code IS NOT NULL AND m.counts_as_absence
               GROUP BY m.student_id""",
            student_ids,
            first,
            last,
        )
        return {
            r["student_id"]: Absences(excused=r["excused"], unexcused=r["unexcused"]) for r in rows
        }

    async def director(self, school_id: UUID) -> UUID | None:
        row = await self.fetchrow(
            """SELECT person_id FROM rm.staff WHERE school_id = $1 AND employed
                 AND 'director' = ANY (roles) ORDER BY person_id LIMIT 1""",
            school_id,
        )
        return row["person_id"] if row else None

    async def class_facts(self, klass: asyncpg.Record, period: str) -> ClassFacts:
        """Everything a class's report cards (or summary journal, for "year") are made from."""
        year = klass["school_year"]
        school_id, class_id = klass["school_id"], klass["class_id"]
        calendar = await self.fetchrow(
            "SELECT semesters FROM rm.school_years WHERE school_id = $1 AND school_year = $2",
            school_id,
            year,
        )
        first, last = report_period_days(period, year, calendar["semesters"] if calendar else [])
        students = [
            e.student_id for e in await self.students_between(school_id, first, last, class_id)
        ]
        enrolled = set(students)
        grades = await self.fetch(
            """SELECT student_id, subject_id, period, value, year_grade_type
               FROM rm.final_grades WHERE class_id = $1 AND school_year = $2""",
            class_id,
            year,
        )
        subjects = await self.fetch(
            """SELECT s.subject_id, s.name, s.curriculum_hours FROM rm.subjects s
               WHERE s.subject_id IN (
                   SELECT subject_id FROM rm.teaching
                   WHERE class_id = $1 AND NOT substitute AND valid_from <= $3
                     AND (valid_to IS NULL OR valid_to >= $2)
                   UNION SELECT subject_id FROM rm.final_grades
                   WHERE class_id = $1 AND school_year = $4)""",
            class_id,
            first,
            last,
            year,
        )
        return ClassFacts(
            class_id=class_id,
            school_year=year,
            grade_level=klass["grade_level"],
            class_label=klass["label"],
            first_day=first,
            last_day=last,
            students=tuple(students),
            subjects=tuple(
                Subject(
                    subject_id=r["subject_id"],
                    name=r["name"],
                    hours={int(k): v for k, v in r["curriculum_hours"].items()},
                )
                for r in subjects
            ),
            grades=tuple(
                FinalGrade(
                    student_id=r["student_id"],
                    subject_id=r["subject_id"],
                    period=r["period"],
                    value=r["value"],
                    year_grade_type=r["year_grade_type"],
                )
                for r in grades
                if r["student_id"] in enrolled
            ),
            absences=await self.absence_totals(students, first, last),
            class_teacher_id=await self.class_teacher(class_id, last),
            director_id=await self.director(school_id),
        )

    # --- the administration's views ------------------------------------------------------------

    async def entry_lessons(
        self, school_id: UUID, first: date, last: date, teacher_id: UUID | None = None
    ) -> list[asyncpg.Record]:
        """Lessons given (not cancelled) with what the lessons service said about their entry;
        a substitute answers for the lesson they gave."""
        return await self.fetch(
            """SELECT l.lesson_id, l.lesson_date, l.period, l.class_id, l.subject_id,
                      COALESCE(l.substitute_teacher_id, l.teacher_id) AS teacher_id,
                      l.grade_level, l.topic IS NOT NULL AS recorded, l.entry_late, l.overdue,
                      l.minutes_late, t.lesson_id IS NOT NULL AS attendance_taken
               FROM rm.lessons l LEFT JOIN rm.attendance_taken t ON t.lesson_id = l.lesson_id
               WHERE l.school_id = $1 AND l.lesson_date BETWEEN $2 AND $3 AND NOT l.cancelled
                 AND l.class_id IS NOT NULL
                 AND ($4::uuid IS NULL OR COALESCE(l.substitute_teacher_id, l.teacher_id) = $4)
               ORDER BY l.lesson_date, l.period, l.lesson_id""",
            school_id,
            first,
            last,
            teacher_id,
        )

    async def deadline_policies(self, school_id: UUID) -> list[DeadlinePolicy]:
        rows = await self.fetch(
            "SELECT effective_from, bands FROM rm.entry_deadline_policies WHERE school_id = $1",
            school_id,
        )
        return [
            DeadlinePolicy(
                effective_from=r["effective_from"],
                bands=tuple(
                    DeadlineBand(
                        b["first_grade"], b["last_grade"], time.fromisoformat(b["deadline"])
                    )
                    for b in r["bands"]
                ),
            )
            for r in rows
        ]

    async def absence_statistics(
        self, school_id: UUID, year: str, first: date, last: date
    ) -> list[asyncpg.Record]:
        """Per class of the year: missed lessons excused and not, late arrivals, who was absent."""
        return await self.fetch(
            """SELECT c.class_id, c.label, c.grade_level,
                      count(m.lesson_id) FILTER (WHERE m.counts_as_absence
                          AND (m.excused_by_code OR x.absence_id IS NOT NULL)) AS excused,
                      count(m.lesson_id) FILTER (WHERE m.counts_as_absence
                          AND NOT m.excused_by_code AND x.absence_id IS NULL) AS unexcused,
                      count(m.lesson_id) FILTER (WHERE m.is_late AND NOT m.counts_as_absence)
                          AS lates,
                      count(DISTINCT m.student_id) FILTER (WHERE m.counts_as_absence)
                          AS students_absent
               FROM rm.classes c
               LEFT JOIN rm.attendance_marks m ON m.class_id = c.class_id
                    AND m.day BETWEEN $3 AND $4 AND m.code IS NOT NULL
               LEFT JOIN rm.absence_excuses x ON x.absence_id = m.absence_id
               WHERE c.school_id = $1 AND c.school_year = $2
               GROUP BY c.class_id, c.label, c.grade_level
               ORDER BY c.grade_level, c.label""",
            school_id,
            year,
            first,
            last,
        )

    async def grade_distribution(
        self, school_id: UUID, year: str, class_id: UUID | None, term: str | None
    ) -> list[asyncpg.Record]:
        """How often each (current) value was given, per subject and scale."""
        return await self.fetch(
            """SELECT g.subject_id, s.name AS subject, g.scale, g.value, count(*) AS n,
                      sum(g.points) AS points, count(g.points) AS with_points
               FROM rm.grades g LEFT JOIN rm.subjects s ON s.subject_id = g.subject_id
               WHERE g.school_id = $1 AND g.school_year = $2
                 AND ($3::uuid IS NULL OR g.class_id = $3) AND ($4::text IS NULL OR g.term = $4)
               GROUP BY g.subject_id, s.name, g.scale, g.value
               ORDER BY s.name, g.subject_id, g.scale, g.value""",
            school_id,
            year,
            class_id,
            term,
        )

    # --- the teachers' views -------------------------------------------------------------------

    async def class_journal(
        self, class_id: UUID, subject_id: UUID, first: date, last: date
    ) -> dict[str, list[Any]]:
        lessons = await self.fetch(
            """SELECT lesson_id, lesson_date, period, starts_at, topic, homework, no_homework,
                      cancelled, COALESCE(substitute_teacher_id, teacher_id) AS teacher_id
               FROM rm.lessons WHERE class_id = $1 AND subject_id = $2
                 AND lesson_date BETWEEN $3 AND $4
               ORDER BY lesson_date, period""",
            class_id,
            subject_id,
            first,
            last,
        )
        marks = await self.fetch(
            _MARKS + "WHERE m.lesson_id = ANY ($1::uuid[]) AND m.code IS NOT NULL",
            [r["lesson_id"] for r in lessons],
        )
        grades = await self.fetch(
            """SELECT g.grade_id, g.student_id, g.lesson_id, g.subject_id, s.name AS subject,
                      g.given_on, g.work_title, g.work_kind, g.summative, g.value,
                      g.earlier_values
               FROM rm.grades g LEFT JOIN rm.subjects s ON s.subject_id = g.subject_id
               WHERE g.class_id = $1 AND g.subject_id = $2 AND g.given_on BETWEEN $3 AND $4
               ORDER BY g.given_on, g.work_title""",
            class_id,
            subject_id,
            first,
            last,
        )
        return {
            "lessons": lessons,
            "marks": [{**_mark(r), "student_id": r["student_id"]} for r in marks],
            "grades": grades,
        }

    async def class_overview(
        self, school_id: UUID, class_id: UUID, first: date, last: date
    ) -> dict[str, Any]:
        """Per student: absences, graded subjects, pending excuse requests; and what is taught."""
        students = [
            e.student_id for e in await self.students_between(school_id, first, last, class_id)
        ]
        absences = await self.fetch(
            """SELECT m.student_id,
                      count(*) FILTER (WHERE m.counts_as_absence) AS absences,
                      count(*) FILTER (WHERE m.counts_as_absence AND NOT m.excused_by_code
                                       AND x.absence_id IS NULL) AS unexcused,
                      count(*) FILTER (WHERE m.is_late AND NOT m.counts_as_absence) AS lates
               FROM rm.attendance_marks m
               LEFT JOIN rm.absence_excuses x ON x.absence_id = m.absence_id
               WHERE m.student_id = ANY ($1::uuid[]) AND m.day BETWEEN $2 AND $3
                 AND m.code IS NOT NULL
               GROUP BY m.student_id""",
            students,
            first,
            last,
        )
        graded = await self.fetch(
            """SELECT DISTINCT student_id, subject_id FROM rm.grades
               WHERE class_id = $1 AND student_id = ANY ($2::uuid[])
                 AND given_on BETWEEN $3 AND $4""",
            class_id,
            students,
            first,
            last,
        )
        taught = await self.fetch(
            """SELECT DISTINCT t.subject_id, s.name FROM rm.teaching t
               LEFT JOIN rm.subjects s ON s.subject_id = t.subject_id
               WHERE t.class_id = $1 AND NOT t.substitute AND t.valid_from <= $3
                 AND (t.valid_to IS NULL OR t.valid_to >= $2)""",
            class_id,
            first,
            last,
        )
        pending = await self.fetch(
            """SELECT request_id, student_id, covers_from, covers_to, lesson_ids
               FROM rm.excuse_requests
               WHERE student_id = ANY ($1::uuid[]) AND state = 'submitted'
               ORDER BY covers_from NULLS LAST, request_id""",
            students,
        )
        return {
            "students": students,
            "absences": {r["student_id"]: r for r in absences},
            "graded": {(r["student_id"], r["subject_id"]) for r in graded},
            "taught": taught,
            "pending": pending,
        }
