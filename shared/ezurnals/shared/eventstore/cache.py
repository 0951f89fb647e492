"""Aggregates kept in memory between commands, so a long stream is not replayed for each one.

A class's grade book gathers every grade of a school year: replaying thousands of events for
each new grade makes a command slower the later in the year it comes. The cache keeps the
aggregates this process used last and catches a taken one up with only the events appended
since (by any process: the store stays the truth).

A cached aggregate is *taken out* while a command decides on it and *put back* only after its
events were appended, with them applied; a concurrent command on the same stream loads its own
copy, and an aggregate whose command was refused or failed is dropped. So no two commands ever
share one object, and what is cached is always a state the store holds.

A handler that reads other facts in one statement anyway may read the events appended since
``version_of`` with them, and hand them over (``caught_up``): the next ``take`` then needs no
round trip of its own. Such a handler must know the stream before it reads: where a stream's name
holds more than the request says (a grade book's names its school year), ``named`` remembers
which stream a key led to last time (``stream_named``).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable, Sequence
from typing import Any, TypeVar

import asyncpg

from ezurnals.shared.contracts.base import IntegrationEvent
from ezurnals.shared.domain import Aggregate
from ezurnals.shared.eventstore.store import EventStore

A = TypeVar("A", bound=Aggregate[Any])


class AggregateCache:
    def __init__(self, size: int = 512) -> None:
        self.size = size
        self._kept: OrderedDict[tuple[type[Any], str], Aggregate[Any]] = OrderedDict()
        #: Kept aggregates just caught up by their handler's own read: taken without a read.
        self._current: set[tuple[type[Any], str]] = set()
        self._names: OrderedDict[tuple[type[Any], Hashable], str] = OrderedDict()

    def named(self, kind: type[Aggregate[Any]], name: Hashable, stream_id: str) -> None:
        """Remember that ``name`` led to ``stream_id`` (as many names as aggregates, 8 times)."""
        key = (kind, name)
        self._names[key] = stream_id
        self._names.move_to_end(key)
        while len(self._names) > 8 * self.size:
            self._names.popitem(last=False)

    def stream_named(self, kind: type[Aggregate[Any]], name: Hashable) -> str | None:
        """The stream ``name`` led to last time, if this process remembers it."""
        return self._names.get((kind, name))

    def version_of(self, kind: type[Aggregate[Any]], stream_id: str) -> int:
        """The version of the aggregate kept for the stream; 0 when none is."""
        cached = self._kept.get((kind, stream_id))
        return cached.version if cached is not None else 0

    def caught_up(
        self,
        kind: type[Aggregate[Any]],
        stream_id: str,
        after_version: int,
        newer: Sequence[IntegrationEvent],
    ) -> None:
        """The stream's events after ``after_version`` as the caller just read them: the next
        ``take`` gets the aggregate with them applied and reads nothing. Ignored when the kept
        aggregate is no longer at ``after_version`` (taken or put back meanwhile): that ``take``
        reads as usual."""
        key = (kind, stream_id)
        cached = self._kept.get(key)
        if (cached.version if cached is not None else 0) != after_version:
            return
        current = kind.rehydrate(stream_id, newer) if cached is None else cached.applied(newer)
        self._keep(key, current)
        self._current.add(key)

    async def take(
        self,
        store: EventStore,
        kind: type[A],
        stream_id: str,
        *,
        conn: asyncpg.Connection | None = None,
    ) -> A:
        """The aggregate as the store holds it now: the cached one caught up, or loaded."""
        key = (kind, stream_id)
        cached = self._kept.pop(key, None)
        if key in self._current:
            self._current.discard(key)
            assert isinstance(cached, kind)
            return cached
        after = cached.version if cached is not None else 0
        loaded = await store.load(stream_id, after_version=after, conn=conn)
        newer = [e.parse() for e in loaded]
        if cached is None:
            return kind.rehydrate(stream_id, newer)
        assert isinstance(cached, kind)
        return cached.applied(newer)

    async def take_many(
        self,
        store: EventStore,
        wanted: Sequence[tuple[type[Aggregate[Any]], str]],
        *,
        conn: asyncpg.Connection | None = None,
    ) -> list[Aggregate[Any]]:
        """Several aggregates as ``take`` gives them, caught up in one round trip."""
        held: list[Aggregate[Any] | None] = []
        after: dict[str, int] = {}
        for kind, stream_id in wanted:
            key = (kind, stream_id)
            cached = self._kept.pop(key, None)
            if key in self._current:
                self._current.discard(key)
            else:
                after[stream_id] = cached.version if cached is not None else 0
            held.append(cached)
        loaded = await store.load_after(after, conn=conn) if after else {}
        out: list[Aggregate[Any]] = []
        for (kind, stream_id), cached in zip(wanted, held, strict=True):
            newer = [e.parse() for e in loaded.get(stream_id, [])]
            out.append(
                kind.rehydrate(stream_id, newer) if cached is None else cached.applied(newer)
            )
        return out

    def put_back(self, aggregate: Aggregate[Any]) -> None:
        """Keep an aggregate whose decided events were appended (and applied to it)."""
        key = (type(aggregate), aggregate.stream_id)
        self._current.discard(key)
        self._keep(key, aggregate)

    def _keep(self, key: tuple[type[Any], str], aggregate: Aggregate[Any]) -> None:
        self._kept[key] = aggregate
        self._kept.move_to_end(key)
        while len(self._kept) > self.size:
            dropped, _ = self._kept.popitem(last=False)
            self._current.discard(dropped)
