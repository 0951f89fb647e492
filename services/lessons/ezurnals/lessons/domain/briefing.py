"""Safety briefings (instruktāžas, rule 3): the school's briefing types, a briefing given to a
class or group, and each student's acknowledgement — signed on paper or confirmed in the app."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from uuid import UUID
from zoneinfo import ZoneInfo

from ezurnals.lessons.domain._checks import required_text
from ezurnals.lessons.domain.calendar import SchoolCalendar
from ezurnals.shared.contracts.lessons import (
    AcknowledgedBy,
    BriefingAcknowledged,
    BriefingConducted,
    BriefingTypeDefined,
    LessonsEvent,
    NameKey,
)
from ezurnals.shared.domain import (
    Aggregate,
    Command,
    Conflict,
    Forbidden,
    Invalid,
    NotFound,
    id_in_use,
)

MAX_NAME_LENGTH = 120
MAX_TOPIC_LENGTH = 500


class DefineBriefingType(Command):
    """Define a briefing type (fire safety, road safety, excursion …) or rename it."""

    briefing_type_id: UUID
    school_id: UUID
    name_key: NameKey
    name: str


class BriefingType(Aggregate[LessonsEvent]):
    def __init__(self, stream_id: str) -> None:
        super().__init__(stream_id)
        self.definition: BriefingTypeDefined | None = None

    def define(self, cmd: DefineBriefingType) -> list[LessonsEvent]:
        if self.definition is not None and self.definition.school_id != cmd.school_id:
            raise id_in_use("briefing_type_id")
        event = BriefingTypeDefined(
            briefing_type_id=cmd.briefing_type_id,
            school_id=cmd.school_id,
            name_key=cmd.name_key,
            name=required_text(cmd.name, "name", max_length=MAX_NAME_LENGTH),
        )
        return [] if event == self.definition else [event]

    def when_BriefingTypeDefined(self, event: BriefingTypeDefined) -> None:
        self.definition = event


class ConductBriefing(Command):
    briefing_id: UUID
    school_id: UUID
    briefing_type_id: UUID
    class_id: UUID | None = None
    student_ids: tuple[UUID, ...]
    conducted_on: date
    conducted_by: UUID
    topic: str


def check_briefing_day(day: date, calendar: SchoolCalendar | None, today: date) -> None:
    """A briefing is recorded once given, within its school year (none dated 2021)."""
    if calendar is not None:
        calendar.require_within(day, "conducted_on")
    if day > today:
        raise Invalid(
            f"a briefing cannot be recorded before it is given: conducted_on must be "
            f"{today.isoformat()} or earlier",
            field="conducted_on",
            code="in_future",
            details={"last_day": today.isoformat()},
        )


class AcknowledgeBriefing(Command):
    student_id: UUID
    how: AcknowledgedBy
    recorded_by: UUID


class Briefing(Aggregate[LessonsEvent]):
    def __init__(self, stream_id: str) -> None:
        super().__init__(stream_id)
        self.conducted: BriefingConducted | None = None
        self.acknowledged: dict[UUID, AcknowledgedBy] = {}

    @property
    def not_acknowledged(self) -> tuple[UUID, ...]:
        """Students of the briefing who have not signed or confirmed it yet, in list order."""
        if self.conducted is None:
            return ()
        return tuple(s for s in self.conducted.student_ids if s not in self.acknowledged)

    def conduct(
        self,
        cmd: ConductBriefing,
        now: datetime,
        zone: ZoneInfo,
        calendar: SchoolCalendar | None = None,
    ) -> list[LessonsEvent]:
        """``calendar``: the school year of the class briefed, or the current one for a group."""
        if self.conducted is not None:
            raise Conflict("the briefing is already recorded", code="already_recorded")
        students = tuple(dict.fromkeys(cmd.student_ids))
        if not students:
            raise Invalid("a briefing needs at least one student", field="student_ids")
        check_briefing_day(cmd.conducted_on, calendar, now.astimezone(zone).date())
        return [
            BriefingConducted(
                briefing_id=cmd.briefing_id,
                school_id=cmd.school_id,
                briefing_type_id=cmd.briefing_type_id,
                class_id=cmd.class_id,
                student_ids=students,
                conducted_on=cmd.conducted_on,
                conducted_by=cmd.conducted_by,
                topic=required_text(cmd.topic, "topic", max_length=MAX_TOPIC_LENGTH),
            )
        ]

    def acknowledge(self, cmd: AcknowledgeBriefing) -> list[LessonsEvent]:
        """Staff record paper signatures; in the app only the student can confirm for themself."""
        if self.conducted is None:
            raise NotFound("no such briefing", field="briefing_id")
        if cmd.student_id not in self.conducted.student_ids:
            raise Invalid(
                "the student was not part of this briefing", field="student_id", code="not_briefed"
            )
        if cmd.how is AcknowledgedBy.APP and cmd.recorded_by != cmd.student_id:
            raise Forbidden("only the student can acknowledge a briefing in the app")
        if cmd.student_id in self.acknowledged:
            return []
        return [
            BriefingAcknowledged(
                briefing_id=self.conducted.briefing_id,
                student_id=cmd.student_id,
                how=cmd.how,
                recorded_by=cmd.recorded_by,
            )
        ]

    def when_BriefingConducted(self, event: BriefingConducted) -> None:
        self.conducted = event

    def when_BriefingAcknowledged(self, event: BriefingAcknowledged) -> None:
        self.acknowledged[event.student_id] = event.how


def students_not_briefed(
    roster: Iterable[UUID], briefings: Iterable[Briefing], briefing_type_id: UUID
) -> list[UUID]:
    """Who of ``roster`` has acknowledged no briefing of this type yet (rule 3)."""
    briefed = {
        student
        for briefing in briefings
        if briefing.conducted is not None
        and briefing.conducted.briefing_type_id == briefing_type_id
        for student in briefing.acknowledged
    }
    return [student for student in roster if student not in briefed]
