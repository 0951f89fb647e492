"""The unit of work a handler decides in: aggregates to read, the service's facts, new events.

A handler never sees the event store, the aggregate cache, the connection, the outbox or the
Idempotency-Key. It reads aggregates (``get``, ``get_two``) and the service's read models
(``facts``), and records what it decided (``record``); the pipeline commits that as one append,
with the command's answer, and runs the handler again when another writer won the stream.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol, TypeVar

from ezurnals.shared.contracts.base import IntegrationEvent
from ezurnals.shared.domain import Aggregate
from ezurnals.shared.eventstore import CommandContext, CommandResult

F_co = TypeVar("F_co", covariant=True)
A = TypeVar("A", bound=Aggregate[Any])
B = TypeVar("B", bound=Aggregate[Any])


class UnitOfWork(Protocol[F_co]):
    """What a handler may do. ``F_co``: the service's facts (its read-model queries)."""

    @property
    def ctx(self) -> CommandContext:
        """Who asks, in which school."""

    @property
    def now(self) -> datetime:
        """The command's instant (the app's clock for a request, the job's for a job)."""

    @property
    def facts(self) -> F_co:
        """The service's reads it decides on (identity's facts, its own query tables)."""

    async def get(self, kind: type[A], stream_id: str) -> A:
        """The aggregate as the store holds it now (an empty one for a stream without events);
        the same object for the same stream within one unit of work."""

    async def get_two(
        self, first: type[A], first_id: str, second: type[B], second_id: str
    ) -> tuple[A, B]:
        """Two aggregates read together (a lesson and its school's policy): one round trip."""

    def record(self, aggregate: Aggregate[Any], events: Sequence[IntegrationEvent]) -> None:
        """New events for the aggregate's stream, expected after the version it was read at;
        they are applied to ``aggregate`` at once, so the handler answers from it."""


class Committing(UnitOfWork[F_co], Protocol[F_co]):
    """The pipeline's side of a unit of work."""

    async def commit(self, answer: CommandResult) -> CommandResult:
        """Append what was recorded with ``answer`` (under the command's key), in one statement.
        Returns ``answer``, or the earlier one when this command was already carried out.
        Raises ConcurrencyConflict when a recorded stream moved on since it was read."""

    async def recall(self) -> CommandResult | None:
        """The answer stored under the command's key, if any (IdempotencyKeyReused for a key
        that came with another request)."""
