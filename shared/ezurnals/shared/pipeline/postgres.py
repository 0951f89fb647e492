"""The unit of work on the service's PostgreSQL event store.

Aggregates come from the process's ``AggregateCache`` caught up with what any process appended
since; a commit is one ``append_envelopes`` statement holding the events of every recorded
stream, their outbox rows, the command's answer under its Idempotency-Key and the inline views.
Only after it succeeded are the aggregates put back in the cache (with the events applied), so
the cache only ever holds states the store holds; a refusal, a conflict or a repeat drops them.
"""

from __future__ import annotations

from typing import Any, TypeVar

from ezurnals.shared.domain import Aggregate
from ezurnals.shared.eventstore import CommandContext, CommandResult, DuplicateCommand, EventStore
from ezurnals.shared.eventstore.cache import AggregateCache
from ezurnals.shared.eventstore.store import InlineProjection
from ezurnals.shared.pipeline.recording import Recording

F = TypeVar("F")
A = TypeVar("A", bound=Aggregate[Any])
B = TypeVar("B", bound=Aggregate[Any])


class StoreUnitOfWork(Recording[F]):
    def __init__(
        self,
        store: EventStore,
        aggregates: AggregateCache,
        ctx: CommandContext,
        facts: F,
        *,
        inline: InlineProjection | None = None,
    ) -> None:
        super().__init__(ctx, facts)
        self.store = store
        self.aggregates = aggregates
        self.inline = inline

    async def _take(self, kind: type[A], stream_id: str) -> A:
        return await self.aggregates.take(self.store, kind, stream_id)

    async def _take_two(
        self, first: type[A], first_id: str, second: type[B], second_id: str
    ) -> tuple[A, B]:
        one, other = await self.aggregates.take_many(
            self.store, [(first, first_id), (second, second_id)]
        )
        assert isinstance(one, first) and isinstance(other, second)
        return one, other

    async def commit(self, answer: CommandResult) -> CommandResult:
        envelopes = [
            envelope
            for stream, (read_at, events) in self.recorded.items()
            for envelope in self.store.envelopes(stream, read_at, events, self.ctx)
        ]
        if envelopes or self.ctx.idempotency_key:
            try:
                await self.store.append_envelopes(
                    envelopes, self.ctx, result=answer, inline=self.inline
                )
            except DuplicateCommand as duplicate:
                return duplicate.result
        for aggregate in self.taken.values():
            self.aggregates.put_back(aggregate)
        return answer

    async def recall(self) -> CommandResult | None:
        key = self.ctx.idempotency_key
        if key is None:
            return None
        return await self.store.recall(key, self.ctx.request_hash)
