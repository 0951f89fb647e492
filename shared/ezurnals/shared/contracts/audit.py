"""Reads of personal data (rule 10), published by every service whose API hands it out.

Any service may produce these: each audited read is appended to the reading service's own event
store and relayed on its topic, so identity can answer "who read my child's data" across the whole
system from events, without reading another service's database. Ids only, never names.
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar
from uuid import UUID

from pydantic import Field

from ezurnals.shared.contracts.base import IntegrationEvent, contract


class AuditEvent(IntegrationEvent):
    service: ClassVar[str] = "audit"


@contract
class PersonalDataRead(AuditEvent):
    """One successful API answer that handed out these people's data."""

    event_type: ClassVar[str] = "PersonalDataRead"
    schema_version: ClassVar[int] = 1
    #: The service whose API handed the data out (its topic carries the event too, but a
    #: consumer of several topics sees only the event).
    source_service: str = Field(min_length=1, max_length=50)
    school_id: UUID
    reader_id: UUID
    reader_roles: list[str]
    subject_ids: list[UUID] = Field(min_length=1)
    #: What was handed out, e.g. ``absences`` or ``personal_file``.
    what: str = Field(min_length=1, max_length=200)
    method: str = Field(min_length=1, max_length=10)
    path: str = Field(min_length=1, max_length=2000)
    read_at: datetime
