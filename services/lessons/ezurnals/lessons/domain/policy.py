"""A school's entry-deadline policy: versions with an effective date (rules 11–12).

A school registered with identity starts with the seed rules as an event of its own
(``adopt_seed_rules``), so attendance, reporting and the web app learn the deadline from lessons'
events instead of keeping a copy; until that event is appended the seed rules hold here too.
A version never starts before today, so lessons already judged stay judged by the rules that
were in force on their day.
"""

from __future__ import annotations

from datetime import date, time
from uuid import UUID

from pydantic import ValidationError

from ezurnals.lessons.domain.deadlines import (
    DEFAULT_DEADLINE_RULES,
    DEFAULT_SCHEDULE,
    DeadlineRules,
    DeadlineSchedule,
)
from ezurnals.shared.contracts.lessons import (
    EntryDeadlinePolicySet,
    GradeBandDeadline,
    LessonsEvent,
)
from ezurnals.shared.domain import Aggregate, Command, Invalid, require_policy_start


class SetEntryDeadlinePolicy(Command):
    school_id: UUID
    effective_from: date
    deadlines: tuple[GradeBandDeadline, ...]
    consultation_cutoff: time


class DeadlinePolicy(Aggregate[LessonsEvent]):
    """One stream per school."""

    def __init__(self, stream_id: str) -> None:
        super().__init__(stream_id)
        self._versions: list[DeadlineRules] = []

    @property
    def schedule(self) -> DeadlineSchedule:
        """The school's versions over the seed rules."""
        return DeadlineSchedule.of([*DEFAULT_SCHEDULE.versions, *self._versions])

    def set(self, cmd: SetEntryDeadlinePolicy, today: date) -> list[LessonsEvent]:
        """``today`` is the school's local date: a new version may not start before it."""
        try:
            rules = DeadlineRules(
                effective_from=cmd.effective_from,
                deadlines=cmd.deadlines,
                consultation_cutoff=cmd.consultation_cutoff,
            )
        except ValidationError as err:
            raise Invalid(
                "the grade bands must cover grades 1–12, each exactly once",
                field="deadlines",
                details={"errors": [e["msg"] for e in err.errors()]},
            ) from None
        require_policy_start(cmd.effective_from, today)
        if rules in self.schedule.versions:
            return []
        return [
            EntryDeadlinePolicySet(
                school_id=cmd.school_id,
                effective_from=rules.effective_from,
                deadlines=rules.deadlines,
                consultation_cutoff=rules.consultation_cutoff,
            )
        ]

    def adopt_seed_rules(self, school_id: UUID) -> list[EntryDeadlinePolicySet]:
        """The seed rules as the school's first version, once: a school that already has a
        version of its own (or the seed rules recorded) gets nothing."""
        if self._versions:
            return []
        return [seed_rules_set(school_id)]

    def when_EntryDeadlinePolicySet(self, event: EntryDeadlinePolicySet) -> None:
        self._versions.append(DeadlineRules.from_event(event))


def seed_rules_set(school_id: UUID) -> EntryDeadlinePolicySet:
    """The event that records the seed rules as a school's policy."""
    return EntryDeadlinePolicySet(
        school_id=school_id,
        effective_from=DEFAULT_DEADLINE_RULES.effective_from,
        deadlines=DEFAULT_DEADLINE_RULES.deadlines,
        consultation_cutoff=DEFAULT_DEADLINE_RULES.consultation_cutoff,
    )
