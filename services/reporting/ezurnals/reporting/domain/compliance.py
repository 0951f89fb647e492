"""Entry compliance (rule 2): was a lesson's record entered by its deadline — 15:00 on the lesson's
day for grades 1–6, 16:00 for grades 7–12, in the school's time zone, unless the school's policy
(lessons' EntryDeadlinePolicySet) says otherwise from some date on.

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


#: The rule as the school wrote it in 2020; a school's own policy replaces it from its date on.
DEFAULT_POLICY = DeadlinePolicy(
    effective_from=date.min,
    bands=(DeadlineBand(1, 6, time(15, 0)), DeadlineBand(7, 12, time(16, 0))),
)


class EntryState(StrEnum):
    ON_TIME = "on_time"
    LATE = "late"
    OVERDUE = "overdue"
    #: Not recorded yet, and the deadline has not passed.
    OPEN = "open"


def entry_deadline(
    lesson_date: date, grade_level: int, policies: Sequence[DeadlinePolicy], time_zone: str
) -> datetime:
    """The instant (UTC) by which the lesson's record is due."""
    policy = max(
        (p for p in (DEFAULT_POLICY, *policies) if p.effective_from <= lesson_date),
        key=lambda p: p.effective_from,
    )
    band = next(
        (b for b in policy.bands if b.first_grade <= grade_level <= b.last_grade),
        DEFAULT_POLICY.bands[-1] if grade_level > 6 else DEFAULT_POLICY.bands[0],
    )
    local = datetime.combine(lesson_date, band.deadline, tzinfo=ZoneInfo(time_zone))
    return local.astimezone(UTC)


def entry_state(
    *, recorded: bool, flagged_late: bool, flagged_overdue: bool, deadline: datetime, now: datetime
) -> EntryState:
    if recorded:
        return EntryState.LATE if flagged_late or flagged_overdue else EntryState.ON_TIME
    if flagged_overdue or now >= deadline:
        return EntryState.OVERDUE
    return EntryState.OPEN
