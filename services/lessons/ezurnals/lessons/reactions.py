"""What the lessons service decides when identity tells it something: a newly registered school
gets the seed entry-deadline rules as its first policy version (``EntryDeadlinePolicySet``), so
attendance, reporting and the web app read the deadline from lessons' events, never a copy.

A reaction runs in the consumer's claim transaction and appends on its connection, so the event
is appended exactly when the claim commits. The decision is idempotent by itself (a school that
already has a version gets nothing), which also makes a rebuild's replay harmless.
"""

from __future__ import annotations

from typing import ClassVar

import asyncpg

from ezurnals.lessons.domain.policy import DeadlinePolicy
from ezurnals.lessons.projections import VIEWS
from ezurnals.lessons.streams import policy_stream
from ezurnals.shared.contracts import identity as idn
from ezurnals.shared.contracts.base import EventEnvelope, IntegrationEvent
from ezurnals.shared.db import Database
from ezurnals.shared.eventstore import CommandContext, ConcurrencyConflict, EventStore
from ezurnals.shared.messaging.projection import Projection
from ezurnals.shared.settings import Settings

#: A school's administrator setting a policy in the same instant is the only race; one more look
#: at the stream then finds their version.
ATTEMPTS = 3


class SeedDeadlinePolicy(Projection):
    """On ``SchoolRegistered``: the school's first deadline-policy version, the seed rules."""

    sources = ("identity",)
    event_types: ClassVar[frozenset[str] | None] = frozenset({"SchoolRegistered"})

    def __init__(self, store: EventStore) -> None:
        self.store = store

    async def apply(
        self, conn: asyncpg.Connection, envelope: EventEnvelope, event: IntegrationEvent
    ) -> None:
        assert isinstance(event, idn.SchoolRegistered)
        stream = policy_stream(event.school_id)
        ctx = CommandContext(
            school_id=event.school_id,
            correlation_id=envelope.correlation_id,
            causation_id=envelope.event_id,
        )
        for _ in range(ATTEMPTS):
            loaded = await self.store.load(stream, conn=conn)
            policy = DeadlinePolicy.rehydrate(stream, [e.parse() for e in loaded])
            events = policy.adopt_seed_rules(event.school_id)
            if not events:
                return
            try:
                async with conn.transaction():  # a savepoint: a lost race leaves the claim intact
                    await self.store.append(
                        stream, policy.version, events, ctx, inline=VIEWS, conn=conn
                    )
                return
            except ConcurrencyConflict:
                continue
        raise ConcurrencyConflict(stream, policy.version)


def reactions(settings: Settings) -> list[Projection]:
    """The store appends on the consumer's connection; its own pool is never opened."""
    store = EventStore(Database(settings.database_url), topic=settings.topic("lessons"))
    return [SeedDeadlinePolicy(store)]
