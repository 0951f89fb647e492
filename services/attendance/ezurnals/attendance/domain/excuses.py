"""Excuse requests from families: submitted by a guardian (or a student of 18), decided once by
the class teacher.

A request covers either a period of days (inclusive) or listed lessons. A parent's note may cover
only as many days as the school's policy allows; a longer absence needs a doctor's certificate.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Literal, TypedDict
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from ezurnals.attendance.domain.access import (
    Relationships,
    require_excuse,
    require_submit_excuse,
)
from ezurnals.attendance.domain.policy import ExcusePolicy
from ezurnals.attendance.domain.school_year import SchoolYearSpan, customary_year
from ezurnals.shared.contracts.attendance import (
    AttendanceEvent,
    DocumentType,
    ExcuseAccepted,
    ExcuseAttachment,
    ExcuseRejected,
    ExcuseSubmitted,
)
from ezurnals.shared.domain import Aggregate, Command, Conflict, Invalid, missing


def stream_id_for(request_id: UUID) -> str:
    return f"excuse-request-{request_id}"


class Coverage(BaseModel):
    """The days or lessons an excuse justifies."""

    model_config = ConfigDict(frozen=True)

    covers_from: dt.date | None = None
    covers_to: dt.date | None = None
    lesson_ids: frozenset[UUID] = frozenset()

    def covers(self, lesson_id: UUID, day: dt.date) -> bool:
        if self.lesson_ids:
            return lesson_id in self.lesson_ids
        assert self.covers_from is not None and self.covers_to is not None
        return self.covers_from <= day <= self.covers_to

    def as_fields(self) -> CoverageFields:
        """The contract fields that carry this coverage (lesson ids in a stable order)."""
        return CoverageFields(
            covers_from=self.covers_from,
            covers_to=self.covers_to,
            lesson_ids=tuple(sorted(self.lesson_ids)),
        )


class CoverageFields(TypedDict):
    covers_from: dt.date | None
    covers_to: dt.date | None
    lesson_ids: tuple[UUID, ...]


def coverage_of(event: ExcuseSubmitted | ExcuseAccepted) -> Coverage:
    return Coverage(
        covers_from=event.covers_from,
        covers_to=event.covers_to,
        lesson_ids=frozenset(event.lesson_ids),
    )


class SubmitExcuse(Command):
    request_id: UUID
    student_id: UUID
    covers_from: dt.date | None = None
    covers_to: dt.date | None = None
    lesson_ids: tuple[UUID, ...] = ()
    reason: str = Field(max_length=2000)
    document_type: DocumentType
    attachment: ExcuseAttachment | None = None


class AcceptExcuse(Command):
    request_id: UUID


class RejectExcuse(Command):
    request_id: UUID
    reason: str = Field(default="", max_length=2000)


def check_coverage(
    cmd: SubmitExcuse, lesson_dates: Mapping[UUID, dt.date], school_year: SchoolYearSpan
) -> tuple[Coverage, int]:
    """The coverage and the number of days it spans, or Invalid naming the field at fault; a
    period lies within the current school year (no excuse for 2021)."""
    has_period = cmd.covers_from is not None or cmd.covers_to is not None
    if has_period == bool(cmd.lesson_ids):
        raise Invalid("give either a period (from–to) or lessons", field="covers_from")
    if has_period:
        if cmd.covers_from is None:
            raise Invalid("the period needs a first day", field="covers_from")
        if cmd.covers_to is None:
            raise Invalid("the period needs a last day", field="covers_to")
        if cmd.covers_to < cmd.covers_from:
            raise Invalid("the period ends before it starts", field="covers_to")
        school_year.require_covers(cmd.covers_from, "covers_from")
        school_year.require_covers(cmd.covers_to, "covers_to")
        coverage = Coverage(covers_from=cmd.covers_from, covers_to=cmd.covers_to)
        return coverage, (cmd.covers_to - cmd.covers_from).days + 1
    unknown = [lesson for lesson in cmd.lesson_ids if lesson not in lesson_dates]
    if unknown:
        raise Invalid(
            "no such lesson", field="lesson_ids", details={"lesson_ids": [str(u) for u in unknown]}
        )
    days = {lesson_dates[lesson] for lesson in cmd.lesson_ids}
    return Coverage(lesson_ids=frozenset(cmd.lesson_ids)), len(days)


class ExcuseRequest(Aggregate[AttendanceEvent]):
    def __init__(self, stream_id: str) -> None:
        super().__init__(stream_id)
        self.status: Literal["new", "submitted", "accepted", "rejected"] = "new"
        self.request_id: UUID | None = None
        self.student_id: UUID | None = None
        self.document_type: DocumentType = "other"
        self.coverage: Coverage | None = None

    def submit(
        self,
        cmd: SubmitExcuse,
        *,
        by: Relationships,
        policy: ExcusePolicy,
        today: dt.date,
        lesson_dates: Mapping[UUID, dt.date] | None = None,
        school_year: SchoolYearSpan | None = None,
    ) -> list[AttendanceEvent]:
        """``lesson_dates`` gives the date of each lesson a lesson-based request names;
        ``school_year`` is the current one (the customary 1 September–31 August if unknown)."""
        require_submit_excuse(by, cmd.student_id, today)
        if self.exists:
            raise Conflict("this excuse request has already been submitted")
        if not cmd.reason.strip():
            raise Invalid("the reason is required", field="reason")
        coverage, days = check_coverage(
            cmd, lesson_dates or {}, school_year or customary_year(today)
        )
        if cmd.document_type == "parent_note" and days > policy.parent_note_max_days:
            raise Invalid(
                f"a parent's note may cover at most {policy.parent_note_max_days} days; "
                f"for {days} days a doctor's certificate is needed",
                field="document_type",
                details={"max_days": policy.parent_note_max_days, "days": days},
            )
        return [
            ExcuseSubmitted(
                request_id=cmd.request_id,
                student_id=cmd.student_id,
                submitted_by=by.person_id,
                submitted_as="student" if by.person_id == cmd.student_id else "guardian",
                reason=cmd.reason.strip(),
                document_type=cmd.document_type,
                attachment=cmd.attachment,
                **coverage.as_fields(),
            )
        ]

    def accept(self, cmd: AcceptExcuse, *, by: Relationships) -> list[AttendanceEvent]:
        request_id, student_id = self._decidable_by(by)
        assert self.coverage is not None, "a submitted request has its coverage"
        return [
            ExcuseAccepted(
                request_id=request_id,
                student_id=student_id,
                document_type=self.document_type,
                accepted_by=by.person_id,
                **self.coverage.as_fields(),
            )
        ]

    def reject(self, cmd: RejectExcuse, *, by: Relationships) -> list[AttendanceEvent]:
        request_id, student_id = self._decidable_by(by)
        if not cmd.reason.strip():
            raise Invalid("a rejection needs a reason", field="reason")
        return [
            ExcuseRejected(
                request_id=request_id,
                student_id=student_id,
                reason=cmd.reason.strip(),
                rejected_by=by.person_id,
            )
        ]

    def _decidable_by(self, by: Relationships) -> tuple[UUID, UUID]:
        """The request and its student, once it is clear that ``by`` may decide and nobody has."""
        if self.request_id is None or self.student_id is None:
            raise missing("excuse request", "request_id")
        require_excuse(by, self.student_id, thing="excuse request", field="request_id")
        if self.status != "submitted":
            raise Conflict(f"the request has already been {self.status}")
        return self.request_id, self.student_id

    def when_ExcuseSubmitted(self, event: ExcuseSubmitted) -> None:
        self.status = "submitted"
        self.request_id = event.request_id
        self.student_id = event.student_id
        self.document_type = event.document_type
        self.coverage = coverage_of(event)

    def when_ExcuseAccepted(self, event: ExcuseAccepted) -> None:
        self.status = "accepted"

    def when_ExcuseRejected(self, event: ExcuseRejected) -> None:
        self.status = "rejected"
