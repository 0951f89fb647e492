"""Read models: what grading must know of identity and lessons, and its own grade views.

Identity's and lessons' facts are projected by the worker into the read-model schema (``rm``);
the grading service's own events are applied inline to the tables of ``migrations/``, by the
append's own statement (``OWN_VIEWS``), so a teacher sees a grade the moment it is recorded.
"""

from __future__ import annotations

from ezurnals.grading.domain.semester_grades import SemesterGradesUsageSet
from ezurnals.shared.contracts.base import JsonDict
from ezurnals.shared.contracts.grading import (
    GradeCorrected,
    GradeFinalized,
    GradeRecorded,
    GradeScaleDefined,
    PeriodFinalized,
    PeriodGradeDeadlineSet,
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


def _isoformat(field: str) -> str:
    """The payload's instant as ``datetime.isoformat()`` writes it, as the views have always
    kept it (pydantic writes UTC as ``Z``, isoformat as ``+00:00``; the rest is alike)."""
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


#: The grade views, as the handlers register them: done by the append's own statement for every
#: batch where no two events write one row (a correction of a grade recorded in the same batch,
#: say, is applied after the append, in order, in its transaction).
OWN_VIEWS = SqlProjection(
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


def _deadline_row(payload: JsonDict) -> list[tuple[str, ...]]:
    band = payload.get("band")
    key = "" if band is None else f"{band['first']}-{band['last']}"
    school_year = str(payload["school_year"])
    return [
        ("period_grade_deadlines", str(payload["school_id"]), school_year, payload["period"], key)
    ]


#: The policy's views (``migrations/0003_policy_views.sql``), kept by the policy commands' append.
POLICY_VIEWS = SqlProjection(
    ctes={
        "scales_defined": f"""INSERT INTO grade_scales (scale_id, school_id, definition)
            SELECT r.scale_id, r.school_id, e.payload {appended(GradeScaleDefined, "grade_scales")}
            ON CONFLICT (scale_id) DO UPDATE SET definition = excluded.definition""",
        "deadlines_set": f"""INSERT INTO period_grade_deadlines
            SELECT r.school_id, r.school_year, r.period,
                   coalesce((e.payload->'band'->>'first') || '-' || (e.payload->'band'->>'last'),
                            ''),
                   e.payload
            {appended(PeriodGradeDeadlineSet, "period_grade_deadlines")}
            ON CONFLICT (school_id, school_year, period, band_key)
            DO UPDATE SET deadline = excluded.deadline""",
        "semester_grades_usage_set": f"""INSERT INTO semester_grades_usage
            SELECT r.school_id, r.used {appended(SemesterGradesUsageSet, "semester_grades_usage")}
            ON CONFLICT (school_id) DO UPDATE SET used = excluded.used""",
    },
    writes={
        GradeScaleDefined: row_of("grade_scales", "scale_id"),
        PeriodGradeDeadlineSet: _deadline_row,
        SemesterGradesUsageSet: row_of("semester_grades_usage", "school_id"),
    },
)
