"""Notes of individual consultations and conversations with parents (rule 2).

A note may be entered on the day it took place until the cut-off (20:00 by default). Later, only a
deputy director may let it in, with a reason that the event keeps.
"""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID
from zoneinfo import ZoneInfo

from ezurnals.lessons.domain._checks import required_text
from ezurnals.lessons.domain.calendar import SchoolCalendar
from ezurnals.lessons.domain.deadlines import DeadlineSchedule, consultation_cutoff
from ezurnals.shared.contracts.lessons import ConsultationKind, ConsultationRecorded, LessonsEvent
from ezurnals.shared.domain import Aggregate, Command, Conflict, Forbidden, Invalid

MAX_SUMMARY_LENGTH = 2000
MAX_REASON_LENGTH = 500


class RecordConsultation(Command):
    consultation_id: UUID
    school_id: UUID
    kind: ConsultationKind
    participant_ids: tuple[UUID, ...]
    summary: str
    held_on: date
    recorded_by: UUID
    override_reason: str | None = None


class Consultation(Aggregate[LessonsEvent]):
    def __init__(self, stream_id: str) -> None:
        super().__init__(stream_id)
        self.note: ConsultationRecorded | None = None

    def record(
        self,
        cmd: RecordConsultation,
        now: datetime,
        policy: DeadlineSchedule,
        zone: ZoneInfo,
        *,
        deputy_director: bool = False,
        calendar: SchoolCalendar | None = None,
    ) -> list[LessonsEvent]:
        """``deputy_director`` says whether the caller acts as the school's deputy director;
        ``calendar`` is the current school year, within which the note's day lies."""
        if self.note is not None:
            raise Conflict("the note is already recorded", code="already_recorded")
        summary = required_text(cmd.summary, "summary", max_length=MAX_SUMMARY_LENGTH)
        participants = tuple(dict.fromkeys(cmd.participant_ids))
        if not participants:
            raise Invalid("name at least one participant", field="participant_ids")
        if calendar is not None:
            calendar.require_within(cmd.held_on, "held_on")
        if cmd.held_on > now.astimezone(zone).date():
            raise Invalid("a consultation cannot be noted before it is held", field="held_on")
        cutoff = consultation_cutoff(cmd.held_on, policy, zone)
        override_reason = None
        if now > cutoff:
            override_reason = self._override(cmd, cutoff, zone, deputy_director)
        return [
            ConsultationRecorded(
                consultation_id=cmd.consultation_id,
                school_id=cmd.school_id,
                kind=cmd.kind,
                participant_ids=participants,
                summary=summary,
                held_on=cmd.held_on,
                recorded_by=cmd.recorded_by,
                override_reason=override_reason,
            )
        ]

    @staticmethod
    def _override(
        cmd: RecordConsultation, cutoff: datetime, zone: ZoneInfo, deputy_director: bool
    ) -> str:
        if cmd.override_reason is None:
            local = cutoff.astimezone(zone)
            raise Invalid(
                f"consultation notes may be entered until {local:%H:%M} on the day they took "
                f"place (rule 2); the cut-off for {cmd.held_on:%d.%m.%Y} has passed",
                field="held_on",
                code="consultation_cutoff_passed",
                details={"cutoff": cutoff.isoformat(), "cutoff_local_time": f"{local:%H:%M}"},
            )
        if not deputy_director:
            raise Forbidden("only a deputy director may allow a note after the cut-off")
        return required_text(cmd.override_reason, "override_reason", max_length=MAX_REASON_LENGTH)

    def when_ConsultationRecorded(self, event: ConsultationRecorded) -> None:
        self.note = event
