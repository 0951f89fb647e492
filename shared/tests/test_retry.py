"""Retrying after connection errors: the full-jitter backoff (pure), connection acquisition, and
the relay and consumer carrying on after PostgreSQL ends their sessions (real PostgreSQL)."""

from __future__ import annotations

import asyncio
from urllib.parse import urlsplit

import asyncpg
from hypothesis import given
from hypothesis import strategies as st

from ezurnals.shared.db import Database, plain_url
from ezurnals.shared.messaging.relay import _RELAY_LOCK
from ezurnals.shared.retry import ACQUIRE_ATTEMPTS, RECONNECT, Backoff, Retrying
from ezurnals.shared.runtime.infra import free_port
from ezurnals.shared.service import Runtime
from ezurnals.shared.testing.probe import PROBE, ProbeRecorded
from ezurnals.shared.testing.stack import TestStack, eventually, running_worker


def test_the_ceiling_doubles_from_the_first_wait_up_to_the_most() -> None:
    backoff = Backoff(first_s=0.2, most_s=5.0)
    assert [backoff.ceiling(n) for n in range(7)] == [0.2, 0.4, 0.8, 1.6, 3.2, 5.0, 5.0]
    assert backoff.ceiling(10_000) == 5.0


@given(attempt=st.integers(min_value=0, max_value=10_000), u=st.floats(0, 1, exclude_max=True))
def test_a_wait_is_anything_from_nothing_to_the_ceiling(attempt: int, u: float) -> None:
    delay = RECONNECT.delay(attempt, uniform=lambda: u)
    assert 0 <= delay <= RECONNECT.ceiling(attempt)
    assert delay == u * RECONNECT.ceiling(attempt)


def test_clients_failing_together_do_not_come_back_together() -> None:
    """Full jitter: a thousand clients after their fourth failure are spread over the whole
    range, not bunched at the ceiling as with plain doubling."""
    ceiling = RECONNECT.ceiling(3)
    delays = [RECONNECT.delay(3) for _ in range(1000)]
    assert min(delays) < ceiling * 0.05 and max(delays) > ceiling * 0.95
    assert sum(d < ceiling / 2 for d in delays) in range(400, 601)


async def test_retrying_counts_failures_in_a_row_and_stops_waiting_when_told() -> None:
    retrying = Retrying(Backoff(first_s=60, most_s=60))
    stop = asyncio.Event()
    stop.set()
    await asyncio.wait_for(retrying.wait(stop), 1)  # a minute's wait, cut short by stop
    await asyncio.wait_for(retrying.wait(stop), 1)
    assert retrying.failures == 2
    retrying.succeeded()
    assert retrying.failures == 0


async def test_opening_a_connection_is_tried_again_before_the_error_is_raised() -> None:
    """A server that drops every connection at once, as one in the middle of a failover."""
    attempts = 0

    async def drop(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal attempts
        attempts += 1
        writer.transport.abort()

    port = free_port()
    server = await asyncio.start_server(drop, "127.0.0.1", port)
    db = Database(f"postgresql://postgres@127.0.0.1:{port}/postgres?sslmode=disable")
    try:
        try:
            await db.ping()
        except (OSError, asyncpg.InterfaceError, asyncpg.PostgresConnectionError):
            pass
        else:
            raise AssertionError("a server that drops every connection answered")
        assert attempts == ACQUIRE_ATTEMPTS
    finally:
        server.close()
        await server.wait_closed()
        await db.dispose()


async def test_relay_and_consumer_carry_on_after_postgresql_ends_their_sessions(
    stack: TestStack,
) -> None:
    settings = await stack.settings(
        PROBE, database="retry_terminated", topic_prefix=f"{stack.prefix}terminated."
    )
    database = urlsplit(settings.database_url).path.lstrip("/")
    rt = Runtime.create(settings)
    admin = await asyncpg.connect(plain_url(stack.infra.database_url))

    async def totals() -> dict[str, int]:
        async with rt.db.raw() as conn:
            rows = await conn.fetch("SELECT stream_id, applied FROM rm.probe_totals")
        return {r["stream_id"]: r["applied"] for r in rows}

    async def relay_session() -> int | None:
        pid: int | None = await admin.fetchval(
            "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND objid = $1 AND granted",
            _RELAY_LOCK,
        )
        return pid

    try:
        async with running_worker(PROBE, settings) as worker:

            async def consuming() -> bool:
                return worker.runner is not None and worker.runner.ready.is_set()

            await eventually(consuming, what="the consumer started")
            for i in range(20):
                await rt.store.append(f"t-{i % 4}", i // 4, [ProbeRecorded(n=i)])

            async def first_twenty() -> bool:
                return await totals() == {f"t-{s}": 5 for s in range(4)}

            await eventually(first_twenty, what="the first events applied")
            leader = await relay_session()
            assert leader is not None
            ended = await admin.fetchval(
                "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = $1 AND pid <> pg_backend_pid()",
                database,
            )
            assert ended >= 2  # the relay's session and the consumer's, at least

            async def leading_again() -> bool:
                again = await relay_session()
                return again is not None and again != leader

            await eventually(leading_again, what="the relay leading on a new session")
            for i in range(20, 40):
                await rt.store.append(f"t-{i % 4}", i // 4, [ProbeRecorded(n=i)])

            async def all_forty() -> bool:
                return await totals() == {f"t-{s}": 10 for s in range(4)}

            await eventually(all_forty, what="the events after the sessions ended applied")
            assert not worker.failed
    finally:
        await admin.close()
        await rt.close()
