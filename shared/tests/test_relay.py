"""The outbox relay on a real broker: nothing skipped, streams in order, resumes after faults."""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections import defaultdict
from pathlib import Path
from uuid import UUID

import pytest
from aiokafka import AIOKafkaProducer

from ezurnals.shared.contracts.base import EventEnvelope
from ezurnals.shared.eventstore import CommandContext
from ezurnals.shared.messaging import kafka
from ezurnals.shared.messaging.rebuild import Replayer
from ezurnals.shared.messaging.relay import OutboxRelay
from ezurnals.shared.runtime.infra import EmbeddedKafka, free_port
from ezurnals.shared.service import Runtime
from ezurnals.shared.settings import Settings
from ezurnals.shared.testing.faults import TcpProxy
from ezurnals.shared.testing.probe import PROBE, ProbeRecorded
from ezurnals.shared.testing.stack import TestStack, eventually


async def topic_events(settings: Settings) -> list[EventEnvelope]:
    """Everything on the probe topic, in partition order."""
    replayer = Replayer(settings, [settings.topic("probe")])
    await replayer.start()
    try:
        end = await replayer.end_offsets()
        out: list[EventEnvelope] = []
        deadline = time.monotonic() + 30
        while any([await replayer.kafka.position(tp) < end[tp] for tp in replayer.partitions]):
            assert time.monotonic() < deadline, {
                tp.partition: (await replayer.kafka.position(tp), end[tp])
                for tp in replayer.partitions
            }
            batches = await replayer.kafka.getmany(timeout_ms=500, max_records=5000)
            for records in batches.values():
                out += [EventEnvelope.model_validate_json(r.value) for r in records]
        return out
    finally:
        await replayer.stop()


async def stored_event_ids(rt: Runtime) -> set[UUID]:
    async with rt.db.raw() as conn:
        return {r["event_id"] for r in await conn.fetch("SELECT event_id FROM events")}


def assert_streams_in_order(events: list[EventEnvelope]) -> None:
    seen: dict[str, int] = defaultdict(int)
    for e in events:
        if e.stream_version <= seen[e.stream_id]:
            continue  # an at-least-once redelivery of something already seen
        assert e.stream_version == seen[e.stream_id] + 1, f"{e.stream_id} skipped a version"
        seen[e.stream_id] = e.stream_version


async def start_relay(
    rt: Runtime, producer: AIOKafkaProducer
) -> tuple[asyncio.Event, asyncio.Task[None]]:
    stop = asyncio.Event()
    relay = OutboxRelay(rt.db, producer, service="probe", batch_size=500, idle_poll_s=0.2)
    return stop, asyncio.create_task(relay.run(stop))


async def outbox_empty(rt: Runtime) -> bool:
    backlog, _ = await rt.store.outbox_status()
    return backlog == 0


@pytest.mark.slow
async def test_twenty_concurrent_writers_ten_thousand_events_none_missing(stack: TestStack) -> None:
    settings = await stack.settings(
        PROBE, database="relay_load", topic_prefix=f"{stack.prefix}load."
    )
    rt = Runtime.create(settings.model_copy(update={"db_pool_size": 25}))
    producer = kafka.producer(settings)
    await producer.start()
    stop, relay = await start_relay(rt, producer)

    async def writer(w: int) -> None:
        versions = dict.fromkeys((f"w{w}-s{s}" for s in range(5)), 0)
        for i in range(500):
            stream = random.choice(list(versions))
            await rt.store.append(stream, versions[stream], [ProbeRecorded(n=i)])
            versions[stream] += 1

    await asyncio.gather(*(writer(w) for w in range(20)))
    await eventually(lambda: outbox_empty(rt), timeout=60, what="outbox drained")
    stop.set()
    await relay
    on_topic = await topic_events(settings)
    assert {e.event_id for e in on_topic} == await stored_event_ids(rt)
    assert len(await stored_event_ids(rt)) == 10_000
    assert_streams_in_order(on_topic)
    await producer.stop()
    await rt.close()


async def test_relay_resumes_after_a_crash_without_losing_events(stack: TestStack) -> None:
    settings = await stack.settings(
        PROBE, database="relay_crash", topic_prefix=f"{stack.prefix}crash."
    )
    rt = Runtime.create(settings)
    producer = kafka.producer(settings)
    await producer.start()
    stop, relay = await start_relay(rt, producer)
    for i in range(300):
        await rt.store.append(f"c-{i % 7}", i // 7, [ProbeRecorded(n=i)])
        if i == 150:
            relay.cancel()  # the relay process dies mid-stream
            with contextlib.suppress(asyncio.CancelledError):
                await relay
            stop, relay = await start_relay(rt, producer)
    await eventually(lambda: outbox_empty(rt), what="outbox drained")
    stop.set()
    await relay
    on_topic = await topic_events(settings)
    assert {e.event_id for e in on_topic} == await stored_event_ids(rt)
    assert_streams_in_order(on_topic)
    async with rt.db.raw() as conn:
        published = await conn.fetchval("SELECT published_total FROM relay_state")
    assert published >= 300
    await producer.stop()
    await rt.close()


async def test_relay_waits_out_a_broker_outage_and_delivers_what_was_appended(
    stack: TestStack, tmp_path: Path
) -> None:
    """The broker becomes unreachable (connections refused and reset) and then comes back."""
    proxy = TcpProxy(free_port(), free_port())
    broker = EmbeddedKafka(
        tmp_path / "tansu.log", port=proxy.target_port, advertised_port=proxy.listen_port
    )
    broker.start()
    await proxy.start()
    settings = await stack.settings(
        PROBE, database="relay_outage", kafka_bootstrap_servers=broker.bootstrap
    )
    rt = Runtime.create(settings)
    producer = kafka.producer(settings, request_timeout_ms=3000)
    await producer.start()
    stop, relay = await start_relay(rt, producer)
    await rt.store.append("o-1", 0, [ProbeRecorded(n=1)])
    await eventually(lambda: outbox_empty(rt), what="first event relayed")

    await proxy.cut()
    for v in range(1, 6):
        await rt.store.append("o-1", v, [ProbeRecorded(n=v + 1)])
    await asyncio.sleep(4.0)
    assert not await outbox_empty(rt), "nothing can be published while the broker is away"

    await proxy.start()
    await eventually(lambda: outbox_empty(rt), timeout=60, what="outbox drained after outage")
    stop.set()
    await relay
    on_topic = await topic_events(settings)
    assert [e.stream_version for e in on_topic if e.stream_id == "o-1"][-6:] == [1, 2, 3, 4, 5, 6]
    await producer.stop()
    await rt.close()
    await proxy.cut()
    broker.stop()


async def test_an_outbox_row_that_commits_late_is_still_published(stack: TestStack) -> None:
    """Inserted first, committed last: a "max id seen" relay would skip it for ever."""
    settings = await stack.settings(
        PROBE, database="relay_late", topic_prefix=f"{stack.prefix}late."
    )
    rt = Runtime.create(settings)
    producer = kafka.producer(settings)
    await producer.start()
    stop, relay = await start_relay(rt, producer)
    async with rt.db.raw() as slow:
        tx = slow.transaction()
        await tx.start()
        late = rt.store.envelopes("late-1", 0, [ProbeRecorded(n=1)], CommandContext())
        await slow.execute(
            "INSERT INTO outbox (event_id, topic, key, value) VALUES ($1, $2, $3, $4)",
            late[0].event_id,
            settings.topic("probe"),
            "late-1",
            late[0].model_dump_json().encode(),
        )
        for i in range(5):
            await rt.store.append("early-1", i, [ProbeRecorded(n=i)])
        await eventually(lambda: _published(rt, 5), what="the early events published")
        await tx.commit()
    await eventually(lambda: outbox_empty(rt), what="the late row published")
    stop.set()
    await relay
    on_topic = await topic_events(settings)
    assert late[0].event_id in {e.event_id for e in on_topic}
    assert all(e.event_id for e in on_topic if e.stream_id == "early-1")
    headers_checked = await _headers(settings)
    assert {"event_type", "schema_version", "correlation_id", "traceparent"} <= headers_checked
    await producer.stop()
    await rt.close()


async def _published(rt: Runtime, n: int) -> bool:
    async with rt.db.raw() as conn:
        return int(await conn.fetchval("SELECT published_total FROM relay_state")) >= n


async def _headers(settings: Settings) -> set[str]:
    """The header names on the appended (not hand-inserted) events."""
    replayer = Replayer(settings, [settings.topic("probe")])
    await replayer.start()
    try:
        names: set[str] = set()
        for _ in range(6):
            for records in (await replayer.kafka.getmany(timeout_ms=300)).values():
                names |= {k for r in records if r.key == b"early-1" for k, _ in r.headers}
        return names
    finally:
        await replayer.stop()


async def test_the_relay_vacuums_the_outbox_after_so_many_deleted_rows(stack: TestStack) -> None:
    """Claims walk the outbox's key over rows deleted since its last vacuum: the relay does not
    wait for autovacuum's visit once a minute."""
    settings = await stack.settings(
        PROBE, database="relay_vacuum", topic_prefix=f"{stack.prefix}vacuum."
    )
    rt = Runtime.create(settings)
    producer = kafka.producer(settings)
    await producer.start()
    stop = asyncio.Event()
    relay = OutboxRelay(rt.db, producer, service="probe", batch_size=50, vacuum_after=100)
    task = asyncio.create_task(relay.run(stop))
    try:
        for i in range(12):
            await rt.store.append("vacuumed-1", i * 25, [ProbeRecorded(n=n) for n in range(25)])

        async def vacuumed() -> bool:
            async with rt.db.raw() as conn:
                await conn.execute("SELECT pg_stat_force_next_flush()")
                count = await conn.fetchval(
                    "SELECT vacuum_count FROM pg_stat_user_tables WHERE relname = 'outbox'"
                )
            return bool(count) and await outbox_empty(rt)

        await eventually(vacuumed, what="the relay vacuumed the outbox")
    finally:
        stop.set()
        await task
        await producer.stop()
        await rt.close()
