"""Read models fed by events, with exactly-once effects from tracking records.

A Projection owns tables in a PostgreSQL schema (``rm`` by default). Each event is first *claimed*
by inserting ``(consumer, event_id)`` into that schema's ``processed_events`` in the same
transaction that applies it: a redelivered or re-relayed event finds its claim and changes nothing,
and two appliers racing on one event serialise on the claim row. Because the claims live beside the
read models, a rebuild into a fresh schema and an atomic schema swap carry them along.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import ClassVar

import asyncpg

from ezurnals.shared.contracts.base import EventEnvelope, IntegrationEvent

_IDENT = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")

TRACKING_DDL = (
    """CREATE TABLE IF NOT EXISTS processed_events (
           consumer TEXT NOT NULL, event_id UUID NOT NULL,
           processed_at TIMESTAMPTZ NOT NULL DEFAULT now(),
           PRIMARY KEY (consumer, event_id))""",
)


def schema_name(name: str) -> str:
    if not _IDENT.match(name):
        raise ValueError(f"not a safe schema name: {name!r}")
    return name


class Projection(ABC):
    """One read model. ``sources`` are the producing services whose topics it reads."""

    sources: ClassVar[tuple[str, ...]]
    #: CREATE statements with unqualified names; run with search_path set to the target schema.
    ddl: ClassVar[tuple[str, ...]] = ()
    #: Event types this projection applies; None means all. Others are claimed and skipped.
    event_types: ClassVar[frozenset[str] | None] = None

    def wants(self, event_type: str) -> bool:
        return self.event_types is None or event_type in self.event_types

    @abstractmethod
    async def apply(
        self, conn: asyncpg.Connection, envelope: EventEnvelope, event: IntegrationEvent
    ) -> None:
        """Apply one event. Runs inside the claim's transaction; raise to refuse it."""

    async def apply_batch(
        self, conn: asyncpg.Connection, items: Sequence[tuple[EventEnvelope, IntegrationEvent]]
    ) -> None:
        """Apply events in order. Override to pipeline writes (``executemany``) for throughput;
        a failure anywhere falls back to applying one event at a time."""
        for envelope, event in items:
            await self.apply(conn, envelope, event)


async def install(conn: asyncpg.Connection, schema: str, projections: Sequence[Projection]) -> None:
    """Create ``schema`` with the tracking table and every projection's tables (idempotent)."""
    schema = schema_name(schema)
    async with conn.transaction():
        # Workers starting together would otherwise race on the same DDL ("tuple concurrently
        # updated" when two replace one function).
        await conn.execute("SELECT pg_advisory_xact_lock(hashtext($1))", f"install {schema}")
        await conn.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
        await conn.execute(f"SET LOCAL search_path TO {schema}, public")
        for statement in TRACKING_DDL:
            await conn.execute(statement)
        for projection in projections:
            for statement in projection.ddl:
                await conn.execute(statement)


async def apply_events(
    conn: asyncpg.Connection,
    schema: str,
    consumer: str,
    projections: Sequence[Projection],
    items: Sequence[tuple[EventEnvelope, IntegrationEvent]],
) -> int:
    """Claim and apply ``items`` in one transaction; returns how many were new."""
    if not items:
        return 0
    async with conn.transaction():
        await conn.execute(f"SET LOCAL search_path TO {schema_name(schema)}, public")
        claimed = {
            r["event_id"]
            for r in await conn.fetch(
                "INSERT INTO processed_events (consumer, event_id) "
                "SELECT $1, unnest($2::uuid[]) ON CONFLICT DO NOTHING RETURNING event_id",
                consumer,
                [env.event_id for env, _ in items],
            )
        }
        new = len(claimed)
        fresh = []
        for env, event in items:
            if env.event_id in claimed:
                claimed.discard(env.event_id)  # a duplicate inside one batch applies once
                fresh.append((env, event))
        for projection in projections:
            wanted = [(env, ev) for env, ev in fresh if projection.wants(env.event_type)]
            if wanted:
                await projection.apply_batch(conn, wanted)
    return new
