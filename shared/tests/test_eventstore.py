"""The event store on a real PostgreSQL: append, load, conflicts, idempotency, commit-safe reads."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import asyncpg
import pytest

from ezurnals.shared.contracts.base import EventEnvelope
from ezurnals.shared.domain import Aggregate, Conflict
from ezurnals.shared.eventstore import (
    CommandContext,
    CommandResult,
    ConcurrencyConflict,
    DuplicateCommand,
    EventStore,
    IdempotencyKeyReused,
    SqlProjection,
    appended,
    row_of,
)
from ezurnals.shared.eventstore.cache import AggregateCache
from ezurnals.shared.http.commands import Decision, execute
from ezurnals.shared.service import Runtime
from ezurnals.shared.testing.probe import PROBE, ProbeRecorded
from ezurnals.shared.testing.projections import statements_on
from ezurnals.shared.testing.stack import TestStack


@pytest.fixture(scope="module")
async def runtime(stack: TestStack) -> AsyncIterator[Runtime]:
    settings = await stack.settings(PROBE, database="eventstore")
    rt = Runtime.create(settings)
    yield rt
    await rt.close()


async def test_appended_events_load_in_order_with_envelope(runtime: Runtime) -> None:
    store = runtime.store
    ctx = CommandContext()
    await store.append("s-order", 0, [ProbeRecorded(n=1), ProbeRecorded(n=2)], ctx)
    await store.append("s-order", 2, [ProbeRecorded(n=3)], ctx)
    loaded = await store.load("s-order")
    assert [e.stream_version for e in loaded] == [1, 2, 3]
    assert [e.parse() for e in loaded] == [
        ProbeRecorded(n=1),
        ProbeRecorded(n=2),
        ProbeRecorded(n=3),
    ]
    assert all(e.event_type == "ProbeRecorded" and e.schema_version == 1 for e in loaded)


async def test_stale_expected_version_raises_conflict_and_writes_nothing(runtime: Runtime) -> None:
    store = runtime.store
    await store.append("s-conflict", 0, [ProbeRecorded(n=1)])
    with pytest.raises(ConcurrencyConflict):
        await store.append("s-conflict", 0, [ProbeRecorded(n=99)])
    assert [e.parse() for e in await store.load("s-conflict")] == [ProbeRecorded(n=1)]


async def test_concurrent_writers_on_one_stream_exactly_one_wins(runtime: Runtime) -> None:
    store = runtime.store
    results = await asyncio.gather(
        *(store.append("s-race", 0, [ProbeRecorded(n=i)]) for i in range(10)),
        return_exceptions=True,
    )
    assert sum(1 for r in results if not isinstance(r, Exception)) == 1
    assert all(isinstance(r, ConcurrencyConflict) for r in results if isinstance(r, Exception))
    assert len(await store.load("s-race")) == 1


async def test_retried_command_returns_first_answer_without_second_effect(runtime: Runtime) -> None:
    store = runtime.store
    ctx = CommandContext(idempotency_key="user-1:POST:abc", request_hash="h1")
    first = CommandResult(201, {"id": "s-idem", "version": 1})
    await store.append("s-idem", 0, [ProbeRecorded(n=1)], ctx, result=first)
    with pytest.raises(DuplicateCommand) as dup:
        await store.append("s-idem", 1, [ProbeRecorded(n=1)], ctx, result=CommandResult(201, {}))
    assert dup.value.result == first
    assert await store.recall("user-1:POST:abc", "h1") == first
    assert len(await store.load("s-idem")) == 1
    with pytest.raises(IdempotencyKeyReused):
        await store.recall("user-1:POST:abc", "another request")


async def test_a_further_append_of_an_answered_command_that_lost_a_race_is_a_conflict(
    runtime: Runtime,
) -> None:
    """Not the command's first answer: that would tell its handler the command was a retry."""
    store = runtime.store
    ctx = CommandContext(idempotency_key="user-1:POST:settle", request_hash="h1")
    await store.append("s-answered", 0, [ProbeRecorded(n=1)], ctx, result=CommandResult(201, {}))
    await store.append("s-settled", 0, [ProbeRecorded(n=1)])
    with pytest.raises(ConcurrencyConflict):
        await store.append("s-settled", 0, [ProbeRecorded(n=2)], ctx)
    assert [e.parse() for e in await store.load("s-settled")] == [ProbeRecorded(n=1)]


async def test_outbox_rows_are_written_with_the_events(runtime: Runtime) -> None:
    before, _ = await runtime.store.outbox_status()
    await runtime.store.append("s-outbox", 0, [ProbeRecorded(n=1), ProbeRecorded(n=2)])
    after, _ = await runtime.store.outbox_status()
    assert after - before == 2


async def test_read_all_sees_a_late_commit_after_the_cursor(runtime: Runtime) -> None:
    """An event inserted first but committed last must still be read (no max-id skipping)."""
    store: EventStore = runtime.store
    cursor = (0, 0)
    while page := await store.read_all(cursor):
        cursor = page[-1][0]
    async with runtime.db.raw() as slow:
        tx = slow.transaction()
        await tx.start()
        await slow.execute(
            "INSERT INTO events (event_id, stream_id, stream_version, event_type, schema_version,"
            " occurred_at, recorded_at, actor, payload) VALUES (gen_random_uuid(), 's-late', 1,"
            " 'ProbeRecorded', 1, now(), now(), '{}'::jsonb, '{\"n\": 1}'::jsonb)"
        )
        await store.append("s-early", 0, [ProbeRecorded(n=2)])
        seen_before_commit = [e.stream_id for _, e in await store.read_all(cursor)]
        await tx.commit()
    seen = []
    while page := await store.read_all(cursor):
        seen += [e.stream_id for _, e in page]
        cursor = page[-1][0]
    assert "s-late" not in seen_before_commit
    assert "s-late" in seen and "s-early" in seen


class Tally(Aggregate[ProbeRecorded]):
    """A test aggregate: the numbers recorded on its stream, and how many times it was loaded."""

    loads = 0

    def __init__(self, stream_id: str) -> None:
        super().__init__(stream_id)
        self.numbers: list[int] = []
        Tally.loads += 1

    def when_ProbeRecorded(self, event: ProbeRecorded) -> None:
        self.numbers.append(event.n)


async def test_a_cached_aggregate_is_caught_up_with_what_others_appended(runtime: Runtime) -> None:
    cache, store = AggregateCache(size=2), runtime.store
    await store.append("s-cache", 0, [ProbeRecorded(n=1)])
    loads = Tally.loads
    tally = await cache.take(store, Tally, "s-cache")
    await store.append("s-cache", tally.version, [ProbeRecorded(n=2)])
    cache.put_back(tally.applied([ProbeRecorded(n=2)]))
    # another process (another store on the same database) appends meanwhile
    await EventStore(runtime.db, topic="other").append("s-cache", 2, [ProbeRecorded(n=3)])
    again = await cache.take(store, Tally, "s-cache")
    assert again is tally and Tally.loads == loads + 1  # kept, not replayed
    assert (again.numbers, again.version) == ([1, 2, 3], 3)
    # taken out: a concurrent command gets a copy of its own, equal to it
    other = await cache.take(store, Tally, "s-cache")
    assert other is not again and (other.numbers, other.version) == ([1, 2, 3], 3)
    # the oldest is dropped beyond the cache's size
    for name in ("s-cache-a", "s-cache-b"):
        cache.put_back(await cache.take(store, Tally, name))
    cache.put_back(again)
    assert await cache.take(store, Tally, "s-cache-a") is not None
    assert Tally.loads == loads + 5


async def test_a_cached_aggregate_caught_up_by_its_handler_is_taken_without_a_read(
    runtime: Runtime,
) -> None:
    cache, store = AggregateCache(), runtime.store
    stream = f"s-caught-{uuid.uuid4()}"
    await store.append(stream, 0, [ProbeRecorded(n=1)])
    cache.put_back(await cache.take(store, Tally, stream))
    await EventStore(runtime.db, topic="other").append(stream, 1, [ProbeRecorded(n=2)])
    assert cache.version_of(Tally, stream) == 1
    # the handler read the events after version 1 with its other facts
    cache.caught_up(Tally, stream, 1, [ProbeRecorded(n=2)])
    async with runtime.db.raw() as conn, statements_on(conn) as ran:
        tally = await cache.take(store, Tally, stream, conn=conn)
    assert (tally.numbers, tally.version, ran) == ([1, 2], 2, [])
    # read after a version the cache no longer keeps: ignored, the next take reads
    cache.put_back(tally)
    cache.caught_up(Tally, stream, 1, [ProbeRecorded(n=2)])
    async with runtime.db.raw() as conn, statements_on(conn) as ran:
        again = await cache.take(store, Tally, stream, conn=conn)
    assert (again.numbers, len(ran)) == ([1, 2], 1)
    # a stream not kept: what was read from its start makes the aggregate
    cache.caught_up(Tally, "s-caught-none", 0, [ProbeRecorded(n=5)])
    fresh = await cache.take(store, Tally, "s-caught-none")
    assert (fresh.numbers, fresh.version) == ([5], 1)


def test_a_cache_remembers_which_stream_a_name_led_to_within_its_bounds() -> None:
    cache = AggregateCache(size=1)
    cache.named(Aggregate, ("class-1", "math"), "book-1-2025/2026")
    assert cache.stream_named(Aggregate, ("class-1", "math")) == "book-1-2025/2026"
    assert cache.stream_named(Aggregate, ("class-1", "music")) is None
    for n in range(8):
        cache.named(Aggregate, ("class", n), f"book-{n}")
    assert cache.stream_named(Aggregate, ("class-1", "math")) is None
    assert cache.stream_named(Aggregate, ("class", 7)) == "book-7"


async def test_several_streams_load_in_one_query(runtime: Runtime) -> None:
    store = runtime.store
    await store.append("s-many-a", 0, [ProbeRecorded(n=1), ProbeRecorded(n=2)])
    await store.append("s-many-b", 0, [ProbeRecorded(n=3)])
    async with runtime.db.raw() as conn, statements_on(conn) as queries:
        loaded = await store.load_many(["s-many-a", "s-many-b", "s-many-none"], conn=conn)
    numbers = {
        s: [ProbeRecorded.model_validate(e.payload).n for e in envs] for s, envs in loaded.items()
    }
    assert numbers == {
        "s-many-a": [1, 2],
        "s-many-b": [3],
        "s-many-none": [],
    }
    assert len(queries) == 1


def probe_command(
    store: EventStore, stream: str, n: int, conn: asyncpg.Connection | None = None
) -> Callable[[], Awaitable[Decision]]:
    """A command that records ``n`` once: deciding again after that is refused (409)."""

    async def decide() -> Decision:
        loaded = await store.load(stream, conn=conn)
        if loaded:
            raise Conflict("already recorded")
        return Decision(stream, 0, [ProbeRecorded(n=n)], CommandResult(201, {"n": n}))

    return decide


async def test_a_keyed_command_is_not_looked_up_before_it_is_decided(runtime: Runtime) -> None:
    """One checkout and two round trips (the load, the append): no idempotency lookup first."""
    store = runtime.store
    ctx = CommandContext(idempotency_key="user-1:POST:first-time", request_hash="h")
    async with runtime.db.raw() as conn, statements_on(conn) as queries:
        decide = probe_command(store, "s-optimistic", 1, conn)
        result = await execute(store, ctx, decide, conn=conn)
    assert result == CommandResult(201, {"n": 1})
    assert not any("command_results" in q and q.lstrip().startswith("SELECT") for q in queries)
    assert len(queries) == 2


async def test_a_retry_gets_the_first_answer_even_when_deciding_again_is_refused(
    runtime: Runtime,
) -> None:
    store = runtime.store
    ctx = CommandContext(idempotency_key="user-1:POST:retry", request_hash="h1")
    first = await execute(store, ctx, probe_command(store, "s-retry", 1))
    again = await execute(store, ctx, probe_command(store, "s-retry", 1))
    assert first == again == CommandResult(201, {"n": 1})
    assert len(await store.load("s-retry")) == 1
    # without a key, the refusal stands
    with pytest.raises(Conflict):
        await execute(store, CommandContext(), probe_command(store, "s-retry", 1))
    # the same key with another request is refused, whether deciding succeeds or not
    other = CommandContext(idempotency_key="user-1:POST:retry", request_hash="h2")
    with pytest.raises(IdempotencyKeyReused):
        await execute(store, other, probe_command(store, "s-retry", 2))
    with pytest.raises(IdempotencyKeyReused):
        await execute(store, other, probe_command(store, "s-retry-elsewhere", 2))
    assert await store.load("s-retry-elsewhere") == []


async def test_a_retry_decided_again_is_not_appended_again(runtime: Runtime) -> None:
    """A decision that succeeds again (a new stream each time) is refused by the stored key."""
    store = runtime.store
    ctx = CommandContext(idempotency_key="user-1:POST:fresh-streams", request_hash="h")
    answers = [await execute(store, ctx, probe_command(store, f"s-fresh-{i}", i)) for i in range(2)]
    assert answers == [CommandResult(201, {"n": 0})] * 2
    assert await store.load("s-fresh-1") == []


async def test_a_decision_that_lost_a_race_is_taken_again_on_the_stream_as_it_now_is(
    runtime: Runtime,
) -> None:
    """Given a stream another writer (a job) appends to while a command decides, when the
    command appends, then it decides again on the new version instead of answering 409."""
    store = runtime.store
    ctx = CommandContext()
    race = f"s-race-{uuid.uuid4()}"
    await store.append(race, 0, [ProbeRecorded(n=1)], ctx)
    decided: list[int] = []

    async def decide() -> Decision:
        version = len(await store.load(race))
        decided.append(version)
        if len(decided) == 1:  # the job appends between this load and the command's append
            await store.append(race, version, [ProbeRecorded(n=99)], ctx)
        return Decision(race, version, [ProbeRecorded(n=2)], CommandResult(201, {}))

    assert await execute(store, ctx, decide) == CommandResult(201, {})
    assert decided == [1, 2]
    assert [e.parse() for e in await store.load(race)] == [
        ProbeRecorded(n=1),
        ProbeRecorded(n=99),
        ProbeRecorded(n=2),
    ]


async def test_a_stream_that_keeps_changing_still_answers_conflict(runtime: Runtime) -> None:
    store = runtime.store
    ctx = CommandContext()
    busy = f"s-busy-{uuid.uuid4()}"
    attempts: list[int] = []

    async def decide() -> Decision:
        version = len(await store.load(busy))
        attempts.append(version)
        await store.append(busy, version, [ProbeRecorded(n=0)], ctx)
        return Decision(busy, version, [ProbeRecorded(n=1)], CommandResult(201, {}))

    with pytest.raises(ConcurrencyConflict):
        await execute(store, ctx, decide)
    assert attempts == [0, 1, 2]
    assert len(await store.load(busy)) == 3


# --- inline projections done by the append's own statement ---------------------------------------


LABELS = SqlProjection(
    ctes={
        "labelled": f"""INSERT INTO probe_labels SELECT e.payload->>'text', r.n
            {appended(ProbeRecorded, "probe_labels")}
            ON CONFLICT (label) DO UPDATE SET n = excluded.n"""
    },
    writes={ProbeRecorded: row_of("probe_labels", "text")},
)


@pytest.fixture(scope="module")
async def labels(runtime: Runtime) -> SqlProjection:
    async with runtime.db.raw() as conn:
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS probe_labels (label TEXT PRIMARY KEY, n INTEGER NOT NULL)"
        )
    return LABELS


async def _labels(runtime: Runtime, *names: str) -> dict[str, int]:
    async with runtime.db.raw() as conn:
        rows = await conn.fetch(
            "SELECT label, n FROM probe_labels WHERE label = ANY($1::text[])", list(names)
        )
    return {r["label"]: r["n"] for r in rows}


async def _statements(
    runtime: Runtime, act: Callable[[asyncpg.Connection], Awaitable[Any]]
) -> list[str]:
    async with runtime.db.raw() as conn, statements_on(conn) as ran:
        await act(conn)
    return ran


async def test_an_inline_projection_with_sql_is_done_by_the_append_statement(
    runtime: Runtime, labels: SqlProjection
) -> None:
    store = runtime.store
    ctx = CommandContext(idempotency_key="user-1:POST:labels", request_hash="h")
    first = CommandResult(201, {"n": 1})
    events = [ProbeRecorded(n=1, text="sql-a"), ProbeRecorded(n=2, text="sql-b")]
    queries = await _statements(
        runtime,
        lambda conn: store.append("s-sql", 0, events, ctx, result=first, inline=labels, conn=conn),
    )
    assert len(queries) == 1 and "probe_labels" in queries[0]
    assert await _labels(runtime, "sql-a", "sql-b") == {"sql-a": 1, "sql-b": 2}
    # a retry: the first answer, nothing written twice
    with pytest.raises(DuplicateCommand) as dup:
        await store.append("s-sql", 2, events, ctx, result=first, inline=labels)
    assert dup.value.result == first
    # a stale version: refused, and the projection's writes with it
    with pytest.raises(ConcurrencyConflict):
        await store.append("s-sql", 0, [ProbeRecorded(n=9, text="sql-c")], inline=labels)
    assert len(await store.load("s-sql")) == 2
    assert await _labels(runtime, "sql-a", "sql-b", "sql-c") == {"sql-a": 1, "sql-b": 2}


async def test_a_batch_writing_one_row_twice_is_applied_in_order_in_a_transaction(
    runtime: Runtime, labels: SqlProjection
) -> None:
    store = runtime.store
    twice = [ProbeRecorded(n=1, text="twice"), ProbeRecorded(n=2, text="twice")]
    assert not labels.fits(store.envelopes("s-twice", 0, twice, CommandContext()))
    queries = await _statements(
        runtime, lambda conn: store.append("s-twice", 0, twice, inline=labels, conn=conn)
    )
    assert queries[0] == "BEGIN;" and queries[-1] == "COMMIT;", queries
    # the append, then the projection's one statement fed each event that rewrites the row
    assert len(queries) == 5 and queries[2] == queries[3], queries
    assert await _labels(runtime, "twice") == {"twice": 2}  # the later event wins, in order


def test_a_batch_fits_the_statement_when_no_two_events_write_one_row() -> None:
    def probe(text: str, version: int = 1) -> EventEnvelope:
        return EventEnvelope(
            event_type="ProbeRecorded",
            schema_version=version,
            stream_id="s",
            stream_version=1,
            payload={"n": 1, "text": text},
        )

    def period(payload: dict[str, Any]) -> list[tuple[str, ...]]:
        """A label "a/b" writes row a/b; a label "a" every row under a (a key's prefix)."""
        return [("t", *payload["text"].split("/"))]

    nested = SqlProjection(ctes={}, writes={ProbeRecorded: period})
    assert nested.fits([probe("a/1"), probe("a/2"), probe("b")])
    assert nested.fits([probe("a/1"), probe("ab")])
    assert not nested.fits([probe("a/1"), probe("b"), probe("a/1")])
    assert not nested.fits([probe("a/1"), probe("a")])
    assert not nested.fits([probe("a"), probe("b/1"), probe("a/2")])
    assert not nested.fits([probe("c", version=2)])  # not what the SQL was written for
    other = probe("x").model_copy(update={"event_type": "SomethingElse"})
    assert nested.fits([other, other])  # neither path writes anything for it
