"""Reporting's read models, built from every other service's events (schema ``rm``)."""

from __future__ import annotations

from ezurnals.reporting.projections.attendance import AttendanceRegister
from ezurnals.reporting.projections.grading import GradeBook
from ezurnals.reporting.projections.identity import SchoolDirectory
from ezurnals.reporting.projections.lessons import LessonJournal
from ezurnals.reporting.projections.notifications import NotificationFeed
from ezurnals.shared.messaging.projection import Projection
from ezurnals.shared.settings import Settings


def all_projections(_: Settings) -> list[Projection]:
    """The notification feed comes last: it reads the marks the register has just applied."""
    return [
        SchoolDirectory(),
        LessonJournal(),
        AttendanceRegister(),
        GradeBook(),
        NotificationFeed(),
    ]


__all__ = [
    "AttendanceRegister",
    "GradeBook",
    "LessonJournal",
    "NotificationFeed",
    "SchoolDirectory",
    "all_projections",
]
