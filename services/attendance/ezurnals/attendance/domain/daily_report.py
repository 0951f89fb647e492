"""When the school's daily attendance report (e.g. for the canteen) is made each school day.

The time is a per-school setting with an effective date, like the excuse policy. Its event is the
service's own business: no other service reads it, so it is stored but never published, and it
is labelled with a service family outside the shared catalogue (no committed JSON Schema).
"""

from __future__ import annotations

import datetime as dt
from typing import ClassVar
from uuid import UUID

from ezurnals.shared.contracts.attendance import AttendanceEvent
from ezurnals.shared.contracts.base import contract
from ezurnals.shared.domain import Command

#: Until the school sets its own: 09:30 school time, after the first lessons' attendance.
DEFAULT_DAILY_REPORT_AT = dt.time(9, 30)


@contract
class DailyReportScheduled(AttendanceEvent):
    """From ``effective_from`` the daily report is made at ``at`` (school time)."""

    service: ClassVar[str] = "attendance.local"
    published: ClassVar[bool] = False
    event_type: ClassVar[str] = "DailyReportScheduled"
    schema_version: ClassVar[int] = 1
    school_id: UUID
    at: dt.time
    effective_from: dt.date


class ScheduleDailyReport(Command):
    school_id: UUID
    at: dt.time
    effective_from: dt.date


def report_is_due(local_now: dt.datetime, at: dt.time) -> bool:
    """Due from ``at`` on, in the school's wall-clock time, for the rest of the day."""
    return local_now.time().replace(tzinfo=None) >= at.replace(tzinfo=None)
