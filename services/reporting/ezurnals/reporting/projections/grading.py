"""Grades with their corrections, period grades, and which of them are final."""

from __future__ import annotations

from typing import Any, ClassVar

from ezurnals.reporting.domain.calendar import school_year
from ezurnals.reporting.projections.base import SqlProjection, Statement
from ezurnals.shared.contracts import grading as ev
from ezurnals.shared.contracts.base import EventEnvelope
from ezurnals.shared.messaging.notices import notice_ddl


class GradeBook(SqlProjection):
    sources = ("grading",)
    event_types = frozenset(
        {"GradeRecorded", "GradeCorrected", "PeriodGradeSet", "GradeFinalized", "PeriodUnlocked"}
    )
    ddl: ClassVar[tuple[str, ...]] = (
        """CREATE TABLE IF NOT EXISTS grades (
               grade_id UUID PRIMARY KEY, school_id UUID NOT NULL, class_id UUID NOT NULL,
               subject_id UUID NOT NULL, school_year TEXT NOT NULL, student_id UUID NOT NULL,
               lesson_id UUID, term TEXT NOT NULL, given_on DATE NOT NULL,
               work_title TEXT NOT NULL, work_kind TEXT NOT NULL, summative BOOLEAN NOT NULL,
               scale TEXT NOT NULL, value TEXT NOT NULL, points INTEGER,
               earlier_values TEXT[] NOT NULL DEFAULT '{}')""",
        "CREATE INDEX IF NOT EXISTS grades_student_day ON grades (student_id, given_on)",
        "CREATE INDEX IF NOT EXISTS grades_school_day ON grades (school_id, given_on)",
        """CREATE TABLE IF NOT EXISTS period_grades (
               student_id UUID NOT NULL, class_id UUID NOT NULL, subject_id UUID NOT NULL,
               school_year TEXT NOT NULL, period TEXT NOT NULL, school_id UUID NOT NULL,
               scale TEXT NOT NULL, value TEXT NOT NULL, points INTEGER,
               overridden BOOLEAN NOT NULL,
               PRIMARY KEY (student_id, class_id, subject_id, school_year, period))""",
        """CREATE TABLE IF NOT EXISTS final_grades (
               student_id UUID NOT NULL, class_id UUID NOT NULL, subject_id UUID NOT NULL,
               school_year TEXT NOT NULL, period TEXT NOT NULL, school_id UUID NOT NULL,
               scale TEXT NOT NULL, value TEXT NOT NULL, points INTEGER,
               year_grade_type TEXT, finalized_at TIMESTAMPTZ NOT NULL,
               PRIMARY KEY (student_id, class_id, subject_id, school_year, period))""",
        "CREATE INDEX IF NOT EXISTS final_grades_class ON final_grades (class_id, school_year)",
        # The diary kept in memory by the API is forgotten when its rows change.
        *notice_ddl("grades", "student", "student_id"),
    )

    RECORDED = """INSERT INTO grades (grade_id, school_id, class_id, subject_id, school_year,
                      student_id, lesson_id, term, given_on, work_title, work_kind, summative,
                      scale, value, points)
                  VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
                  ON CONFLICT (grade_id) DO NOTHING"""
    CORRECTED = """UPDATE grades SET value = $2, points = $3, scale = $4,
                       earlier_values = earlier_values || $5::text
                   WHERE grade_id = $1"""
    PERIOD = """INSERT INTO period_grades (student_id, class_id, subject_id, school_year, period,
                    school_id, scale, value, points, overridden)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
                ON CONFLICT (student_id, class_id, subject_id, school_year, period)
                DO UPDATE SET scale = excluded.scale, value = excluded.value,
                    points = excluded.points, overridden = excluded.overridden"""
    FINAL = """INSERT INTO final_grades (student_id, class_id, subject_id, school_year, period,
                   school_id, scale, value, points, year_grade_type, finalized_at)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
               ON CONFLICT (student_id, class_id, subject_id, school_year, period)
               DO UPDATE SET scale = excluded.scale, value = excluded.value,
                   points = excluded.points, year_grade_type = excluded.year_grade_type,
                   finalized_at = excluded.finalized_at"""
    UNLOCKED = """DELETE FROM final_grades
                  WHERE class_id = $1 AND subject_id = $2 AND school_year = $3 AND period = $4"""

    def on_GradeRecorded(self, _: EventEnvelope, e: Any) -> list[Statement]:
        assert isinstance(e, ev.GradeRecorded)
        row = (
            e.grade_id,
            e.school_id,
            e.class_id,
            e.subject_id,
            school_year(e.school_year),
            e.student_id,
            e.lesson_id,
            str(e.term),
            e.given_on,
            e.work_title,
            str(e.work_kind),
            e.summative,
            str(e.scale),
            e.value,
            e.points,
        )
        return [(self.RECORDED, row)]

    def on_GradeCorrected(self, _: EventEnvelope, e: Any) -> list[Statement]:
        assert isinstance(e, ev.GradeCorrected)
        return [
            (self.CORRECTED, (e.grade_id, e.new_value, e.new_points, str(e.scale), e.old_value))
        ]

    def on_PeriodGradeSet(self, _: EventEnvelope, e: Any) -> list[Statement]:
        assert isinstance(e, ev.PeriodGradeSet)
        row = (
            e.student_id,
            e.class_id,
            e.subject_id,
            school_year(e.school_year),
            str(e.period),
            e.school_id,
            str(e.scale),
            e.value,
            e.points,
            e.overridden,
        )
        return [(self.PERIOD, row)]

    def on_GradeFinalized(self, _: EventEnvelope, e: Any) -> list[Statement]:
        assert isinstance(e, ev.GradeFinalized)
        kind = str(e.year_grade_type) if e.year_grade_type else None
        row = (
            e.student_id,
            e.class_id,
            e.subject_id,
            school_year(e.school_year),
            str(e.period),
            e.school_id,
            str(e.scale),
            e.value,
            e.points,
            kind,
            e.finalized_at,
        )
        return [(self.FINAL, row)]

    def on_PeriodUnlocked(self, _: EventEnvelope, e: Any) -> list[Statement]:
        assert isinstance(e, ev.PeriodUnlocked)
        return [
            (self.UNLOCKED, (e.class_id, e.subject_id, school_year(e.school_year), str(e.period)))
        ]
