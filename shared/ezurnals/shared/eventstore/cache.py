"""Aggregates kept in memory between commands, so a long stream is not replayed for each one.

A class's grade book gathers every grade of a school year: replaying thousands of events for
each new grade makes a command slower the later in the year it comes. The cache keeps the
aggregates this process used last and catches a taken one up with only the events appended
since (by any process: the store stays the truth).

A cached aggregate is *taken out* while a command decides on it and *put back* only after its
events were appended, with them applied; a concurrent command on the same stream loads its own
copy, and an aggregate whose command was refused or failed is dropped. So no two commands ever
share one object, and what is cached is always a state the store holds.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any, TypeVar

import asyncpg

from ezurnals.shared.domain import Aggregate
from ezurnals.shared.eventstore.store import EventStore

A = TypeVar("A", bound=Aggregate[Any])


class AggregateCache:
    def __init__(self, size: int = 512) -> None:
        self.size = size
        self._kept: OrderedDict[tuple[type[Any], str], Aggregate[Any]] = OrderedDict()

    async def take(
        self,
        store: EventStore,
        kind: type[A],
        stream_id: str,
        *,
        conn: asyncpg.Connection | None = None,
    ) -> A:
        """The aggregate as the store holds it now: the cached one caught up, or loaded."""
        cached = self._kept.pop((kind, stream_id), None)
        after = cached.version if cached is not None else 0
        loaded = await store.load(stream_id, after_version=after, conn=conn)
        newer = [e.parse() for e in loaded]
        if cached is None:
            return kind.rehydrate(stream_id, newer)
        assert isinstance(cached, kind)
        return cached.applied(newer)

    def put_back(self, aggregate: Aggregate[Any]) -> None:
        """Keep an aggregate whose decided events were appended (and applied to it)."""
        key = (type(aggregate), aggregate.stream_id)
        self._kept[key] = aggregate
        self._kept.move_to_end(key)
        while len(self._kept) > self.size:
            self._kept.popitem(last=False)
