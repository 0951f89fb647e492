"""The school as identity tells it: schools, years, classes, enrolment, families, staff, teaching.

Reporting holds no names: people are ids here, and documents get display names from the caller.
"""

from __future__ import annotations

from ezurnals.shared.messaging.directory import Directory, Part
from ezurnals.shared.messaging.notices import notice_ddl


class SchoolDirectory(Directory):
    """Every part but adult students; the diary kept in memory by the API is forgotten when a
    student's enrolment or guardianship rows change."""

    parts = Directory.parts - {Part.ADULT_STUDENTS}
    extra_ddl = (
        *notice_ddl("enrolments", "student", "student_id"),
        *notice_ddl("guardianships", "student", "student_id"),
    )
