"""Integration events of the reporting service: documents issued to families and notifications.

They carry ids and a content hash of what was issued, never names: a document is reproducible
from the read models, and the hash shows whether a re-run changed anything.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, ClassVar
from uuid import UUID

from pydantic import Field

from ezurnals.shared.contracts.base import IntegrationEvent, contract

Month = Annotated[str, Field(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")]
Sha256 = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]


class ReportPeriod(StrEnum):
    """What a report card (liecība) covers."""

    SEMESTER1 = "semester1"
    SEMESTER2 = "semester2"
    YEAR = "year"


class Channel(StrEnum):
    EMAIL = "email"
    SMS = "sms"


class ReportingEvent(IntegrationEvent):
    service: ClassVar[str] = "reporting"


@contract
class StatementIssued(ReportingEvent):
    """A monthly statement of grades and absences (sekmju un kavējumu izraksts, rule 5).

    Issued again for the same month only when its content changed (a later correction).
    """

    event_type: ClassVar[str] = "StatementIssued"
    schema_version: ClassVar[int] = 1
    statement_id: UUID
    school_id: UUID
    student_id: UUID
    class_id: UUID
    month: Month
    grades: int = Field(ge=0)
    absences_excused: int = Field(ge=0)
    absences_unexcused: int = Field(ge=0)
    content_sha256: Sha256
    issued_at: datetime


@contract
class ReportCardIssued(ReportingEvent):
    """A report card (liecība, rule 8) from finalised period grades."""

    event_type: ClassVar[str] = "ReportCardIssued"
    schema_version: ClassVar[int] = 1
    report_card_id: UUID
    school_id: UUID
    student_id: UUID
    class_id: UUID
    school_year: str
    period: ReportPeriod
    content_sha256: Sha256
    issued_by: UUID | None = None
    issued_at: datetime


@contract
class NotificationSent(ReportingEvent):
    """A family notification left through a channel; one per (guardian, source event, channel)."""

    event_type: ClassVar[str] = "NotificationSent"
    schema_version: ClassVar[int] = 1
    notification_id: UUID
    school_id: UUID
    guardian_id: UUID
    student_id: UUID
    channel: Channel
    kind: str
    source_event_ids: tuple[UUID, ...]
    digest: bool = False
    sent_at: datetime
