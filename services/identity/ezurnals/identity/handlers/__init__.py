"""Identity's command handlers: load aggregates → decide → append, one transaction per command.

Many identity commands touch several streams at once (registering a student writes the person,
the roll and the guardianship), so handlers return an ``Outcome`` with one ``Change`` per stream
and ``carry_out`` appends them together, updates the query tables and runs any extra writes
(keys, logins, refresh tokens) in the same transaction, idempotently per Idempotency-Key.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

import asyncpg

from ezurnals.identity import projections
from ezurnals.shared.contracts.base import EventEnvelope
from ezurnals.shared.contracts.identity import IdentityEvent
from ezurnals.shared.domain import Aggregate
from ezurnals.shared.eventstore import (
    CommandContext,
    CommandResult,
    ConcurrencyConflict,
    DuplicateCommand,
    EventStore,
)

Extra = Callable[[asyncpg.Connection], Awaitable[None]]
#: The unique index on ``logins.username``.
USERNAME_CONSTRAINT = "logins_pkey"
#: Commands that register people retry this often: each lost race means another one won.
REGISTRATION_ATTEMPTS = 8
A = TypeVar("A", bound=Aggregate[IdentityEvent])


@dataclass
class Change:
    """New events for one stream, appended after ``expected_version``."""

    stream_id: str
    expected_version: int
    events: Sequence[IdentityEvent]

    @classmethod
    def of(cls, aggregate: Aggregate[IdentityEvent], events: Sequence[IdentityEvent]) -> Change:
        """The events decided on ``aggregate`` (which has not applied them yet)."""
        return cls(aggregate.stream_id, aggregate.version, events)


@dataclass
class Outcome:
    changes: list[Change]
    result: CommandResult
    #: Writes that are not events (keys, logins, tokens), made in the append's transaction.
    extra: list[Extra] = field(default_factory=list)


async def load(store: EventStore, kind: type[A], stream_id: str) -> A:
    return kind.rehydrate(stream_id, [e.parse() for e in await store.load(stream_id)])


def _inline(
    extras: list[Extra],
) -> Callable[[asyncpg.Connection, Sequence[EventEnvelope]], Awaitable[None]]:
    """Query tables follow the events, then the command's extra writes; one transaction."""

    async def inline(conn: asyncpg.Connection, envs: Sequence[EventEnvelope]) -> None:
        await projections.apply(conn, envs)
        for extra in extras:
            await extra(conn)

    return inline


async def carry_out(
    store: EventStore,
    ctx: CommandContext,
    decide: Callable[[], Awaitable[Outcome]],
    *,
    attempts: int = 1,
) -> CommandResult:
    """Run a multi-stream command once per Idempotency-Key; retry a lost race (a stream moved on,
    a username taken meanwhile) up to ``attempts`` times."""
    if ctx.idempotency_key:
        previous = await store.recall(ctx.idempotency_key, ctx.request_hash)
        if previous is not None:
            return previous
    for attempt in range(1, attempts + 1):
        outcome = await decide()
        envelopes = [
            env
            for change in outcome.changes
            if change.events
            for env in store.envelopes(
                change.stream_id, change.expected_version, change.events, ctx
            )
        ]

        inline = _inline(outcome.extra)

        try:
            if envelopes:
                await store.append_envelopes(envelopes, ctx, result=outcome.result, inline=inline)
            elif outcome.extra or ctx.idempotency_key:
                async with store.db.raw() as conn, conn.transaction():
                    for extra in outcome.extra:
                        await extra(conn)
        except DuplicateCommand as duplicate:
            return duplicate.result
        except ConcurrencyConflict:
            if attempt == attempts:
                raise
            continue
        except asyncpg.UniqueViolationError as clash:
            # A concurrent command took the username this one chose: choose again.
            if clash.constraint_name != USERNAME_CONSTRAINT or attempt == attempts:
                raise
            continue
        return outcome.result
    raise AssertionError("unreachable: the last attempt returns or raises")
