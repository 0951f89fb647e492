"""Read-model queries: identity's facts (``rm.*``, projected by the worker) and the service's own
query tables. Every query is scoped by school; a row of another school is simply not found."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import asyncpg

from ezurnals.lessons.domain import SchoolCalendar
from ezurnals.shared.contracts.identity import DEFAULT_TIME_ZONE, SchoolYearDefined
from ezurnals.shared.contracts.school_year import spelled
from ezurnals.shared.db import Database, row_dict
from ezurnals.shared.messaging.projection import schema_name
from ezurnals.shared.service import Runtime


@dataclass(frozen=True)
class SchoolClass:
    class_id: UUID
    school_id: UUID
    school_year: str
    grade_level: int
    label: str


class Reader:
    """Queries over one service database. Identity's tables may not exist before the worker first
    ran; until then they read as empty (nothing is known about the school yet)."""

    def __init__(self, db: Database, read_model_schema: str) -> None:
        self.db = db
        self.rm = schema_name(read_model_schema)

    @classmethod
    def of(cls, runtime: Runtime) -> Reader:
        return cls(runtime.db, runtime.settings.read_model_schema)

    async def rows(self, sql: str, *args: Any) -> list[dict[str, Any]]:
        async with self.db.raw() as conn:
            try:
                found = await conn.fetch(sql.replace("rm.", f"{self.rm}."), *args)
            except asyncpg.UndefinedTableError:
                return []
        return [row_dict(r) for r in found]

    async def row(self, sql: str, *args: Any) -> dict[str, Any] | None:
        found = await self.rows(sql, *args)
        return found[0] if found else None

    # --- identity's facts ------------------------------------------------------------------------

    async def zone(self, school_id: UUID) -> ZoneInfo:
        """The school's time zone; Europe/Riga until identity says otherwise."""
        found = await self.row("SELECT time_zone FROM rm.schools WHERE school_id = $1", school_id)
        try:
            return ZoneInfo(found["time_zone"] if found else DEFAULT_TIME_ZONE)
        except (ZoneInfoNotFoundError, ValueError):
            return ZoneInfo(DEFAULT_TIME_ZONE)

    async def calendar(self, school_id: UUID, school_year: str) -> SchoolCalendar | None:
        found = await self.row(
            "SELECT calendar FROM rm.school_years WHERE school_id = $1 AND school_year = $2",
            school_id,
            spelled(school_year),
        )
        if found is None:
            return None
        event = SchoolYearDefined.model_validate(found["calendar"])
        return SchoolCalendar.from_school_year(event)

    async def school_class(self, school_id: UUID, class_id: UUID) -> SchoolClass | None:
        found = await self.row(
            "SELECT class_id, school_id, school_year, grade_level, label FROM rm.classes "
            "WHERE class_id = $1 AND school_id = $2",
            class_id,
            school_id,
        )
        return SchoolClass(**found) if found else None

    async def roster(self, class_id: UUID) -> list[UUID]:
        """The class's students now, in enrolment order."""
        found = await self.rows(
            "SELECT student_id FROM rm.enrolments WHERE class_id = $1 AND to_day IS NULL "
            "ORDER BY from_day, student_id",
            class_id,
        )
        return [r["student_id"] for r in found]

    async def staff(self, school_id: UUID) -> list[UUID]:
        found = await self.rows(
            "SELECT person_id FROM rm.staff WHERE school_id = $1 AND employed", school_id
        )
        return [r["person_id"] for r in found]

    async def is_class_teacher(self, class_id: UUID, person_id: UUID, on: date) -> bool:
        found = await self.row(
            "SELECT teacher_id FROM rm.class_teachers WHERE class_id = $1 AND valid_from <= $2 "
            "ORDER BY valid_from DESC LIMIT 1",
            class_id,
            on,
        )
        return found is not None and found["teacher_id"] == person_id

    async def teaches(
        self,
        class_id: UUID,
        person_id: UUID,
        on: date,
        *,
        subject_id: UUID | None = None,
        substitute: bool | None = None,
    ) -> bool:
        """Whether identity assigns the person to teach the class (that subject) on that day."""
        found = await self.row(
            """SELECT 1 AS yes FROM rm.teaching
               WHERE class_id = $1 AND teacher_id = $2 AND valid_from <= $3
                 AND (valid_to IS NULL OR valid_to >= $3)
                 AND ($4::uuid IS NULL OR subject_id = $4)
                 AND ($5::boolean IS NULL OR substitute = $5)
               LIMIT 1""",
            class_id,
            person_id,
            on,
            subject_id,
            substitute,
        )
        return found is not None

    # --- own query tables ----------------------------------------------------------------------

    async def subjects(self, school_id: UUID) -> list[dict[str, Any]]:
        return await self.rows(
            "SELECT subject_id, name_key, name, curriculum_hours FROM subjects "
            "WHERE school_id = $1 ORDER BY name_key",
            school_id,
        )

    async def timetable_of(self, school_id: UUID, timetable_id: UUID) -> dict[str, Any] | None:
        return await self.row(
            "SELECT * FROM timetables WHERE timetable_id = $1 AND school_id = $2",
            timetable_id,
            school_id,
        )

    async def lesson(self, school_id: UUID, lesson_id: UUID) -> dict[str, Any] | None:
        return await self.row(
            "SELECT * FROM lessons WHERE lesson_id = $1 AND school_id = $2", lesson_id, school_id
        )

    async def lessons(
        self,
        school_id: UUID,
        *,
        first_day: date,
        last_day: date,
        class_id: UUID | None = None,
        teacher_id: UUID | None = None,
        timetable_id: UUID | None = None,
        only_open: bool = False,
    ) -> list[dict[str, Any]]:
        """Lessons of a school between two days; ``teacher_id`` matches teacher or substitute."""
        return await self.rows(
            """SELECT * FROM lessons
               WHERE school_id = $1 AND lesson_date BETWEEN $2 AND $3
                 AND ($4::uuid IS NULL OR class_id = $4)
                 AND ($5::uuid IS NULL OR teacher_id = $5 OR substitute_teacher_id = $5)
                 AND ($6::uuid IS NULL OR timetable_id = $6)
                 AND (NOT $7 OR (NOT recorded AND NOT cancelled))
               ORDER BY lesson_date, starts_at, class_id""",
            school_id,
            first_day,
            last_day,
            class_id,
            teacher_id,
            timetable_id,
            only_open,
        )

    async def unrecorded_until(self, last_day: date) -> list[dict[str, Any]]:
        """Lessons on or before ``last_day`` with no record, not cancelled, not yet overdue."""
        return await self.rows(
            """SELECT lesson_id, school_id, lesson_date, grade_level FROM lessons
               WHERE lesson_date <= $1 AND NOT recorded AND NOT cancelled AND NOT overdue
               ORDER BY school_id, lesson_date""",
            last_day,
        )

    async def consultations(
        self, school_id: UUID, held_on: date, recorded_by: UUID | None
    ) -> list[dict[str, Any]]:
        return await self.rows(
            """SELECT * FROM consultations
               WHERE school_id = $1 AND held_on = $2 AND ($3::uuid IS NULL OR recorded_by = $3)
               ORDER BY consultation_id""",
            school_id,
            held_on,
            recorded_by,
        )

    async def briefing_types(self, school_id: UUID) -> list[dict[str, Any]]:
        return await self.rows(
            "SELECT briefing_type_id, name_key, name FROM briefing_types WHERE school_id = $1 "
            "ORDER BY name_key",
            school_id,
        )

    async def briefing_type(self, school_id: UUID, briefing_type_id: UUID) -> dict[str, Any] | None:
        return await self.row(
            "SELECT * FROM briefing_types WHERE briefing_type_id = $1 AND school_id = $2",
            briefing_type_id,
            school_id,
        )

    async def briefing(self, school_id: UUID, briefing_id: UUID) -> dict[str, Any] | None:
        return await self.row(
            "SELECT * FROM briefings WHERE briefing_id = $1 AND school_id = $2",
            briefing_id,
            school_id,
        )

    async def briefings_of_type(
        self, school_id: UUID, briefing_type_id: UUID
    ) -> list[dict[str, Any]]:
        return await self.rows(
            "SELECT briefing_id FROM briefings WHERE school_id = $1 AND briefing_type_id = $2 "
            "ORDER BY conducted_on",
            school_id,
            briefing_type_id,
        )
