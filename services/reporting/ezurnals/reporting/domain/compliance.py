"""Entry compliance (rule 2): was a lesson's record entered by its deadline, in the school's time
zone. The deadline is the lessons service's: its ``EntryDeadlinePolicySet`` versions (the seed
rules among them, appended when the school was registered); reporting keeps no copy of the rule.

The lessons service decides lateness when a record arrives and raises an overdue lesson at its
deadline; those decisions win. The deadline computed here places a lesson that lessons has not yet
flagged, and shows each lesson's deadline beside its state.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from enum import StrEnum
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class DeadlineBand:
    first_grade: int
    last_grade: int
    deadline: time


@dataclass(frozen=True)
class DeadlinePolicy:
    effective_from: date
    bands: tuple[DeadlineBand, ...]


class EntryState(StrEnum):
    ON_TIME = "on_time"
    LATE = "late"
    OVERDUE = "overdue"
    #: Not recorded yet, and the deadline has not passed (or lessons' policy has not arrived).
    OPEN = "open"


def entry_deadline(
    lesson_date: date, grade_level: int, policies: Sequence[DeadlinePolicy], time_zone: str
) -> datetime | None:
    """The instant (UTC) by which the lesson's record is due, by the version in force on its day;
    None while no such version has arrived from lessons."""
    in_force = [p for p in policies if p.effective_from <= lesson_date]
    if not in_force:
        return None
    policy = max(in_force, key=lambda p: p.effective_from)
    band = next((b for b in policy.bands if b.first_grade <= grade_level <= b.last_grade), None)
    if band is None:
        return None
    local = datetime.combine(lesson_date, band.deadline, tzinfo=ZoneInfo(time_zone))
    return local.astimezone(UTC)


def entry_state(
    *,
    recorded: bool,
    flagged_late: bool,
    flagged_overdue: bool,
    deadline: datetime | None,
    now: datetime,
) -> EntryState:
    if recorded:
        return EntryState.LATE if flagged_late or flagged_overdue else EntryState.ON_TIME
    if flagged_overdue or (deadline is not None and now >= deadline):
        return EntryState.OVERDUE
    return EntryState.OPEN
