"""Reads of personal data (rule 10), published by every service whose API hands it out.

Any service may produce these: each audited read is appended to the reading service's own event
store and relayed on its topic, so identity can answer "who read my child's data" across the whole
system from events, without reading another service's database. Ids only, never names.

``PersonalDataReads`` carries every read of one group-commit batch, so a busy API publishes a few
events a second instead of one per read (each costs a relay send, broker storage and a consumer
claim). ``PersonalDataRead`` is no longer produced but stays: stored events still replay.
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

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


#: Reads, and people read about, per ``PersonalDataReads`` event: a larger batch is split, which
#: keeps each message well under the broker's 1 MB default. Producers cap at these; consumers
#: accept any length.
MAX_READS_PER_EVENT = 200
MAX_SUBJECTS_PER_EVENT = 5_000


class AuditedRead(BaseModel):
    """One successful API answer that handed out these people's ``what``."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    school_id: UUID
    reader_id: UUID
    reader_roles: list[str]
    subject_ids: list[UUID] = Field(min_length=1)
    what: str = Field(min_length=1, max_length=200)
    method: str = Field(min_length=1, max_length=10)
    path: str = Field(min_length=1, max_length=2000)
    read_at: datetime
    #: The request's correlation id. The event joins many requests, so its envelope carries one
    #: only when every read in it shares it.
    correlation_id: UUID | None = None


@contract
class PersonalDataReads(AuditEvent):
    """The reads one service's API committed together (one group-commit batch, or part of it)."""

    event_type: ClassVar[str] = "PersonalDataReads"
    schema_version: ClassVar[int] = 1
    source_service: str = Field(min_length=1, max_length=50)
    #: In commit order; a read's index is its ``read_no`` in identity's access log.
    reads: list[AuditedRead] = Field(min_length=1)
