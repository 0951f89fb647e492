"""Reporting's read models, built from every other service's events (schema ``rm``)."""

from __future__ import annotations

from ezurnals.reporting.projections.attendance import AttendanceRegister
from ezurnals.reporting.projections.grading import GradeBook
from ezurnals.reporting.projections.identity import SchoolDirectory
from ezurnals.reporting.projections.lessons import LessonJournal
from ezurnals.shared.messaging.projection import Projection
from ezurnals.shared.settings import Settings


def all_projections(_: Settings) -> list[Projection]:
    return [SchoolDirectory(), LessonJournal(), AttendanceRegister(), GradeBook()]


__all__ = ["AttendanceRegister", "GradeBook", "LessonJournal", "SchoolDirectory", "all_projections"]
