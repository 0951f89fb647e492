"""The lessons handlers on the in-memory unit of work: streams in a dict and identity's facts
as plain data, so a handler test is given events → when a command → then events and result."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import Any
from uuid import UUID, uuid4
from zoneinfo import ZoneInfo

import pytest

from ezurnals.lessons.domain import DEFAULT_SCHEDULE, DeadlineSchedule, SchoolCalendar
from ezurnals.lessons.handlers import HANDLERS
from ezurnals.lessons.queries import Facts, SchoolClass
from ezurnals.shared.contracts.base import SYSTEM, Actor
from ezurnals.shared.eventstore import CommandContext
from ezurnals.shared.pipeline import InMemoryStreams, Pipeline

RIGA = ZoneInfo("Europe/Riga")


def riga(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=RIGA).astimezone(UTC)


@dataclass
class KnownFacts:
    """What identity told the service and its own query tables hold, as data."""

    school_id: UUID = field(default_factory=uuid4)
    staff_ids: list[UUID] = field(default_factory=list)
    #: The school's students and guardians.
    families: set[UUID] = field(default_factory=set)
    classes: dict[UUID, SchoolClass] = field(default_factory=dict)
    years: dict[str, SchoolCalendar] = field(default_factory=dict)
    #: (class, person, subject, substitute) identity assigns, valid every day.
    teaching: set[tuple[UUID, UUID, UUID, bool]] = field(default_factory=set)
    subject_rows: list[dict[str, Any]] = field(default_factory=list)
    lesson_rows: list[dict[str, Any]] = field(default_factory=list)
    briefing_type_rows: list[dict[str, Any]] = field(default_factory=list)
    schedule: DeadlineSchedule = DEFAULT_SCHEDULE

    async def zone(self, school_id: UUID) -> ZoneInfo:
        return RIGA

    async def rules(self, school_id: UUID) -> tuple[DeadlineSchedule, ZoneInfo]:
        return self.schedule, RIGA

    async def calendar(self, school_id: UUID, school_year: str) -> SchoolCalendar | None:
        return self.years.get(school_year)

    async def calendars(self, school_id: UUID) -> list[SchoolCalendar]:
        return list(self.years.values())

    async def school_class(self, school_id: UUID, class_id: UUID) -> SchoolClass | None:
        found = self.classes.get(class_id)
        return found if found is not None and found.school_id == school_id else None

    async def staff(self, school_id: UUID) -> list[UUID]:
        return self.staff_ids if school_id == self.school_id else []

    async def strangers(self, school_id: UUID, people: Sequence[UUID]) -> list[UUID]:
        known = {*self.families, *self.staff_ids} if school_id == self.school_id else set()
        return [p for p in people if p not in known]

    async def teaches(
        self,
        class_id: UUID,
        person_id: UUID,
        on: date,
        *,
        subject_id: UUID | None = None,
        substitute: bool | None = None,
    ) -> bool:
        return any(
            c == class_id
            and p == person_id
            and (subject_id is None or s == subject_id)
            and (substitute is None or sub == substitute)
            for c, p, s, sub in self.teaching
        )

    async def subjects(self, school_id: UUID) -> list[dict[str, Any]]:
        return [r for r in self.subject_rows if school_id == self.school_id]

    async def lessons(
        self,
        school_id: UUID,
        *,
        first_day: date,
        last_day: date,
        class_id: UUID | None = None,
        teacher_id: UUID | None = None,
        timetable_id: UUID | None = None,
        only_open: bool = False,
    ) -> list[dict[str, Any]]:
        return [
            r
            for r in self.lesson_rows
            if first_day <= r["lesson_date"] <= last_day
            and (timetable_id is None or r["timetable_id"] == timetable_id)
        ]

    async def briefing_types(self, school_id: UUID) -> list[dict[str, Any]]:
        return self.briefing_type_rows

    async def briefing_type(self, school_id: UUID, briefing_type_id: UUID) -> dict[str, Any] | None:
        return next(
            (r for r in self.briefing_type_rows if r["briefing_type_id"] == briefing_type_id),
            None,
        )


@dataclass
class World:
    """The streams, the facts, and the service's pipeline over them."""

    streams: InMemoryStreams = field(default_factory=InMemoryStreams)
    facts: KnownFacts = field(default_factory=KnownFacts)

    @property
    def pipeline(self) -> Pipeline[Facts]:
        return Pipeline(HANDLERS, lambda ctx: self.streams.unit(ctx, self.facts))

    def ctx(
        self, now: datetime, *, key: str | None = None, actor: Actor = SYSTEM
    ) -> CommandContext:
        return CommandContext(
            actor=actor,
            school_id=self.facts.school_id,
            now=now,
            idempotency_key=key,
            request_hash="the request",
        )


@pytest.fixture
def world() -> World:
    return World()
