"""Streams in a dict: the unit of work of handler unit tests (given events → when a command →
then the new events and the result), as cosmicpython tests its handlers. It keeps the store's
rules that a handler can observe: a stream that moved on since it was read is a conflict, and a
command's Idempotency-Key gets its first answer (or is refused for another request)."""

from __future__ import annotations

import copy
from typing import Any, TypeVar

from ezurnals.shared.contracts.base import IntegrationEvent
from ezurnals.shared.domain import Aggregate
from ezurnals.shared.eventstore import (
    CommandContext,
    CommandResult,
    ConcurrencyConflict,
    IdempotencyKeyReused,
)
from ezurnals.shared.pipeline.recording import Recording

F = TypeVar("F")
A = TypeVar("A", bound=Aggregate[Any])


class InMemoryStreams:
    def __init__(self) -> None:
        self.streams: dict[str, list[IntegrationEvent]] = {}
        #: Every event committed since the test began, with its stream, in order.
        self.appended: list[tuple[str, IntegrationEvent]] = []
        self.answers: dict[str, tuple[str, CommandResult]] = {}

    def given(self, stream_id: str, *events: IntegrationEvent) -> None:
        """Events that happened before the test (not in ``appended``)."""
        self.streams.setdefault(stream_id, []).extend(events)

    def new_events(self) -> list[IntegrationEvent]:
        """What the commands appended, in order."""
        return [event for _, event in self.appended]

    def unit(self, ctx: CommandContext, facts: F) -> InMemoryUnitOfWork[F]:
        return InMemoryUnitOfWork(self, ctx, facts)


class InMemoryUnitOfWork(Recording[F]):
    def __init__(self, streams: InMemoryStreams, ctx: CommandContext, facts: F) -> None:
        super().__init__(ctx, facts)
        self.memory = streams

    async def _take(self, kind: type[A], stream_id: str) -> A:
        events = copy.deepcopy(self.memory.streams.get(stream_id, []))
        return kind.rehydrate(stream_id, events)

    async def commit(self, answer: CommandResult) -> CommandResult:
        key = self.ctx.idempotency_key
        if key is not None and key in self.memory.answers:
            return self._same(self.memory.answers[key])
        for stream, (read_at, _) in self.recorded.items():
            if len(self.memory.streams.get(stream, [])) != read_at:
                raise ConcurrencyConflict(stream, read_at)
        for stream, (_, events) in self.recorded.items():
            self.memory.streams.setdefault(stream, []).extend(events)
            self.memory.appended.extend((stream, e) for e in events)
        if key is not None:
            self.memory.answers[key] = (self.ctx.request_hash, answer)
        return answer

    async def recall(self) -> CommandResult | None:
        key = self.ctx.idempotency_key
        found = self.memory.answers.get(key) if key is not None else None
        return None if found is None else self._same(found)

    def _same(self, found: tuple[str, CommandResult]) -> CommandResult:
        request_hash, answer = found
        if request_hash != self.ctx.request_hash:
            raise IdempotencyKeyReused(
                "this Idempotency-Key was already used for a different request"
            )
        return answer
