"""From an HTTP request to a CommandContext, and running a command idempotently.

``execute``/``execute_on`` are the services' glue before the typed pipeline
(``ezurnals.shared.pipeline``), which lessons uses; the other services move onto it next.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import asyncpg
from fastapi import Request

from ezurnals.shared.contracts.base import SYSTEM, Actor, IntegrationEvent
from ezurnals.shared.domain import Aggregate
from ezurnals.shared.eventstore import (
    CommandContext,
    CommandResult,
    ConcurrencyConflict,
    DuplicateCommand,
    EventStore,
    IdempotencyKeyReused,
)
from ezurnals.shared.eventstore.cache import AggregateCache
from ezurnals.shared.eventstore.store import InlineProjection


@dataclass(frozen=True)
class Decision:
    """What a handler decided: the events for one stream and the answer to give."""

    stream_id: str
    expected_version: int
    events: Sequence[IntegrationEvent]
    result: CommandResult


async def command_context(
    request: Request, *, actor: Actor = SYSTEM, school_id: uuid.UUID | None = None
) -> CommandContext:
    """Idempotency keys are scoped by caller, so two users' keys never collide."""
    key = request.headers.get("idempotency-key")
    correlation = getattr(request.state, "correlation_id", None)
    return CommandContext(
        actor=actor,
        school_id=school_id,
        correlation_id=uuid.UUID(correlation) if correlation else None,
        idempotency_key=f"{actor.id or 'anon'}:{request.method}:{key}" if key else None,
        request_hash=CommandContext.hash_request(
            request.method, request.url.path, await _request_content(request)
        ),
    )


async def _request_content(request: Request) -> str:
    """The body as text; for a form FastAPI already parsed, its fields and file digests."""
    try:
        return (await request.body()).decode("utf-8", "replace")
    except RuntimeError:  # the stream was consumed by form parsing
        form = await request.form()
        parts = []
        for name, value in form.multi_items():
            if isinstance(value, str):
                parts.append(f"{name}={value}")
            else:
                await value.seek(0)
                digest = hashlib.sha256(await value.read()).hexdigest()
                await value.seek(0)
                parts.append(f"{name}@{value.filename}:{digest}")
        return "&".join(sorted(parts))


CONFLICT_ATTEMPTS = 3


async def execute(
    store: EventStore,
    ctx: CommandContext,
    decide: Callable[[], Awaitable[Decision]],
    *,
    inline: InlineProjection | None = None,
    conn: asyncpg.Connection | None = None,
) -> CommandResult:
    """Run a command once per Idempotency-Key: a retry gets the first answer and no new effect.

    A decision that lost a race for its stream (another command or a job, such as marking a
    lesson overdue, appended first) is taken again on the stream as it now is, up to
    ``CONFLICT_ATTEMPTS`` times: the services' handlers expect the version they just read, not
    one the client sent, so the caller has nothing to reconsider; only a stream that keeps
    changing (or a decision on a version the client named) answers 409.

    The key is not looked up before deciding (a round trip and a pool checkout on every
    command for the rare retry): the append stores the answer under the key's unique
    constraint, and a repeat is recognised when that refuses it, or when the decision is
    refused because the first attempt already changed the state. ``conn``: a connection the
    handler holds for its reads, so the command needs one checkout.
    """
    for attempt in range(1, CONFLICT_ATTEMPTS + 1):
        decision = await decide_once(store, ctx, decide, conn=conn)
        if isinstance(decision, CommandResult):
            return decision
        try:
            await store.append(
                decision.stream_id,
                decision.expected_version,
                decision.events,
                ctx,
                result=decision.result,
                inline=inline,
                conn=conn,
            )
        except DuplicateCommand as duplicate:
            return duplicate.result
        except ConcurrencyConflict:
            if attempt == CONFLICT_ATTEMPTS:
                raise
            continue
        return decision.result
    raise AssertionError("unreachable: the last attempt returns or raises")


T = TypeVar("T")


async def decide_once(
    store: EventStore,
    ctx: CommandContext,
    decide: Callable[[], Awaitable[T]],
    *,
    conn: asyncpg.Connection | None = None,
) -> T | CommandResult:
    """``decide()``, or the earlier answer under the command's key when the decision is refused:
    a retry is answered as the first attempt was, even once the state has moved on (a lesson
    already recorded refuses a second record). A key used for another request is refused."""
    try:
        return await decide()
    except Exception as refusal:
        if not ctx.idempotency_key:
            raise
        try:
            previous = await store.recall(ctx.idempotency_key, ctx.request_hash, conn=conn)
        except IdempotencyKeyReused:
            raise
        except Exception:
            raise refusal from None
        if previous is None:
            raise
        return previous


A = TypeVar("A", bound=Aggregate[Any])


async def execute_on(
    aggregates: AggregateCache,
    store: EventStore,
    ctx: CommandContext,
    kind: type[A],
    stream_id: str,
    decide: Callable[[A], tuple[Sequence[IntegrationEvent], CommandResult]],
    *,
    inline: InlineProjection | None = None,
    conn: asyncpg.Connection | None = None,
) -> CommandResult:
    """``execute`` on an aggregate kept in ``aggregates``: taken out to decide, put back with its
    events only once this command appended them (not for a retry's first answer, a refusal or a
    conflict), so the cache only ever holds states the store holds."""
    taken: list[tuple[A, Decision]] = []

    async def decided() -> Decision:
        aggregate = await aggregates.take(store, kind, stream_id, conn=conn)
        events, result = decide(aggregate)
        taken.append((aggregate, Decision(stream_id, aggregate.version, events, result)))
        return taken[-1][1]

    result = await execute(store, ctx, decided, inline=inline, conn=conn)
    if taken and result is taken[-1][1].result:
        aggregate, decision = taken[-1]
        aggregates.put_back(aggregate.applied(decision.events))
    return result
