"""Request bodies of the lessons API; ``extra="forbid"`` so a misspelt field is a 422 naming it."""

from __future__ import annotations

from datetime import date, time
from typing import Annotated
from uuid import UUID, uuid4

from pydantic import BaseModel, ConfigDict, Field

from ezurnals.shared.contracts.lessons import (
    AcknowledgedBy,
    ConsultationKind,
    GradeBandDeadline,
    GradeLevel,
    Homework,
    NameKey,
    WeeklySlot,
)


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SubjectIn(Body):
    name_key: NameKey
    name: str = Field(max_length=120)
    curriculum_hours: dict[GradeLevel, Annotated[int, Field(ge=0)]] = Field(default_factory=dict)


class NewSubjectIn(SubjectIn):
    subject_id: UUID = Field(default_factory=uuid4)


class DeadlinePolicyIn(Body):
    effective_from: date
    deadlines: tuple[GradeBandDeadline, ...]
    consultation_cutoff: time


class TimetableIn(Body):
    class_id: UUID


class SlotIn(Body):
    effective_from: date
    slot: WeeklySlot


class NewSlotIn(SlotIn):
    slot_id: UUID = Field(default_factory=uuid4)


class SlotRemovalIn(Body):
    effective_from: date


class ScheduleIn(Body):
    first_day: date
    last_day: date


class RecordIn(Body):
    topic: str = Field(max_length=500)
    homework: Homework | None = None
    no_homework: bool = False


class CorrectionIn(RecordIn):
    reason: str | None = Field(default=None, max_length=500)


class SubstitutionIn(Body):
    substitute_teacher_id: UUID


class CancellationIn(Body):
    reason: str = Field(max_length=500)


class ConsultationIn(Body):
    consultation_id: UUID = Field(default_factory=uuid4)
    kind: ConsultationKind
    participant_ids: tuple[UUID, ...] = Field(max_length=50)
    summary: str = Field(max_length=2000)
    held_on: date
    #: Only a deputy director may give it, and only for a note after the cut-off.
    override_reason: str | None = Field(default=None, max_length=500)


class BriefingTypeIn(Body):
    briefing_type_id: UUID = Field(default_factory=uuid4)
    name_key: NameKey
    name: str = Field(max_length=120)


class BriefingIn(Body):
    briefing_id: UUID = Field(default_factory=uuid4)
    briefing_type_id: UUID
    #: The class briefed; without ``student_ids`` its current roster is.
    class_id: UUID | None = None
    student_ids: tuple[UUID, ...] | None = Field(default=None, max_length=200)
    conducted_on: date
    topic: str = Field(max_length=500)


class AcknowledgementIn(Body):
    student_id: UUID
    how: AcknowledgedBy


class BriefingFormIn(Body):
    """Display names for the form, as identity showed them to the caller; printed, never kept."""

    names: dict[UUID, Annotated[str, Field(min_length=1, max_length=200)]]
    conducted_by_name: str | None = Field(default=None, max_length=200)
