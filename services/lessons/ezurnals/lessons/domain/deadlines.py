"""Entry deadlines and the consultation cut-off (rule 2), versioned by effective date (rules 11–12).

Rules are evaluated in the school's time zone and answered as UTC instants, so a deadline of
15:00 stays 15:00 on the wall clock on both sides of a daylight-saving change.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, model_validator

from ezurnals.shared.contracts.lessons import EntryDeadlinePolicySet, GradeBandDeadline
from ezurnals.shared.domain import Invalid

GRADES = range(1, 13)


class DeadlineRules(BaseModel):
    """One version of a school's policy: an entry deadline per grade band and the cut-off for
    consultation notes, in force from ``effective_from``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    effective_from: date
    deadlines: tuple[GradeBandDeadline, ...]
    consultation_cutoff: time

    @model_validator(mode="after")
    def _every_grade_once(self) -> DeadlineRules:
        covered = [
            g for band in self.deadlines for g in range(band.first_grade, band.last_grade + 1)
        ]
        if any(band.last_grade < band.first_grade for band in self.deadlines):
            raise ValueError("a grade band ends before it starts")
        if sorted(covered) != list(GRADES):
            raise ValueError("the grade bands must cover grades 1–12, each exactly once")
        return self

    @classmethod
    def from_event(cls, event: EntryDeadlinePolicySet) -> DeadlineRules:
        return cls(
            effective_from=event.effective_from,
            deadlines=event.deadlines,
            consultation_cutoff=event.consultation_cutoff,
        )

    def entry_deadline_time(self, grade_level: int) -> time:
        for band in self.deadlines:
            if band.first_grade <= grade_level <= band.last_grade:
                return band.deadline
        raise Invalid(f"no entry deadline for grade {grade_level}", field="grade_level")


class DeadlineSchedule(BaseModel):
    """All versions of a school's policy; the one in force on a day is the latest that began on
    or before it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    versions: tuple[DeadlineRules, ...]

    @classmethod
    def of(cls, versions: Iterable[DeadlineRules]) -> DeadlineSchedule:
        """Later versions with the same effective date replace earlier ones."""
        by_date = {v.effective_from: v for v in versions}
        return cls(versions=tuple(by_date[d] for d in sorted(by_date)))

    def rules_on(self, day: date) -> DeadlineRules:
        in_force = [v for v in self.versions if v.effective_from <= day]
        if not in_force:
            raise Invalid(
                f"no entry-deadline policy is in force on {day.isoformat()}",
                field="date",
                code="no_policy_in_force",
            )
        return max(in_force, key=lambda v: v.effective_from)


#: The seed rules in force from 17.09.2020: grades 1–6 by 15:00, 7–12 by 16:00, notes until 20:00.
DEFAULT_DEADLINE_RULES = DeadlineRules(
    effective_from=date(2020, 9, 17),
    deadlines=(
        GradeBandDeadline(first_grade=1, last_grade=6, deadline=time(15, 0)),
        GradeBandDeadline(first_grade=7, last_grade=12, deadline=time(16, 0)),
    ),
    consultation_cutoff=time(20, 0),
)
DEFAULT_SCHEDULE = DeadlineSchedule(versions=(DEFAULT_DEADLINE_RULES,))


def local_instant(day: date, at: time, zone: ZoneInfo) -> datetime:
    """The UTC instant of a wall-clock time on a day in the school's zone."""
    return datetime.combine(day, at, tzinfo=zone).astimezone(UTC)


def entry_deadline(
    lesson_date: date, grade_level: int, policy: DeadlineSchedule, zone: ZoneInfo
) -> datetime:
    """When the lesson's topic and homework must be entered at the latest (UTC)."""
    rules = policy.rules_on(lesson_date)
    return local_instant(lesson_date, rules.entry_deadline_time(grade_level), zone)


def consultation_cutoff(held_on: date, policy: DeadlineSchedule, zone: ZoneInfo) -> datetime:
    """Until when a consultation held on ``held_on`` may be noted (UTC)."""
    return local_instant(held_on, policy.rules_on(held_on).consultation_cutoff, zone)


def minutes_late(deadline: datetime, at: datetime) -> int:
    """Whole minutes after the deadline, rounded up: 30 seconds late is 1 minute late."""
    seconds = (at - deadline).total_seconds()
    return max(0, math.ceil(seconds / 60))
