"""One student's absences and the excuses that justify them.

The student's state is folded from the facts that concern them — absences recorded and corrected
in lesson streams, excuse requests accepted in request streams — and from this aggregate's own
decisions (AbsenceExcused, AbsenceThresholdReached), which alone live in its stream and count
towards ``version``. :meth:`StudentAbsences.settle` derives what those facts still imply, so it
does not matter whether an excuse is accepted before or after the absence it covers is recorded,
and settling again after a redelivered fact yields nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from ezurnals.attendance.domain.access import Relationships, require_excuse
from ezurnals.attendance.domain.excuses import Coverage, coverage_of
from ezurnals.attendance.domain.policy import ExcusePolicy
from ezurnals.shared.contracts.attendance import (
    AbsenceCorrected,
    AbsenceExcused,
    AbsenceRecorded,
    AbsenceThresholdReached,
    AttendanceEvent,
    DocumentType,
    ExcuseAccepted,
    ExcuseSource,
)
from ezurnals.shared.contracts.base import IntegrationEvent
from ezurnals.shared.domain import Aggregate, Command, Conflict, Invalid, NotFound

STREAM_PREFIX = "student-absences-"
OWN_EVENTS = frozenset({AbsenceExcused.event_type, AbsenceThresholdReached.event_type})


def stream_id_for(student_id: UUID) -> str:
    return f"{STREAM_PREFIX}{student_id}"


def month_of(day: dt.date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


class Absence(BaseModel):
    """The newest known state of a mark in one lesson; ``removed`` once corrected away."""

    model_config = ConfigDict(frozen=True)

    absence_id: UUID
    lesson_id: UUID
    class_id: UUID
    date: dt.date
    code: str | None
    counts_as_absence: bool
    is_late: bool
    excused_by_code: bool
    minutes_late: int | None
    revision: int
    removed: bool = False


class AcceptedExcuse(BaseModel):
    model_config = ConfigDict(frozen=True)

    request_id: UUID
    coverage: Coverage
    document_type: DocumentType
    accepted_by: UUID


class ExcuseAbsences(Command):
    """The class teacher excuses absences directly, from a paper document they hold."""

    excuse_id: UUID
    student_id: UUID
    absence_ids: tuple[UUID, ...] = Field(min_length=1)
    document_type: DocumentType
    reference: str = Field(max_length=200)


class StudentAbsences(Aggregate[AttendanceEvent]):
    def __init__(self, stream_id: str) -> None:
        if not stream_id.startswith(STREAM_PREFIX):
            raise ValueError(f"not a student-absences stream: {stream_id!r}")
        super().__init__(stream_id)
        self.student_id = UUID(stream_id.removeprefix(STREAM_PREFIX))
        self._absences: dict[UUID, Absence] = {}
        self._accepted: dict[UUID, AcceptedExcuse] = {}
        self.excuses: dict[UUID, AbsenceExcused] = {}
        self.reported: set[tuple[str, int]] = set()

    def apply(self, event: IntegrationEvent) -> None:
        """Fold any fact about the student; only this stream's own events advance ``version``."""
        self.when(event)
        if event.event_type in OWN_EVENTS and getattr(event, "student_id", None) == self.student_id:
            self.version += 1

    @property
    def absences(self) -> list[Absence]:
        """Current absences and late arrivals, oldest first."""
        current = (a for a in self._absences.values() if not a.removed)
        return sorted(current, key=lambda a: (a.date, a.lesson_id))

    @property
    def accepted_excuses(self) -> list[AcceptedExcuse]:
        return sorted(self._accepted.values(), key=lambda e: e.request_id)

    def is_excused(self, absence: Absence) -> bool:
        return absence.excused_by_code or absence.absence_id in self.excuses

    def is_unexcused_absence(self, absence: Absence) -> bool:
        return absence.counts_as_absence and not self.is_excused(absence)

    def settle(self, policy_on: Callable[[dt.date], ExcusePolicy]) -> list[AttendanceEvent]:
        """What the known facts imply and nobody has yet stated: every absence covered by an
        accepted excuse is excused, and every monthly threshold reached is reported once.

        ``policy_on`` gives the excuse policy in force on a day; a month is judged by the policy
        in force on its first day.
        """
        excused_now: list[AbsenceExcused] = []
        for absence in self.absences:
            if self.is_excused(absence):
                continue
            excuse = self._covering(absence)
            if excuse is not None:
                excused_now.append(
                    self._excused(
                        absence,
                        excuse_id=excuse.request_id,
                        source="request",
                        document_type=excuse.document_type,
                        excused_by=excuse.accepted_by,
                    )
                )
        newly_excused = {e.absence_id for e in excused_now}
        unexcused: dict[str, int] = {}
        for absence in self.absences:
            if self.is_unexcused_absence(absence) and absence.absence_id not in newly_excused:
                month = month_of(absence.date)
                unexcused[month] = unexcused.get(month, 0) + 1
        reached: list[AttendanceEvent] = []
        for month, count in sorted(unexcused.items()):
            first_day = dt.date(int(month[:4]), int(month[5:]), 1)
            for threshold in policy_on(first_day).unexcused_thresholds:
                if count >= threshold and (month, threshold) not in self.reported:
                    reached.append(
                        AbsenceThresholdReached(
                            student_id=self.student_id,
                            month=month,
                            unexcused_lessons=count,
                            threshold=threshold,
                        )
                    )
        return [*excused_now, *reached]

    def excuse_directly(self, cmd: ExcuseAbsences, *, by: Relationships) -> list[AttendanceEvent]:
        require_excuse(by, cmd.student_id)
        if cmd.student_id != self.student_id:
            raise Invalid("the absences belong to another student", field="student_id")
        if not cmd.reference.strip():
            raise Invalid("name the document (its number or date)", field="reference")
        events: list[AttendanceEvent] = []
        for i, absence_id in enumerate(dict.fromkeys(cmd.absence_ids)):
            absence = self._absences.get(absence_id)
            if absence is None or absence.removed:
                raise NotFound(
                    "no such absence",
                    field=f"absence_ids[{i}]",
                    details={"absence_id": str(absence_id)},
                )
            if self.is_excused(absence):
                raise Conflict(
                    "the absence is already excused",
                    field=f"absence_ids[{i}]",
                    details={"absence_id": str(absence_id)},
                )
            events.append(
                self._excused(
                    absence,
                    excuse_id=cmd.excuse_id,
                    source="direct",
                    document_type=cmd.document_type,
                    reference=cmd.reference.strip(),
                    excused_by=by.person_id,
                )
            )
        return events

    def _excused(
        self,
        absence: Absence,
        *,
        excuse_id: UUID,
        source: ExcuseSource,
        document_type: DocumentType,
        excused_by: UUID,
        reference: str | None = None,
    ) -> AbsenceExcused:
        return AbsenceExcused(
            absence_id=absence.absence_id,
            student_id=self.student_id,
            lesson_id=absence.lesson_id,
            date=absence.date,
            excuse_id=excuse_id,
            source=source,
            document_type=document_type,
            reference=reference,
            excused_by=excused_by,
        )

    def _covering(self, absence: Absence) -> AcceptedExcuse | None:
        """The accepted excuse that covers the absence; the lowest request id when several do,
        so the choice does not depend on the order they arrived in."""
        return next(
            (
                e
                for e in self.accepted_excuses
                if e.coverage.covers(absence.lesson_id, absence.date)
            ),
            None,
        )

    def _fold_mark(self, event: AbsenceRecorded | AbsenceCorrected, code: str | None) -> None:
        """Keep the newest state of the mark; a stale or redelivered one changes nothing."""
        if event.student_id != self.student_id:
            return
        known = self._absences.get(event.absence_id)
        if known is not None and known.revision >= event.revision:
            return
        self._absences[event.absence_id] = Absence(
            absence_id=event.absence_id,
            lesson_id=event.lesson_id,
            class_id=event.class_id,
            date=event.date,
            code=code,
            counts_as_absence=event.counts_as_absence,
            is_late=event.is_late,
            excused_by_code=event.excused_by_code,
            minutes_late=event.minutes_late,
            revision=event.revision,
            removed=code is None,
        )

    def when_AbsenceRecorded(self, event: AbsenceRecorded) -> None:
        self._fold_mark(event, event.code)

    def when_AbsenceCorrected(self, event: AbsenceCorrected) -> None:
        self._fold_mark(event, event.new_code)

    def when_ExcuseAccepted(self, event: ExcuseAccepted) -> None:
        if event.student_id != self.student_id:
            return
        self._accepted[event.request_id] = AcceptedExcuse(
            request_id=event.request_id,
            coverage=coverage_of(event),
            document_type=event.document_type,
            accepted_by=event.accepted_by,
        )

    def when_AbsenceExcused(self, event: AbsenceExcused) -> None:
        if event.student_id == self.student_id:
            self.excuses.setdefault(event.absence_id, event)

    def when_AbsenceThresholdReached(self, event: AbsenceThresholdReached) -> None:
        if event.student_id == self.student_id:
            self.reported.add((event.month, event.threshold))
