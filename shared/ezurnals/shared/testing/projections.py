"""Test support for the write path: the statements a connection ran, and a SqlProjection's
batches checked against its events applied one at a time.

The same batches of events are appended to two fresh databases of the service, to one with the
projection as the store runs it (its CTEs in the append's statement, or fed a batch that does
not fit them in order) and to the other with each event applied alone, in order; the query tables
must then hold the same rows, and each batch must have been refused, or not, in the same way on
both sides.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass

import asyncpg

from ezurnals.shared.contracts.base import EventEnvelope, IntegrationEvent
from ezurnals.shared.db import Database
from ezurnals.shared.eventstore.store import (
    CommandContext,
    EventStore,
    InlineProjection,
    SqlProjection,
)

#: How the statements of asyncpg's look-up of types begin: its own, once per connection and type.
_TYPE_LOOKUP = (
    "WITH RECURSIVE typeinfo_tree",
    "SELECT current_setting('jit')",
    "SELECT set_config('jit'",
)


def asyncpg_lookup(query: str) -> bool:
    """Whether a statement is asyncpg's own, not the application's."""
    return " ".join(query.split()).startswith(_TYPE_LOOKUP)


@asynccontextmanager
async def statements_on(conn: asyncpg.Connection) -> AsyncIterator[list[str]]:
    """The statements run on ``conn`` meanwhile, but for asyncpg's look-ups of types."""
    ran: list[str] = []

    def log(record: asyncpg.connection.LoggedQuery) -> None:
        if not asyncpg_lookup(record.query):
            ran.append(record.query)

    conn.add_query_logger(log)
    try:
        yield ran
        await asyncio.sleep(0)  # asyncpg calls its query loggers soon after a statement
    finally:
        conn.remove_query_logger(log)


@dataclass(frozen=True)
class Appended:
    """How one batch went: the statements it took and the constraint that refused it, if any."""

    statements: int
    refused_by: str | None


@dataclass(frozen=True)
class BothWays:
    """What the same batches did to the two databases."""

    #: Whether each batch fitted the projection's statement, as ``fits`` said beforehand.
    fits: list[bool]
    batched: list[Appended]
    one_by_one: list[Appended]
    #: ``table_rows`` of each database afterwards.
    rows_batched: dict[str, list[str]]
    rows_one_by_one: dict[str, list[str]]


@asynccontextmanager
async def two_stores(urls: Sequence[str]) -> AsyncIterator[tuple[EventStore, EventStore]]:
    """Event stores on two databases of the service (migrated): batched, one event at a time."""
    databases = [Database(url, pool_size=2) for url in urls]
    try:
        yield EventStore(databases[0], topic="batched"), EventStore(databases[1], topic="each")
    finally:
        for db in databases:
            await db.dispose()


async def append_both_ways(
    projection: SqlProjection,
    batches: Sequence[Sequence[IntegrationEvent]],
    tables: Sequence[str],
    stores: tuple[EventStore, EventStore],
) -> BothWays:
    """Append every batch, each to a stream of its own, in order, to the first store with the
    projection and to the second with the projection applied to each event alone."""
    batched, each = stores
    envelopes = [
        batched.envelopes(f"both-ways-{i}", 0, events, CommandContext())
        for i, events in enumerate(batches)
    ]

    async def one_by_one(conn: asyncpg.Connection, envs: Sequence[EventEnvelope]) -> None:
        for envelope in envs:
            await projection(conn, [envelope])

    return BothWays(
        fits=[projection.fits(batch) for batch in envelopes],
        batched=await _append_all(batched, envelopes, projection),
        one_by_one=await _append_all(each, envelopes, one_by_one),
        rows_batched=await table_rows(batched, tables),
        rows_one_by_one=await table_rows(each, tables),
    )


async def _append_all(
    store: EventStore, batches: Sequence[Sequence[EventEnvelope]], inline: InlineProjection
) -> list[Appended]:
    outcomes = []
    async with store.db.raw() as conn:
        for batch in batches:
            refused_by = None
            async with statements_on(conn) as ran:
                try:
                    await store.append_envelopes(batch, CommandContext(), inline=inline, conn=conn)
                except asyncpg.IntegrityConstraintViolationError as refused:
                    refused_by = refused.constraint_name or type(refused).__name__
            outcomes.append(Appended(len(ran), refused_by))
    return outcomes


async def table_rows(store: EventStore, tables: Sequence[str]) -> dict[str, list[str]]:
    """Every row of each table as PostgreSQL writes it as text, sorted: equal texts are equal
    rows, down to a numeric's scale and a jsonb's content."""
    async with store.db.raw() as conn:
        return {
            table: [r[0] for r in await conn.fetch(f"SELECT t::text FROM {table} t ORDER BY 1")]
            for table in tables
        }
