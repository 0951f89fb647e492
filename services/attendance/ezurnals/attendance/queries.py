"""Reads: the school's facts from the read models, and attendance's own aggregates by student,
lesson and school. Every query is scoped by the caller's school."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import asyncpg
from fastapi import HTTPException

from ezurnals.attendance.domain import (
    ClassOfDay,
    ExcuseRecord,
    LessonAttendance,
    LessonContext,
    Relationships,
    StudentAbsences,
    daily_attendance,
    daily_attendance_csv,
)
from ezurnals.attendance.domain import lesson_attendance as lesson_streams
from ezurnals.attendance.domain import student_absences as student_streams
from ezurnals.attendance.domain.policy import AttendanceSettings
from ezurnals.attendance.domain.school_year import SchoolYearSpan, current_year
from ezurnals.shared.auth import Principal
from ezurnals.shared.auth.principal import ADMINISTRATION, Role
from ezurnals.shared.contracts.attendance import AbsenceExcused
from ezurnals.shared.contracts.base import Actor, EventEnvelope, IntegrationEvent, registry
from ezurnals.shared.contracts.identity import DEFAULT_TIME_ZONE
from ezurnals.shared.domain import Conflict, missing
from ezurnals.shared.eventstore import EventStore

STUDENT_FACTS = (
    "AbsenceRecorded",
    "AbsenceCorrected",
    "ExcuseAccepted",
    "AbsenceExcused",
    "AbsenceThresholdReached",
)


def read_models_missing() -> HTTPException:
    """The worker has not yet created the read models (a fresh deployment): retry shortly."""
    return HTTPException(
        503, "attendance is still loading the school's data; retry shortly", {"Retry-After": "2"}
    )


async def school_zone(conn: asyncpg.Connection, school_id: UUID) -> ZoneInfo:
    zone = await conn.fetchval("SELECT time_zone FROM rm.schools WHERE school_id = $1", school_id)
    return ZoneInfo(zone or DEFAULT_TIME_ZONE)


async def today_in_school(conn: asyncpg.Connection, school_id: UUID, now: dt.datetime) -> dt.date:
    return now.astimezone(await school_zone(conn, school_id)).date()


async def school_year(conn: asyncpg.Connection, school_id: UUID, today: dt.date) -> SchoolYearSpan:
    """The school's current year as identity defined it (see ``current_year``)."""
    rows = await conn.fetch(
        "SELECT school_year, calendar FROM rm.school_years WHERE school_id = $1", school_id
    )
    spans = (_span(r["school_year"], r["calendar"]) for r in rows)
    return current_year((span for span in spans if span is not None), today)


def _span(school_year: str, calendar: dict[str, Any]) -> SchoolYearSpan | None:
    """The year's first and last school day: an excuse must lie between them."""
    semesters = calendar.get("semesters") or []
    if not semesters:
        return None
    ends = [s["last_day"] for s in semesters] + [
        g["last_day"] for g in calendar.get("grade_end_dates") or []
    ]
    return SchoolYearSpan(
        school_year=school_year,
        first_day=dt.date.fromisoformat(min(s["first_day"] for s in semesters)),
        last_day=dt.date.fromisoformat(max(ends)),
    )


async def roster(conn: asyncpg.Connection, class_id: UUID, day: dt.date) -> frozenset[UUID]:
    """The students in the class on ``day``."""
    rows = await conn.fetch(
        """SELECT student_id FROM rm.enrolments WHERE class_id = $1 AND from_day <= $2
           AND (to_day IS NULL OR to_day >= $2)""",
        class_id,
        day,
    )
    return frozenset(r["student_id"] for r in rows)


@dataclass(frozen=True)
class Lesson:
    """A scheduled lesson as attendance knows it from lessons' events."""

    context: LessonContext
    teachers: frozenset[UUID]


async def lesson(conn: asyncpg.Connection, school_id: UUID, lesson_id: UUID) -> Lesson:
    """The lesson with its roster and entry deadline, or missing (another school's too)."""
    row = await conn.fetchrow(
        "SELECT * FROM rm.lessons WHERE lesson_id = $1 AND school_id = $2 "
        "AND lesson_date IS NOT NULL",
        lesson_id,
        school_id,
    )
    if row is None:
        raise missing("lesson", "lesson_id")
    if row["cancelled"]:
        raise Conflict("the lesson was cancelled; it has no attendance", field="lesson_id")
    zone = await school_zone(conn, school_id)
    day: dt.date = row["lesson_date"]
    deadline_at = await entry_deadline_time(conn, school_id, day, row["grade_level"])
    context = LessonContext(
        lesson_id=lesson_id,
        class_id=row["class_id"],
        date=day,
        starts_at=_instant(day, row["starts_at"], zone),
        ends_at=_instant(day, row["ends_at"], zone) if row["ends_at"] is not None else None,
        entry_deadline=_instant(day, deadline_at, zone) if deadline_at is not None else None,
        roster=await roster(conn, row["class_id"], day),
    )
    teachers = {row["teacher_id"], row["substitute_teacher_id"]} - {None}
    return Lesson(context, frozenset(teachers))


def _instant(day: dt.date, at: dt.time, zone: ZoneInfo) -> dt.datetime:
    return dt.datetime.combine(day, at, tzinfo=zone).astimezone(dt.UTC)


async def entry_deadline_time(
    conn: asyncpg.Connection, school_id: UUID, day: dt.date, grade_level: int
) -> dt.time | None:
    """The local time by which a lesson of ``grade_level`` on ``day`` is entered (rule 2), as
    the lessons service decided it (its ``EntryDeadlinePolicySet``, the seed rules among them
    from the school's registration); None while no version in force has arrived."""
    bands = await conn.fetchval(
        """SELECT bands FROM rm.entry_deadline_policies WHERE school_id = $1
           AND effective_from <= $2 ORDER BY effective_from DESC LIMIT 1""",
        school_id,
        day,
    )
    for band in bands or ():
        if band["first_grade"] <= grade_level <= band["last_grade"]:
            return dt.time.fromisoformat(band["deadline"])
    return None


async def relationships(
    conn: asyncpg.Connection,
    principal: Principal,
    today: dt.date,
    *,
    lesson: Lesson | None = None,
) -> Relationships:
    """The caller's relations in their school, from identity's facts — not the token alone, so
    a role removed or a guardianship restricted counts at once."""
    school, me = principal.school_id, principal.person_id
    staff_roles = set(
        await conn.fetchval(
            "SELECT roles FROM rm.staff WHERE school_id = $1 AND person_id = $2 AND employed",
            school,
            me,
        )
        or ()
    )
    confirmed = principal.roles & staff_roles
    homeroom_classes: frozenset[UUID] = frozenset()
    homeroom_students: frozenset[UUID] = frozenset()
    if staff_roles:
        rows = await conn.fetch(
            """SELECT DISTINCT ON (class_id) class_id, teacher_id FROM rm.class_teachers
               WHERE school_id = $1 AND valid_from <= $2
               ORDER BY class_id, valid_from DESC""",
            school,
            today,
        )
        homeroom_classes = frozenset(r["class_id"] for r in rows if r["teacher_id"] == me)
        for class_id in homeroom_classes:
            homeroom_students |= await roster(conn, class_id, today)
    children: set[UUID] = set()
    restricted: set[UUID] = set()
    if Role.GUARDIAN in principal.roles:
        for r in await conn.fetch(
            """SELECT student_id, restricted, coalesce(keeps_access, TRUE) AS keeps_access
               FROM rm.guardianships
               WHERE guardian_id = $1 AND school_id = $2 AND linked""",
            me,
            school,
        ):
            children.add(r["student_id"])
            if r["restricted"] or not r["keeps_access"]:
                restricted.add(r["student_id"])
    adult_since = None
    if Role.STUDENT in principal.roles:
        adult_since = await conn.fetchval(
            """SELECT adult_since FROM rm.adult_students
               WHERE student_id = $1 AND school_id = $2""",
            me,
            school,
        )
    taught = (
        frozenset({lesson.context.lesson_id})
        if lesson is not None and staff_roles and me in lesson.teachers
        else frozenset()
    )
    return Relationships(
        person_id=me,
        administration=bool(confirmed & ADMINISTRATION),
        taught_lessons=taught,
        homeroom_classes=homeroom_classes,
        homeroom_students=homeroom_students,
        children=frozenset(children),
        restricted_children=frozenset(restricted),
        adult_since=adult_since,
    )


async def student_in_school(conn: asyncpg.Connection, school_id: UUID, student_id: UUID) -> bool:
    return bool(
        await conn.fetchval(
            "SELECT 1 FROM rm.enrolments WHERE school_id = $1 AND student_id = $2 LIMIT 1",
            school_id,
            student_id,
        )
    )


async def lesson_dates(
    conn: asyncpg.Connection, school_id: UUID, lesson_ids: Sequence[UUID]
) -> dict[UUID, dt.date]:
    rows = await conn.fetch(
        """SELECT lesson_id, lesson_date FROM rm.lessons
           WHERE school_id = $1 AND lesson_id = ANY($2::uuid[])""",
        school_id,
        list(lesson_ids),
    )
    return {r["lesson_id"]: r["lesson_date"] for r in rows}


@dataclass(frozen=True)
class SchoolClass:
    class_id: UUID
    name: str
    roster: frozenset[UUID]


async def classes_on(conn: asyncpg.Connection, school_id: UUID, day: dt.date) -> list[SchoolClass]:
    """The school's classes with anyone enrolled on ``day``."""
    rows = await conn.fetch(
        """SELECT c.class_id, c.grade_level, c.label, array_agg(e.student_id) AS students
           FROM rm.classes c JOIN rm.enrolments e ON e.class_id = c.class_id
           WHERE c.school_id = $1 AND e.from_day <= $2 AND (e.to_day IS NULL OR e.to_day >= $2)
           GROUP BY c.class_id, c.grade_level, c.label""",
        school_id,
        day,
    )
    return [
        SchoolClass(r["class_id"], f"{r['grade_level']}.{r['label']}", frozenset(r["students"]))
        for r in rows
    ]


async def lessons_on(conn: asyncpg.Connection, school_id: UUID, day: dt.date) -> list[UUID]:
    rows = await conn.fetch(
        """SELECT lesson_id FROM rm.lessons
           WHERE school_id = $1 AND lesson_date = $2 AND NOT cancelled""",
        school_id,
        day,
    )
    return [r["lesson_id"] for r in rows]


async def daily_report_csv(conn: asyncpg.Connection, school_id: UUID, day: dt.date) -> str:
    """The school's daily attendance report for ``day`` as it stands now, as CSV."""
    classes = await classes_on(conn, school_id, day)
    lessons = await lessons_attendance(conn, await lessons_on(conn, school_id, day))
    rows = daily_attendance(
        day,
        [ClassOfDay(class_id=c.class_id, name=c.name, enrolled=len(c.roster)) for c in classes],
        lessons,
    )
    return daily_attendance_csv(day, rows)


# --- attendance's own aggregates ------------------------------------------------------------


def _parse(row: asyncpg.Record) -> IntegrationEvent:
    return registry.parse(row["event_type"], row["schema_version"], row["payload"])


def parsed(envelopes: Sequence[EventEnvelope]) -> list[IntegrationEvent]:
    return [envelope.parse() for envelope in envelopes]


async def load_stream(
    store: EventStore, stream_id: str, *, conn: asyncpg.Connection | None = None
) -> list[IntegrationEvent]:
    return parsed(await store.load(stream_id, conn=conn))


async def lesson_attendance(
    store: EventStore, lesson_id: UUID, *, conn: asyncpg.Connection | None = None
) -> LessonAttendance:
    stream = lesson_streams.stream_id_for(lesson_id)
    return LessonAttendance.rehydrate(stream, await load_stream(store, stream, conn=conn))


async def lessons_attendance(
    conn: asyncpg.Connection, lesson_ids: Sequence[UUID]
) -> list[LessonAttendance]:
    streams = [lesson_streams.stream_id_for(lesson_id) for lesson_id in lesson_ids]
    rows = await conn.fetch(
        """SELECT stream_id, event_type, schema_version, payload FROM events
           WHERE stream_id = ANY($1::text[]) ORDER BY stream_id, stream_version""",
        streams,
    )
    by_stream: dict[str, list[IntegrationEvent]] = {}
    for row in rows:
        by_stream.setdefault(row["stream_id"], []).append(_parse(row))
    return [LessonAttendance.rehydrate(s, events) for s, events in by_stream.items()]


async def students_absences(
    conn: asyncpg.Connection, school_id: UUID, student_ids: Iterable[UUID]
) -> dict[UUID, StudentAbsences]:
    """Each student's absences, folded from every stream that states a fact about them."""
    ids = sorted(set(student_ids))
    students = {s: StudentAbsences(student_streams.stream_id_for(s)) for s in ids}
    rows = await conn.fetch(
        """SELECT event_type, schema_version, payload FROM events
           WHERE payload ? 'student_id' AND payload->>'student_id' = ANY($1::text[])
             AND school_id = $2 AND event_type = ANY($3::text[])
           ORDER BY tx_id, position""",
        [str(s) for s in ids],
        school_id,
        list(STUDENT_FACTS),
    )
    for row in rows:
        event = _parse(row)
        student: Any = getattr(event, "student_id", None)
        if student in students:
            students[student].apply(event)
    return students


async def excuse_history(
    conn: asyncpg.Connection,
    school_id: UUID,
    student_ids: Iterable[UUID],
    *,
    lesson_id: UUID | None = None,
) -> list[ExcuseRecord]:
    """Every excuse of these students' absences (of one lesson's, if given), oldest first, with
    its actor and time as the event store keeps them. Excuses live only in each student's
    absences stream, so this reads those streams by key, not the school's whole store."""
    rows = await conn.fetch(
        """SELECT event_type, schema_version, payload, occurred_at, actor FROM events
           WHERE stream_id = ANY($1::text[]) AND event_type = 'AbsenceExcused'
             AND school_id = $2 AND ($3::text IS NULL OR payload->>'lesson_id' = $3)
           ORDER BY tx_id, position""",
        [student_streams.stream_id_for(s) for s in student_ids],
        school_id,
        None if lesson_id is None else str(lesson_id),
    )
    history = []
    for row in rows:
        event = _parse(row)
        if not isinstance(event, AbsenceExcused):
            continue
        actor = Actor.model_validate(row["actor"])
        history.append(
            ExcuseRecord(
                **event.model_dump(),
                excused_as=actor.role if actor.id == event.excused_by else None,
                excused_at=row["occurred_at"],
            )
        )
    return history


async def attendance_settings(
    store: EventStore, school_id: UUID, *, conn: asyncpg.Connection | None = None
) -> AttendanceSettings:
    """``conn``: a connection the caller holds, so the read needs no checkout of its own."""
    stream = settings_stream_id(school_id)
    return AttendanceSettings.rehydrate(stream, await load_stream(store, stream, conn=conn))


def settings_stream_id(school_id: UUID) -> str:
    return f"attendance-settings-{school_id}"


async def excuse_requests(
    conn: asyncpg.Connection, school_id: UUID, student_ids: Iterable[UUID]
) -> list[dict[str, Any]]:
    rows = await conn.fetch(
        """SELECT request_id, student_id, status, document_type, reason, covers_from, covers_to,
                  lesson_ids, attachment_id, submitted_by, submitted_as, submitted_at,
                  decided_by, decided_at, rejection_reason
           FROM excuse_requests WHERE school_id = $1 AND student_id = ANY($2::uuid[])
           ORDER BY submitted_at DESC""",
        school_id,
        list(student_ids),
    )
    return [dict(r.items()) for r in rows]


async def students_of_school(conn: asyncpg.Connection, school_id: UUID) -> list[UUID]:
    rows = await conn.fetch(
        "SELECT DISTINCT student_id FROM rm.enrolments WHERE school_id = $1", school_id
    )
    return [r["student_id"] for r in rows]


async def class_members_ever(conn: asyncpg.Connection, class_id: UUID) -> list[UUID]:
    """Everyone who has been in the class, so absences from before a move still show."""
    rows = await conn.fetch(
        "SELECT DISTINCT student_id FROM rm.enrolments WHERE class_id = $1", class_id
    )
    return [r["student_id"] for r in rows]


async def stored_daily_reports(
    conn: asyncpg.Connection, school_id: UUID, limit: int
) -> list[asyncpg.Record]:
    rows: list[asyncpg.Record] = await conn.fetch(
        """SELECT report_date, generated_at FROM daily_reports WHERE school_id = $1
           ORDER BY report_date DESC LIMIT $2""",
        school_id,
        limit,
    )
    return rows


async def stored_daily_report(
    conn: asyncpg.Connection, school_id: UUID, day: dt.date
) -> str | None:
    content: str | None = await conn.fetchval(
        "SELECT csv FROM daily_reports WHERE school_id = $1 AND report_date = $2", school_id, day
    )
    return content
