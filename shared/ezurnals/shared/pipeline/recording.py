"""What both units of work share: one object per stream, and the events recorded for each."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Generic, TypeVar

from ezurnals.shared.contracts.base import IntegrationEvent
from ezurnals.shared.domain import Aggregate
from ezurnals.shared.eventstore import CommandContext

F = TypeVar("F")
A = TypeVar("A", bound=Aggregate[Any])
B = TypeVar("B", bound=Aggregate[Any])


class Recording(ABC, Generic[F]):
    """The handler's side of a unit of work; subclasses say how aggregates are read
    (``_take``, ``_take_two``) and how the recorded events are committed."""

    def __init__(self, ctx: CommandContext, facts: F) -> None:
        self._ctx = ctx
        self._facts = facts
        #: Every aggregate read, by stream: the same object for a second ``get``.
        self.taken: dict[str, Aggregate[Any]] = {}
        #: Per recorded stream, the version it was read at and the events recorded since.
        self.recorded: dict[str, tuple[int, list[IntegrationEvent]]] = {}

    @property
    def ctx(self) -> CommandContext:
        return self._ctx

    @property
    def now(self) -> datetime:
        return self._ctx.now

    @property
    def facts(self) -> F:
        return self._facts

    async def get(self, kind: type[A], stream_id: str) -> A:
        found = self.taken.get(stream_id)
        if found is None:
            found = self.taken[stream_id] = await self._take(kind, stream_id)
        assert isinstance(found, kind), (stream_id, found)
        return found

    async def get_two(
        self, first: type[A], first_id: str, second: type[B], second_id: str
    ) -> tuple[A, B]:
        if first_id in self.taken or second_id in self.taken:
            return await self.get(first, first_id), await self.get(second, second_id)
        one, other = await self._take_two(first, first_id, second, second_id)
        self.taken[first_id], self.taken[second_id] = one, other
        return one, other

    def record(self, aggregate: Aggregate[Any], events: Sequence[IntegrationEvent]) -> None:
        if not events:
            return
        stream = aggregate.stream_id
        if self.taken.get(stream) is not aggregate:
            raise ValueError(f"record on {stream!r}, which this unit of work did not read")
        _, so_far = self.recorded.setdefault(stream, (aggregate.version, []))
        so_far.extend(events)
        aggregate.applied(events)

    @abstractmethod
    async def _take(self, kind: type[A], stream_id: str) -> A:
        """The aggregate as its stream holds it now."""

    async def _take_two(
        self, first: type[A], first_id: str, second: type[B], second_id: str
    ) -> tuple[A, B]:
        return await self._take(first, first_id), await self._take(second, second_id)
