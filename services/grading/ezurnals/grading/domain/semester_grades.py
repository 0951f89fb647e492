"""Whether a school gives semester period grades at all (rule 6: "where the school uses them").

The setting is the grading service's own business: no other service reads it yet, so its event is
stored but never published, and it is labelled with a service family outside the shared catalogue
(no committed JSON Schema).
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar
from uuid import UUID

from ezurnals.shared.contracts.base import contract
from ezurnals.shared.contracts.grading import GradingEvent, PeriodKind
from ezurnals.shared.domain import Command

#: The periods the setting switches on or off.
SEMESTER_PERIODS = frozenset({PeriodKind.SEMESTER1, PeriodKind.SEMESTER2})
#: Until the school says otherwise, semester grades are given.
DEFAULT_SEMESTER_GRADES_USED = True


@contract
class SemesterGradesUsageSet(GradingEvent):
    """From now on the school does (``used``) or does not give semester period grades."""

    service: ClassVar[str] = "grading.local"
    published: ClassVar[bool] = False
    event_type: ClassVar[str] = "SemesterGradesUsageSet"
    schema_version: ClassVar[int] = 1
    school_id: UUID
    used: bool
    set_by: UUID
    set_at: datetime


class SetSemesterGradesUsage(Command):
    used: bool
