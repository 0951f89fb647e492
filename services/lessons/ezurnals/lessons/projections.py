"""Read models: identity's facts the lessons service decides with (consumed by the worker into
``rm.*``), and the service's own query tables (kept inline, by the append's own statement).

Identity owns schools, calendars, classes, rosters and staffing; this service keeps only the ids
and dates it needs to authorise and to plan — never names.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import asyncpg

from ezurnals.shared.contracts import lessons as ev
from ezurnals.shared.contracts.base import EventEnvelope, IntegrationEvent
from ezurnals.shared.eventstore import SqlProjection, appended, row_of
from ezurnals.shared.messaging.directory import Directory, Part
from ezurnals.shared.messaging.projection import Projection
from ezurnals.shared.settings import Settings


class LessonsDirectory(Directory):
    """The school's time zone, calendars, classes, rosters, staff and who teaches what."""

    parts = frozenset(
        {
            Part.SCHOOLS,
            Part.SCHOOL_YEARS,
            Part.CLASSES,
            Part.ENROLMENTS,
            Part.STAFF,
            Part.CLASS_TEACHERS,
            Part.TEACHING,
        }
    )


def projections(_: Settings) -> list[Projection]:
    return [LessonsDirectory()]


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


async def _subject(conn: asyncpg.Connection, e: ev.SubjectDefined) -> None:
    await conn.execute(
        f"INSERT INTO subjects VALUES ($1, $2, $3, $4, $5) {_SUBJECT}",
        e.subject_id,
        e.school_id,
        e.name_key,
        e.name,
        json.dumps({str(k): v for k, v in e.curriculum_hours.items()}),
    )


async def _timetable(conn: asyncpg.Connection, e: ev.TimetableOpened) -> None:
    await conn.execute(
        "INSERT INTO timetables VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
        e.timetable_id,
        e.school_id,
        e.class_id,
        e.school_year,
        e.grade_level,
    )


async def _scheduled(conn: asyncpg.Connection, e: ev.LessonScheduled) -> None:
    await conn.execute(
        _SCHEDULE.format(rows="VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"),
        e.lesson_id,
        e.school_id,
        e.timetable_id,
        e.slot_id,
        e.class_id,
        e.subject_id,
        e.teacher_id,
        e.lesson_date,
        e.starts_at,
        e.ends_at,
        e.period,
        e.room,
        e.grade_level,
    )


async def _record(
    conn: asyncpg.Connection, e: ev.LessonRecorded | ev.LessonRecordCorrected
) -> None:
    homework = e.homework.model_dump_json() if e.homework is not None else None
    await conn.execute(
        f"UPDATE lessons SET {_RECORD.format('$2', '$3', '$4')} WHERE lesson_id = $1",
        e.lesson_id,
        e.topic,
        homework,
        e.no_homework,
    )
    if isinstance(e, ev.LessonRecorded):
        await conn.execute(
            "UPDATE lessons SET late = $2, minutes_late = $3 WHERE lesson_id = $1",
            e.lesson_id,
            e.late,
            e.minutes_late,
        )


async def _briefing(conn: asyncpg.Connection, e: ev.BriefingConducted) -> None:
    await conn.execute(
        "INSERT INTO briefings VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING",
        e.briefing_id,
        e.school_id,
        e.briefing_type_id,
        e.class_id,
        list(e.student_ids),
        e.conducted_on,
        e.conducted_by,
        e.topic,
    )


async def _consultation(conn: asyncpg.Connection, e: ev.ConsultationRecorded) -> None:
    await conn.execute(
        "INSERT INTO consultations VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING",
        e.consultation_id,
        e.school_id,
        str(e.kind),
        list(e.participant_ids),
        e.summary,
        e.held_on,
        e.recorded_by,
        e.override_reason,
    )


async def _other(conn: asyncpg.Connection, e: IntegrationEvent) -> None:
    if isinstance(e, ev.LessonSubstituted):
        await conn.execute(
            "UPDATE lessons SET substitute_teacher_id = $2 WHERE lesson_id = $1",
            e.lesson_id,
            e.substitute_teacher_id,
        )
    elif isinstance(e, ev.LessonCancelled):
        await conn.execute(
            "UPDATE lessons SET cancelled = true, cancel_reason = $2 WHERE lesson_id = $1",
            e.lesson_id,
            e.reason,
        )
    elif isinstance(e, ev.LessonEntryOverdue):
        await conn.execute("UPDATE lessons SET overdue = true WHERE lesson_id = $1", e.lesson_id)
    elif isinstance(e, ev.BriefingTypeDefined):
        await conn.execute(
            f"INSERT INTO briefing_types VALUES ($1, $2, $3, $4) {_BRIEFING_TYPE}",
            e.briefing_type_id,
            e.school_id,
            e.name_key,
            e.name,
        )
    elif isinstance(e, ev.BriefingAcknowledged):
        await conn.execute(
            "INSERT INTO briefing_acknowledgements VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
            e.briefing_id,
            e.student_id,
            str(e.how),
            e.recorded_by,
        )


async def update_views(conn: asyncpg.Connection, envelopes: Sequence[EventEnvelope]) -> None:
    """Bring the query tables up to date with freshly appended events (same transaction).

    The reference for ``VIEWS``, whose SQL does the same inside the append's statement."""
    for envelope in envelopes:
        event = envelope.parse()
        if isinstance(event, ev.SubjectDefined):
            await _subject(conn, event)
        elif isinstance(event, ev.TimetableOpened):
            await _timetable(conn, event)
        elif isinstance(event, ev.LessonScheduled):
            await _scheduled(conn, event)
        elif isinstance(event, ev.LessonRecorded | ev.LessonRecordCorrected):
            await _record(conn, event)
        elif isinstance(event, ev.BriefingConducted):
            await _briefing(conn, event)
        elif isinstance(event, ev.ConsultationRecorded):
            await _consultation(conn, event)
        else:
            await _other(conn, event)


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

#: ``update_views`` as the handlers register it: done by the append's own statement for every
#: batch where no two events write one row (a lesson substituted and recorded in one command,
#: say, takes ``update_views``).
VIEWS = SqlProjection(
    update_views,
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
