"""Read models: identity's facts the lessons service decides with (consumed by the worker into
``rm.*``), and the service's own query tables (kept inline, by the append's own statement).

Identity owns schools, calendars, classes, rosters and staffing; this service keeps only the ids
and dates it needs to authorise and to plan — never names.
"""

from __future__ import annotations

from ezurnals.shared.contracts import lessons as ev
from ezurnals.shared.contracts.base import IntegrationEvent
from ezurnals.shared.eventstore import SqlProjection, appended, row_of
from ezurnals.shared.messaging.directory import Directory, Part
from ezurnals.shared.messaging.projection import Projection
from ezurnals.shared.settings import Settings


class LessonsDirectory(Directory):
    """The school's time zone, calendars, classes, rosters, families, staff and who teaches
    what."""

    parts = frozenset(
        {
            Part.SCHOOLS,
            Part.GUARDIANSHIPS,
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
