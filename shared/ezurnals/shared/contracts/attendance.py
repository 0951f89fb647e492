"""Integration events published by the attendance service.

Marks (what the teacher saw in the lesson) and excuses (what a document justifies) are separate
facts, so an absence is recorded once and excused, or not, by later events. Events carry ids and
a snapshot of what a code meant when it was used, so replay never depends on today's code table.
"""

from __future__ import annotations

import datetime as dt
from typing import ClassVar, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ezurnals.shared.contracts.base import IntegrationEvent, contract

DocumentType = Literal["parent_note", "doctor_certificate", "school_event", "other"]
SubmitterRole = Literal["guardian", "student"]
ExcuseSource = Literal["request", "direct"]
AttachmentContentType = Literal["application/pdf", "image/jpeg", "image/png"]

MONTH_PATTERN = r"^\d{4}-(0[1-9]|1[0-2])$"


class AttendanceEvent(IntegrationEvent):
    service: ClassVar[str] = "attendance"


class _Part(BaseModel):
    """A value nested inside an event: immutable like the event itself."""

    model_config = ConfigDict(frozen=True, extra="ignore")


class AbsenceCodeEntry(_Part):
    """One row of a school's absence-code table, e.g. ``n`` absent, ``ns`` absent (illness)."""

    code: str = Field(min_length=1, max_length=8)
    meaning: str = Field(min_length=1, max_length=200)
    counts_as_absence: bool
    is_late: bool = False
    #: The code itself justifies the absence (e.g. ``ns``), so it starts out excused.
    excused: bool = False


class AttendanceMark(_Part):
    """A student's mark in a lesson, with what its code meant at the time."""

    student_id: UUID
    code: str
    counts_as_absence: bool
    is_late: bool
    excused_by_code: bool
    minutes_late: int | None = Field(default=None, ge=1)


class ExcuseAttachment(_Part):
    """A stored document attached to an excuse request, identified by id and content hash."""

    attachment_id: UUID
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    content_type: AttachmentContentType
    size_bytes: int = Field(ge=1)


class _Covering(AttendanceEvent):
    """What an excuse covers: a period of days (inclusive) or listed lessons."""

    covers_from: dt.date | None = None
    covers_to: dt.date | None = None
    lesson_ids: tuple[UUID, ...] = ()


@contract
class AbsenceCodesDefined(AttendanceEvent):
    event_type: ClassVar[str] = "AbsenceCodesDefined"
    schema_version: ClassVar[int] = 1
    school_id: UUID
    codes: tuple[AbsenceCodeEntry, ...]
    default_absent_code: str
    default_late_code: str


@contract
class ExcusePolicySet(AttendanceEvent):
    event_type: ClassVar[str] = "ExcusePolicySet"
    schema_version: ClassVar[int] = 1
    school_id: UUID
    parent_note_max_days: int = Field(ge=1)
    unexcused_thresholds: tuple[int, ...]
    effective_from: dt.date


@contract
class AttendanceTaken(AttendanceEvent):
    event_type: ClassVar[str] = "AttendanceTaken"
    schema_version: ClassVar[int] = 1
    lesson_id: UUID
    class_id: UUID
    date: dt.date
    all_present: bool
    marks: tuple[AttendanceMark, ...] = ()
    taken_by: UUID
    late_entry: bool = False
    late_entry_minutes: int = Field(default=0, ge=0)


@contract
class AbsenceRecorded(AttendanceEvent):
    event_type: ClassVar[str] = "AbsenceRecorded"
    schema_version: ClassVar[int] = 1
    absence_id: UUID
    student_id: UUID
    lesson_id: UUID
    class_id: UUID
    date: dt.date
    code: str
    counts_as_absence: bool
    is_late: bool
    excused_by_code: bool
    minutes_late: int | None = Field(default=None, ge=1)
    recorded_by: UUID
    #: Position of this mark among the lesson's changes; a consumer keeps only the newest.
    revision: int = Field(ge=1)


@contract
class AbsenceCorrected(AttendanceEvent):
    """A mark changed after attendance was taken: ``old_code`` None means the student had been
    marked present, ``new_code`` None means the absence was removed."""

    event_type: ClassVar[str] = "AbsenceCorrected"
    schema_version: ClassVar[int] = 1
    absence_id: UUID
    student_id: UUID
    lesson_id: UUID
    class_id: UUID
    date: dt.date
    old_code: str | None
    new_code: str | None
    counts_as_absence: bool = False
    is_late: bool = False
    excused_by_code: bool = False
    minutes_late: int | None = Field(default=None, ge=1)
    reason: str | None = None
    corrected_by: UUID
    revision: int = Field(ge=1)

    @model_validator(mode="after")
    def _changes_something(self) -> AbsenceCorrected:
        if self.old_code is None and self.new_code is None:
            raise ValueError("a correction needs an old or a new code")
        return self


@contract
class ExcuseSubmitted(_Covering):
    event_type: ClassVar[str] = "ExcuseSubmitted"
    schema_version: ClassVar[int] = 1
    request_id: UUID
    student_id: UUID
    submitted_by: UUID
    submitted_as: SubmitterRole
    reason: str = Field(min_length=1)
    document_type: DocumentType
    attachment: ExcuseAttachment | None = None


@contract
class ExcuseAccepted(_Covering):
    event_type: ClassVar[str] = "ExcuseAccepted"
    schema_version: ClassVar[int] = 1
    request_id: UUID
    student_id: UUID
    document_type: DocumentType
    accepted_by: UUID


@contract
class ExcuseRejected(AttendanceEvent):
    event_type: ClassVar[str] = "ExcuseRejected"
    schema_version: ClassVar[int] = 1
    request_id: UUID
    student_id: UUID
    reason: str = Field(min_length=1)
    rejected_by: UUID


@contract
class AbsenceExcused(AttendanceEvent):
    """An absence justified by an accepted request (``source="request"``, ``excuse_id`` is the
    request) or directly by the class teacher from a paper document (``source="direct"``)."""

    event_type: ClassVar[str] = "AbsenceExcused"
    schema_version: ClassVar[int] = 1
    absence_id: UUID
    student_id: UUID
    lesson_id: UUID
    date: dt.date
    excuse_id: UUID
    source: ExcuseSource
    document_type: DocumentType
    reference: str | None = None
    excused_by: UUID


@contract
class AbsenceThresholdReached(AttendanceEvent):
    event_type: ClassVar[str] = "AbsenceThresholdReached"
    schema_version: ClassVar[int] = 1
    student_id: UUID
    month: str = Field(pattern=MONTH_PATTERN)
    unexcused_lessons: int = Field(ge=1)
    threshold: int = Field(ge=1)
