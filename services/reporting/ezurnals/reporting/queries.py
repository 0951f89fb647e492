"""Read-model queries for the API and the jobs (raw asyncpg against the ``rm`` schema)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any
from uuid import UUID

import asyncpg

from ezurnals.reporting.domain.access import Guardianship, Reader, StudentFacts
from ezurnals.reporting.domain.diary import excuse_state
from ezurnals.reporting.domain.statements import AbsenceEntry, GradeEntry
from ezurnals.shared.auth.principal import Principal
from ezurnals.shared.messaging.projection import schema_name


@dataclass(frozen=True)
class Enrolment:
    student_id: UUID
    class_id: UUID
    grade_level: int
    label: str


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
        rows = await self.fetch(
            """SELECT class_id, FALSE AS leads FROM rm.teaching
               WHERE teacher_id = $1 AND school_id = $2
               UNION SELECT class_id, TRUE FROM rm.class_teachers
               WHERE teacher_id = $1 AND school_id = $2""",
            principal.person_id,
            principal.school_id,
        )
        return Reader(
            person_id=principal.person_id,
            roles=principal.roles,
            class_ids=frozenset(r["class_id"] for r in rows),
            led_class_ids=frozenset(r["class_id"] for r in rows if r["leads"]),
        )

    async def student(self, student_id: UUID, school_id: UUID) -> StudentFacts | None:
        """None when the student was never enrolled in this school."""
        rows = await self.fetch(
            """SELECT e.class_id, NULL::uuid AS guardian_id, NULL::bool AS linked,
                      NULL::bool AS restricted, NULL::bool AS keeps_access
               FROM rm.enrolments e WHERE e.student_id = $1 AND e.school_id = $2
               UNION ALL
               SELECT NULL, g.guardian_id, g.linked, g.restricted, g.keeps_access
               FROM rm.guardianships g WHERE g.student_id = $1 AND g.school_id = $2""",
            student_id,
            school_id,
        )
        classes = frozenset(r["class_id"] for r in rows if r["class_id"] is not None)
        if not classes:
            return None
        return StudentFacts(
            student_id=student_id,
            class_ids=classes,
            guardianships=tuple(
                Guardianship(r["guardian_id"], r["linked"], r["restricted"], r["keeps_access"])
                for r in rows
                if r["guardian_id"] is not None
            ),
        )

    async def class_row(self, class_id: UUID, school_id: UUID) -> asyncpg.Record | None:
        return await self.fetchrow(
            "SELECT * FROM rm.classes WHERE class_id = $1 AND school_id = $2", class_id, school_id
        )

    async def school(self, school_id: UUID) -> asyncpg.Record | None:
        return await self.fetchrow("SELECT * FROM rm.schools WHERE school_id = $1", school_id)

    async def class_teacher(self, class_id: UUID, on: date) -> UUID | None:
        row = await self.fetchrow(
            """SELECT teacher_id FROM rm.class_teachers WHERE class_id = $1 AND valid_from <= $2
               ORDER BY valid_from DESC LIMIT 1""",
            class_id,
            on,
        )
        return row["teacher_id"] if row else None

    # --- the diary -----------------------------------------------------------------------------

    async def diary(self, student_id: UUID, first: date, last: date) -> dict[str, Any]:
        lessons = await self.fetch(
            """SELECT l.lesson_id, l.lesson_date, l.starts_at, l.ends_at, l.period, l.room,
                      l.subject_id, s.name AS subject, l.teacher_id, l.substitute_teacher_id,
                      l.cancelled, l.topic, l.homework, l.no_homework, l.corrected,
                      l.class_id
               FROM rm.enrolments e
               JOIN rm.lessons l ON l.class_id = e.class_id
                    AND l.lesson_date BETWEEN $2 AND $3
                    AND l.lesson_date >= e.from_day
                    AND (e.to_day IS NULL OR l.lesson_date <= e.to_day)
               LEFT JOIN rm.subjects s ON s.subject_id = l.subject_id
               WHERE e.student_id = $1
               ORDER BY l.lesson_date, l.starts_at, l.period""",
            student_id,
            first,
            last,
        )
        grades = await self.fetch(
            """SELECT g.grade_id, g.lesson_id, g.subject_id, s.name AS subject, g.given_on,
                      g.work_title, g.work_kind, g.summative, g.scale, g.value, g.points,
                      g.earlier_values
               FROM rm.grades g LEFT JOIN rm.subjects s ON s.subject_id = g.subject_id
               WHERE g.student_id = $1 AND g.given_on BETWEEN $2 AND $3
               ORDER BY g.given_on, g.work_title""",
            student_id,
            first,
            last,
        )
        marks = await self.marks(student_id, first, last)
        return {"lessons": lessons, "grades": grades, "marks": marks}

    async def marks(self, student_id: UUID, first: date, last: date) -> list[dict[str, Any]]:
        rows = await self.fetch(
            """SELECT m.lesson_id, m.day, m.code, m.counts_as_absence, m.is_late,
                      m.excused_by_code, m.minutes_late, x.document_type,
                      x.absence_id IS NOT NULL AS excused,
                      EXISTS (SELECT 1 FROM rm.excuse_requests r
                              WHERE r.student_id = m.student_id AND r.state = 'submitted'
                                AND (m.lesson_id = ANY (r.lesson_ids)
                                     OR m.day BETWEEN r.covers_from AND r.covers_to)) AS pending,
                      EXISTS (SELECT 1 FROM rm.excuse_requests r
                              WHERE r.student_id = m.student_id AND r.state = 'rejected'
                                AND (m.lesson_id = ANY (r.lesson_ids)
                                     OR m.day BETWEEN r.covers_from AND r.covers_to)) AS rejected
               FROM rm.attendance_marks m
               LEFT JOIN rm.absence_excuses x ON x.absence_id = m.absence_id
               WHERE m.student_id = $1 AND m.day BETWEEN $2 AND $3 AND m.code IS NOT NULL
               ORDER BY m.day""",
            student_id,
            first,
            last,
        )
        return [
            {
                "lesson_id": r["lesson_id"],
                "day": r["day"],
                "code": r["code"],
                "counts_as_absence": r["counts_as_absence"],
                "is_late": r["is_late"],
                "minutes_late": r["minutes_late"],
                "excuse": excuse_state(
                    excused_by_code=r["excused_by_code"],
                    excused=r["excused"],
                    pending=r["pending"],
                    rejected=r["rejected"],
                ),
                "document_type": r["document_type"],
            }
            for r in rows
        ]

    # --- monthly statements --------------------------------------------------------------------

    async def students_in_month(
        self, school_id: UUID, first: date, last: date, class_id: UUID | None = None
    ) -> list[Enrolment]:
        """Everyone enrolled on some day of the month, in the class they were in last."""
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
