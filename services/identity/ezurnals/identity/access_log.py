"""Who read a person's data anywhere in the system (rule 10), for access logs and staff audits.

Identity records its own reads in its ``access_audit`` table (``ezurnals.shared.http.audit``);
every other service publishes a ``PersonalDataReads`` for each batch of reads it hands out (older
stores hold a ``PersonalDataRead`` per read, which still replay), and this projection collects them
into identity's read-model schema. An access log is both, newest first.
Identity's own reads come back on its own topic too (which every worker reads for revocations);
they are skipped here, as the local table already holds them, consistent with the request.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, ClassVar
from uuid import UUID

import asyncpg

from ezurnals.shared.contracts.audit import AuditedRead, PersonalDataRead, PersonalDataReads
from ezurnals.shared.contracts.base import EventEnvelope, IntegrationEvent
from ezurnals.shared.http import audit
from ezurnals.shared.messaging.projection import Projection, schema_name
from ezurnals.shared.service import Runtime
from ezurnals.shared.settings import Settings

#: The services whose APIs hand out people's data besides identity itself.
READERS = ("lessons", "attendance", "grading", "reporting")


class ReadsElsewhere(Projection):
    """One row per person per read in another service: ids only, like the events."""

    sources = READERS
    event_types = frozenset({PersonalDataRead.event_type, PersonalDataReads.event_type})
    #: The columns of ``access_audit`` (so one query serves both), plus where the read was. A row
    #: is keyed by its event, the read's index in it (``read_no``; 0 for a ``PersonalDataRead``)
    #: and the person: one batch may hold several readers' reads of the same person. The
    #: statements after the CREATE upgrade a table made before ``read_no`` in place; they run on
    #: every worker start, so each is a no-op the second time.
    ddl = (
        """CREATE TABLE IF NOT EXISTS personal_data_reads (
               id BIGSERIAL PRIMARY KEY,
               event_id UUID NOT NULL,
               read_no INT NOT NULL DEFAULT 0,
               service TEXT NOT NULL,
               school_id UUID NOT NULL,
               actor_id UUID NOT NULL,
               actor_roles TEXT[] NOT NULL,
               subject_id UUID NOT NULL,
               what TEXT NOT NULL,
               method TEXT NOT NULL,
               path TEXT NOT NULL,
               accessed_at TIMESTAMPTZ NOT NULL)""",
        "ALTER TABLE personal_data_reads ADD COLUMN IF NOT EXISTS read_no INT NOT NULL DEFAULT 0",
        "CREATE UNIQUE INDEX IF NOT EXISTS personal_data_reads_read "
        "ON personal_data_reads (event_id, read_no, subject_id)",
        "ALTER TABLE personal_data_reads "
        "DROP CONSTRAINT IF EXISTS personal_data_reads_event_id_subject_id_key",
        "CREATE INDEX IF NOT EXISTS personal_data_reads_subject "
        "ON personal_data_reads (school_id, subject_id, accessed_at)",
        "CREATE INDEX IF NOT EXISTS personal_data_reads_actor "
        "ON personal_data_reads (school_id, actor_id, accessed_at)",
    )
    INSERT: ClassVar[str] = """INSERT INTO personal_data_reads (event_id, read_no, subject_id,
               service, school_id, actor_id, actor_roles, what, method, path, accessed_at)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT DO NOTHING"""

    async def apply(
        self, conn: asyncpg.Connection, envelope: EventEnvelope, event: IntegrationEvent
    ) -> None:
        await self.apply_batch(conn, [(envelope, event)])

    async def apply_batch(
        self, conn: asyncpg.Connection, items: Sequence[tuple[EventEnvelope, IntegrationEvent]]
    ) -> None:
        rows: list[tuple[Any, ...]] = []
        for envelope, event in items:
            assert isinstance(event, PersonalDataRead | PersonalDataReads)
            if event.source_service not in self.sources:
                continue
            reads: Sequence[AuditedRead | PersonalDataRead] = (
                event.reads if isinstance(event, PersonalDataReads) else [event]
            )
            rows += [
                (
                    envelope.event_id,
                    read_no,
                    subject,
                    event.source_service,
                    read.school_id,
                    read.reader_id,
                    read.reader_roles,
                    read.what,
                    read.method,
                    read.path,
                    read.read_at,
                )
                for read_no, read in enumerate(reads)
                for subject in read.subject_ids
            ]
        if rows:
            await conn.executemany(self.INSERT, rows)


def projections(_: Settings) -> list[Projection]:
    return [ReadsElsewhere()]


async def accesses(
    runtime: Runtime,
    school_id: UUID,
    *,
    subject_ids: Iterable[UUID] | None = None,
    actor_id: UUID | None = None,
    limit: int = 500,
) -> list[dict[str, Any]]:
    """Recorded reads at a school across all services, newest first: of these subjects, or by
    this actor, each with the ``service`` whose API handed the data out."""
    subjects = list(subject_ids) if subject_ids is not None else None
    own = [
        {**read, "service": "identity"}
        for read in await audit.accesses(
            runtime.db, school_id, subject_ids=subjects, actor_id=actor_id, limit=limit
        )
    ]
    table = f"{schema_name(runtime.settings.read_model_schema)}.personal_data_reads"
    async with runtime.db.raw() as conn:
        try:
            rows = await audit.accesses_in(
                conn, table, school_id, subject_ids=subjects, actor_id=actor_id, limit=limit
            )
        except asyncpg.UndefinedTableError:
            rows = []  # the worker has not installed the read model yet: nothing read elsewhere
    elsewhere = [{**audit.entry(r), "service": r["service"]} for r in rows]
    merged = sorted([*own, *elsewhere], key=_when, reverse=True)
    return merged[:limit]


def _when(entry: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(entry["accessed_at"])
