"""Read-model queries: identity's facts (``rm.*``, projected by the worker) and the service's own
query tables. Every query is scoped by school; a row of another school is simply not found."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol, TypeVar
from uuid import UUID
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import asyncpg

from ezurnals.lessons.domain import (
    Briefing,
    DeadlinePolicy,
    DeadlineSchedule,
    Lesson,
    SchoolCalendar,
    Timetable,
    TimetableImportReport,
    current_calendar,
    read_timetable_csv,
)
from ezurnals.lessons.streams import briefing_stream, lesson_stream, policy_stream, timetable_stream
from ezurnals.shared.contracts.base import EventEnvelope
from ezurnals.shared.contracts.identity import DEFAULT_TIME_ZONE, SchoolYearDefined
from ezurnals.shared.contracts.lessons import LessonsEvent
from ezurnals.shared.contracts.school_year import spelled
from ezurnals.shared.db import Database, row_dict
from ezurnals.shared.domain import Aggregate, NotFound, missing
from ezurnals.shared.eventstore import EventStore
from ezurnals.shared.messaging.projection import schema_name
from ezurnals.shared.service import Runtime


@dataclass(frozen=True)
class SchoolClass:
    class_id: UUID
    school_id: UUID
    school_year: str
    grade_level: int
    label: str


class Facts(Protocol):
    """What the handlers read to decide, besides the streams they decide on: the ``facts`` of
    their unit of work. ``Reader`` is the real one; handler tests give an in-memory one."""

    async def zone(self, school_id: UUID) -> ZoneInfo: ...

    async def rules(self, school_id: UUID) -> tuple[DeadlineSchedule, ZoneInfo]: ...

    async def calendar(self, school_id: UUID, school_year: str) -> SchoolCalendar | None: ...

    async def calendars(self, school_id: UUID) -> list[SchoolCalendar]: ...

    async def school_class(self, school_id: UUID, class_id: UUID) -> SchoolClass | None: ...

    async def staff(self, school_id: UUID) -> list[UUID]: ...

    async def strangers(self, school_id: UUID, people: Sequence[UUID]) -> list[UUID]: ...

    async def teaches(
        self,
        class_id: UUID,
        person_id: UUID,
        on: date,
        *,
        subject_id: UUID | None = None,
        substitute: bool | None = None,
    ) -> bool: ...

    async def subjects(self, school_id: UUID) -> list[dict[str, Any]]: ...

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
    ) -> list[dict[str, Any]]: ...

    async def briefing_types(self, school_id: UUID) -> list[dict[str, Any]]: ...

    async def briefing_type(
        self, school_id: UUID, briefing_type_id: UUID
    ) -> dict[str, Any] | None: ...


A = TypeVar("A", bound=Aggregate[LessonsEvent])


def rehydrated(kind: type[A], stream_id: str, envelopes: Sequence[EventEnvelope]) -> A:
    return kind.rehydrate(stream_id, [e.parse() for e in envelopes])


async def load(store: EventStore, kind: type[A], stream_id: str) -> A:
    """An aggregate read whole from the store, for a read that answers from it."""
    return rehydrated(kind, stream_id, await store.load(stream_id))


def lesson_in_school(lesson: Lesson, school_id: UUID) -> Lesson:
    """The lesson, if it is this school's: another school's lesson is not found either."""
    if lesson.plan is None or lesson.plan.school_id != school_id:
        raise missing("lesson", "lesson_id")
    return lesson


def timetable_in_school(timetable: Timetable, school_id: UUID) -> Timetable:
    if timetable.opened is None or timetable.opened.school_id != school_id:
        raise NotFound("no such timetable", field="timetable_id")
    return timetable


def briefing_in_school(briefing: Briefing, school_id: UUID) -> Briefing:
    if briefing.conducted is None or briefing.conducted.school_id != school_id:
        raise NotFound("no such briefing", field="briefing_id")
    return briefing


async def timetable_report(facts: Facts, school_id: UUID, text: str) -> TimetableImportReport:
    """A timetable CSV read against the school: subjects by name key, teachers by their person
    id (identity shares ids, not names)."""
    subjects = {s["name_key"]: s["subject_id"] for s in await facts.subjects(school_id)}
    teachers = {str(person): person for person in await facts.staff(school_id)}
    return read_timetable_csv(text, subjects, teachers)


class Reader:
    """Queries over one service database. Identity's tables may not exist before the worker first
    ran; until then they read as empty (nothing is known about the school yet).

    A reader remembers each school's deadline rules it read (``rules``): one per command, or
    one for a whole pass of the overdue job."""

    def __init__(self, db: Database, read_model_schema: str, store: EventStore) -> None:
        self.db = db
        self.rm = schema_name(read_model_schema)
        self.store = store
        self._rules: dict[UUID, tuple[DeadlineSchedule, ZoneInfo]] = {}

    @classmethod
    def of(cls, runtime: Runtime) -> Reader:
        return cls(runtime.db, runtime.settings.read_model_schema, runtime.store)

    # --- the service's own streams, read whole ---------------------------------------------------

    async def deadline_schedule(self, school_id: UUID) -> DeadlineSchedule:
        """The school's entry-deadline policy versions over the seed rules."""
        return (await load(self.store, DeadlinePolicy, policy_stream(school_id))).schedule

    async def rules(self, school_id: UUID) -> tuple[DeadlineSchedule, ZoneInfo]:
        """The school's deadline policy and time zone."""
        if school_id not in self._rules:
            self._rules[school_id] = (
                await self.deadline_schedule(school_id),
                await self.zone(school_id),
            )
        return self._rules[school_id]

    async def lesson_of(self, school_id: UUID, lesson_id: UUID) -> Lesson:
        """The lesson of this school, or 404."""
        lesson = await load(self.store, Lesson, lesson_stream(lesson_id))
        return lesson_in_school(lesson, school_id)

    async def timetable_of_school(self, school_id: UUID, timetable_id: UUID) -> Timetable:
        """The timetable of this school, or 404."""
        timetable = await load(self.store, Timetable, timetable_stream(timetable_id))
        return timetable_in_school(timetable, school_id)

    async def briefing_of(self, school_id: UUID, briefing_id: UUID) -> Briefing:
        """The briefing of this school, or 404."""
        briefing = await load(self.store, Briefing, briefing_stream(briefing_id))
        return briefing_in_school(briefing, school_id)

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

    async def calendars(self, school_id: UUID) -> list[SchoolCalendar]:
        """Every school year identity has defined for the school."""
        found = await self.rows(
            "SELECT calendar FROM rm.school_years WHERE school_id = $1", school_id
        )
        return [
            SchoolCalendar.from_school_year(SchoolYearDefined.model_validate(r["calendar"]))
            for r in found
        ]

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

    async def strangers(self, school_id: UUID, people: Sequence[UUID]) -> list[UUID]:
        """Those of ``people`` who are none of the school's students, guardians or staff."""
        rows = await self.rows(
            """SELECT p FROM unnest($2::uuid[]) AS p
               WHERE NOT EXISTS (SELECT 1 FROM rm.enrolments e
                                 WHERE e.school_id = $1 AND e.student_id = p)
                 AND NOT EXISTS (SELECT 1 FROM rm.guardianships g
                                 WHERE g.school_id = $1 AND g.guardian_id = p)
                 AND NOT EXISTS (SELECT 1 FROM rm.staff s
                                 WHERE s.school_id = $1 AND s.person_id = p)""",
            school_id,
            list(people),
        )
        return [r["p"] for r in rows]

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


async def briefing_calendar(
    facts: Facts, school_id: UUID, class_id: UUID | None, today: date
) -> SchoolCalendar | None:
    """The school year a briefing falls in: its class's, or for a group the current one."""
    if class_id is not None:
        found = await facts.school_class(school_id, class_id)
        if found is not None:
            return await facts.calendar(school_id, found.school_year)
    return current_calendar(await facts.calendars(school_id), today)
