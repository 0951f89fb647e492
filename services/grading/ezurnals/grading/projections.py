"""Read models: what grading must know of identity and lessons, and its own grade views.

Identity's and lessons' facts are projected by the worker into the read-model schema (``rm``);
the grading service's own events are applied inline to the tables of ``migrations/``, by the
append's own statement (``OWN_VIEWS``), so a teacher sees a grade the moment it is recorded.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import asyncpg

from ezurnals.shared.contracts.base import EventEnvelope, JsonDict
from ezurnals.shared.contracts.grading import (
    GradeCorrected,
    GradeFinalized,
    GradeRecorded,
    PeriodFinalized,
    PeriodGradeSet,
    PeriodUnlocked,
)
from ezurnals.shared.eventstore import SqlProjection, appended, row_of
from ezurnals.shared.messaging.directory import Directory, Part
from ezurnals.shared.messaging.lessons_facts import LessonPart, LessonsFacts
from ezurnals.shared.messaging.projection import Projection
from ezurnals.shared.settings import Settings


class GradingDirectory(Directory):
    """Schools, calendars, classes, rolls, staffing and families: who may see and grade whom."""

    parts = frozenset(
        {
            Part.SCHOOLS,
            Part.SCHOOL_YEARS,
            Part.CLASSES,
            Part.ENROLMENTS,
            Part.GUARDIANSHIPS,
            Part.STAFF,
            Part.CLASS_TEACHERS,
            Part.TEACHING,
        }
    )


class LessonsCatalog(LessonsFacts):
    """Subjects (for names on the views) and lessons (a grade may be given for a lesson)."""

    parts = frozenset({LessonPart.SUBJECTS, LessonPart.LESSONS})


def all(_: Settings) -> list[Projection]:
    return [GradingDirectory(), LessonsCatalog()]


# --- the service's own views, applied inline --------------------------------------------------


_GRADE_COLUMNS = """grade_id, school_id, class_id, subject_id, school_year, student_id, lesson_id,
        term, given_on, work_title, work_kind, summative, weight, scale, value, points,
        recorded_by, recorded_at"""
_INSERT_GRADE = f"""INSERT INTO grade_entries ({_GRADE_COLUMNS})
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)"""
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


async def apply_own(conn: asyncpg.Connection, envelopes: Sequence[EventEnvelope]) -> None:
    """Keep grade_entries, period_grade_entries and class_subject_periods in step with events.

    The reference for ``OWN_VIEWS``, whose SQL does the same inside the append's statement.
    A class's grades for one piece of work come as one event per student: they are inserted in
    one pipelined batch, not a round trip each."""
    recorded: list[tuple[Any, ...]] = []
    for envelope in envelopes:
        event = envelope.parse()
        if isinstance(event, GradeRecorded):
            recorded.append(
                (
                    event.grade_id, event.school_id, event.class_id, event.subject_id,
                    event.school_year, event.student_id, event.lesson_id, event.term.value,
                    event.given_on, event.work_title, event.work_kind.value, event.summative,
                    event.weight, event.scale.value, event.value, event.points,
                    event.recorded_by, event.recorded_at,
                )
            )  # fmt: skip
            continue
        if recorded:
            await conn.executemany(_INSERT_GRADE, recorded)
            recorded = []
        match event:
            case GradeCorrected():
                entry = {
                    "old_value": event.old_value,
                    "new_value": event.new_value,
                    "reason": event.reason,
                    "corrected_by": str(event.corrected_by),
                    "corrected_at": event.corrected_at.isoformat(),
                }
                await conn.execute(
                    _CORRECT_GRADE.format(value="$2", points="$3", scale="$4", entry="$5::jsonb")
                    + " WHERE grade_id = $1",
                    event.grade_id,
                    event.new_value,
                    event.new_points,
                    event.scale.value,
                    json.dumps(entry),
                )
            case PeriodGradeSet():
                await conn.execute(
                    f"""INSERT INTO period_grade_entries VALUES
                           ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, false)
                       {_SET_PERIOD_GRADE}""",
                    event.school_id, event.class_id, event.subject_id, event.school_year,
                    event.period.value, event.student_id, event.scale.value, event.value,
                    event.points, event.suggested_value, event.overridden, event.set_by,
                    event.set_at,
                )  # fmt: skip
            case GradeFinalized():
                await conn.execute(
                    """UPDATE period_grade_entries SET final = true
                       WHERE class_id = $1 AND subject_id = $2 AND school_year = $3
                         AND period = $4 AND student_id = $5""",
                    event.class_id,
                    event.subject_id,
                    event.school_year,
                    event.period.value,
                    event.student_id,
                )
            case PeriodFinalized():
                await conn.execute(
                    _FINALIZE_PERIOD.format(rows="VALUES ($1, $2, $3, $4, $5, true, $6, $7)"),
                    event.school_id, event.class_id, event.subject_id, event.school_year,
                    event.period.value, event.finalized_by, event.finalized_at,
                )  # fmt: skip
            case PeriodUnlocked():
                unlock = {
                    "reason": event.reason,
                    "unlocked_by": str(event.unlocked_by),
                    "unlocked_at": event.unlocked_at.isoformat(),
                }
                await conn.execute(
                    _UNLOCK_PERIOD.format(entry="$5::jsonb")
                    + """ WHERE class_id = $1 AND subject_id = $2 AND school_year = $3
                            AND period = $4""",
                    event.class_id,
                    event.subject_id,
                    event.school_year,
                    event.period.value,
                    json.dumps(unlock),
                )
                await conn.execute(
                    """UPDATE period_grade_entries SET final = false
                       WHERE class_id = $1 AND subject_id = $2 AND school_year = $3
                         AND period = $4""",
                    event.class_id,
                    event.subject_id,
                    event.school_year,
                    event.period.value,
                )
    if recorded:
        await conn.executemany(_INSERT_GRADE, recorded)


def _isoformat(field: str) -> str:
    """The payload's instant as ``datetime.isoformat()`` writes it, as ``apply_own`` stores it
    (pydantic writes UTC as ``Z``, isoformat as ``+00:00``; the rest is alike)."""
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


#: ``apply_own`` as it is registered with the handlers: done by the append's own statement for
#: every batch where no two events write one row (a correction of a grade recorded in the same
#: batch, say, takes ``apply_own``).
OWN_VIEWS = SqlProjection(
    apply_own,
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
