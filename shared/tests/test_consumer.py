"""Projection consumers: idempotent apply, dead-lettering, restart, rebuild equals live."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from prometheus_client import REGISTRY

from ezurnals.shared.contracts.base import EventEnvelope
from ezurnals.shared.messaging import kafka
from ezurnals.shared.messaging.consumer import ProjectionRunner
from ezurnals.shared.messaging.rebuild import Replayer, rebuild
from ezurnals.shared.service import Runtime
from ezurnals.shared.settings import Settings
from ezurnals.shared.testing.probe import PROBE, ProbeRecorded, ProbeTotals
from ezurnals.shared.testing.stack import TestStack, api_client, eventually


class Consumer:
    """A projection runner in the background, restartable."""

    def __init__(self, rt: Runtime, settings: Settings, producer: AIOKafkaProducer) -> None:
        self.rt, self.settings, self.producer = rt, settings, producer
        self.stop = asyncio.Event()
        self.task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self.stop = asyncio.Event()
        runner = ProjectionRunner(self.rt.db, self.settings, [ProbeTotals()])
        self.task = asyncio.create_task(runner.run(self.stop, self.producer))
        await asyncio.wait_for(runner.ready.wait(), 30)

    async def halt(self) -> None:
        self.stop.set()
        assert self.task is not None
        await self.task


@pytest.fixture
async def env(stack: TestStack, request: pytest.FixtureRequest) -> AsyncIterator[dict[str, Any]]:
    name = request.node.name[5:40]
    settings = await stack.settings(
        PROBE, database=f"c_{name}", topic_prefix=f"{stack.prefix}{name}."
    )
    rt = Runtime.create(settings)
    producer = kafka.producer(settings)
    await producer.start()
    consumer = Consumer(rt, settings, producer)
    yield {"settings": settings, "rt": rt, "producer": producer, "consumer": consumer}
    if consumer.task and not consumer.task.done():
        await consumer.halt()
    await producer.stop()
    await rt.close()


async def publish(producer: AIOKafkaProducer, settings: Settings, env: EventEnvelope) -> None:
    await producer.send_and_wait(
        settings.topic("probe"), value=env.model_dump_json().encode(), key=env.stream_id.encode()
    )


def probe(stream: str, version: int, n: int, text: str = "") -> EventEnvelope:
    return EventEnvelope(
        event_type="ProbeRecorded",
        schema_version=1,
        stream_id=stream,
        stream_version=version,
        payload=ProbeRecorded(n=n, text=text).model_dump(mode="json"),
    )


async def totals(rt: Runtime, schema: str = "rm") -> dict[str, tuple[int, int, bool]]:
    async with rt.db.raw() as conn:
        rows = await conn.fetch(
            f"SELECT stream_id, applied, sum_n, in_order FROM {schema}.probe_totals ORDER BY 1"
        )
    return {r["stream_id"]: (r["applied"], r["sum_n"], r["in_order"]) for r in rows}


async def dead_letters(settings: Settings) -> list[dict[str, str]]:
    replayer = Replayer(settings, [settings.dead_letter_topic("probe")])
    await replayer.start()
    try:
        end = await replayer.end_offsets()
        found: list[dict[str, str]] = []
        while any([await replayer.kafka.position(tp) < end[tp] for tp in replayer.partitions]):
            for records in (await replayer.kafka.getmany(timeout_ms=500)).values():
                found += [{k: v.decode() for k, v in r.headers} for r in records]
        return found
    finally:
        await replayer.stop()


async def test_a_redelivered_event_changes_nothing(env: dict[str, Any]) -> None:
    rt, settings, producer, consumer = env["rt"], env["settings"], env["producer"], env["consumer"]
    first = probe("r-1", 1, 5)
    await consumer.start()
    await publish(producer, settings, first)
    await publish(producer, settings, first)  # the relay's at-least-once duplicate
    await publish(producer, settings, probe("r-1", 2, 7))
    await eventually(lambda: totals(rt), what="projection applied")
    await eventually(
        lambda: _equals(totals(rt), {"r-1": (2, 12, True)}), what="second event applied"
    )
    await asyncio.sleep(0.5)
    assert await totals(rt) == {"r-1": (2, 12, True)}


async def _equals(coro: Any, expected: Any) -> bool:
    return bool(await coro == expected)


async def test_poison_and_garbage_go_to_the_dlt_and_the_consumer_carries_on(
    env: dict[str, Any],
) -> None:
    rt, settings, producer, consumer = env["rt"], env["settings"], env["producer"], env["consumer"]
    await consumer.start()
    await publish(producer, settings, probe("p-1", 1, 1))
    await publish(producer, settings, probe("p-1", 2, 2, text="poison"))
    await producer.send_and_wait(settings.topic("probe"), value=b"{not json", key=b"p-1")
    unknown = EventEnvelope(
        event_type="NoSuchEvent", schema_version=1, stream_id="p-1", stream_version=3, payload={}
    )
    await publish(producer, settings, unknown)
    future = probe("p-1", 4, 0).model_copy(update={"schema_version": 99})
    await publish(producer, settings, future)
    await publish(producer, settings, probe("p-2", 1, 40))
    await eventually(lambda: _has(totals(rt), "p-2"), what="event after the bad ones applied")
    dlt = await eventually(
        lambda: _at_least(dead_letters(settings), 4), what="four dead letters", timeout=30
    )
    kinds = sorted(h["dlt.error_type"] for h in dlt)
    assert kinds == ["PoisonedEvent", "UnknownEventType", "UnknownEventType", "ValidationError"]
    poisoned = next(h for h in dlt if h["dlt.error_type"] == "PoisonedEvent")
    assert poisoned["dlt.attempts"] == str(settings.consumer_max_attempts)
    assert "is poison" in poisoned["dlt.error"]
    assert await totals(rt) == {"p-1": (1, 1, True), "p-2": (1, 40, True)}
    async with rt.db.raw() as conn:
        assert await conn.fetchval("SELECT count(*) FROM dead_letters") == 4


async def _has(coro: Any, key: str) -> bool:
    return key in await coro


async def _at_least(coro: Any, n: int) -> Any:
    found = await coro
    return found if len(found) >= n else None


async def test_consumer_resumes_where_it_stopped_after_a_restart(env: dict[str, Any]) -> None:
    rt, settings, producer, consumer = env["rt"], env["settings"], env["producer"], env["consumer"]
    await consumer.start()
    for v in range(1, 21):
        await publish(producer, settings, probe("s-1", v, v))
    await eventually(lambda: _equals(totals(rt), {"s-1": (20, 210, True)}), what="first 20")
    await consumer.halt()
    for v in range(21, 31):
        await publish(producer, settings, probe("s-1", v, v))
    await consumer.start()
    await eventually(lambda: _equals(totals(rt), {"s-1": (30, 465, True)}), what="all 30")


async def test_rebuilt_projection_equals_the_live_one(env: dict[str, Any]) -> None:
    rt, settings, producer, consumer = env["rt"], env["settings"], env["producer"], env["consumer"]
    await consumer.start()
    sends = [  # batched, as the relay sends them
        await producer.send(
            settings.topic("probe"),
            key=f"b-{i % 9}".encode(),
            value=probe(f"b-{i % 9}", i // 9 + 1, i).model_dump_json().encode(),
        )
        for i in range(200)
    ]
    await asyncio.gather(*sends)
    expected = {f"b-{s}": (len(range(s, 200, 9)), sum(range(s, 200, 9)), True) for s in range(9)}
    await eventually(lambda: _equals(totals(rt), expected), what="live projection complete")
    await rebuild(rt.db, settings, [ProbeTotals()], target_schema="rm_check", swap=False)
    assert await totals(rt, "rm_check") == await totals(rt)
    read = await rebuild(rt.db, settings, [ProbeTotals()])
    assert read >= 200
    await publish(producer, settings, probe("b-0", 24, 1000))
    expected["b-0"] = (expected["b-0"][0] + 1, expected["b-0"][1] + 1000, True)
    await eventually(lambda: _equals(totals(rt), expected), what="live consumer after swap")


async def test_lag_is_summed_per_topic_and_exported_by_the_consumer_only(
    env: dict[str, Any],
) -> None:
    rt, settings, producer = env["rt"], env["settings"], env["producer"]
    topic = settings.topic("probe")
    for i in range(10):  # 4, 3 and 3 events in partitions 0, 1 and 2
        await producer.send_and_wait(
            topic, value=probe(f"l-{i}", 1, i).model_dump_json().encode(), partition=i % 3
        )
    runner = ProjectionRunner(rt.db, settings, [ProbeTotals()])
    reader = AIOKafkaConsumer(
        bootstrap_servers=settings.kafka_bootstrap_servers,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )
    await reader.start()
    try:
        partitions = [TopicPartition(topic, p) for p in range(settings.topic_partitions)]
        reader.assign(partitions)
        assert await reader.getmany(timeout_ms=5000, max_records=1)  # one read, nine behind

        async def ends_known() -> bool:
            return sum(reader.highwater(tp) or 0 for tp in partitions) == 10

        await eventually(ends_known, what="every partition's end fetched")
        await runner.record_lag(reader)
    finally:
        await reader.stop()
    lag = REGISTRY.get_sample_value(
        "ezurnals_consumer_lag_events", {"consumer": runner.consumer, "topic": topic}
    )
    assert lag == 9
    async with rt.db.raw() as conn:
        stored = await conn.fetch(
            "SELECT partition, lag FROM consumer_state WHERE topic = $1 ORDER BY 1", topic
        )
        assert sum(r["lag"] for r in stored) == 9 and len(stored) == settings.topic_partitions
        await conn.execute(
            "INSERT INTO consumer_state (consumer, topic, partition, position, lag) "
            "VALUES ('elsewhere.projections', $1, 0, 0, 42)",
            topic,
        )
    async with api_client(PROBE, settings) as api:
        metrics = (await api.get("/metrics")).text
    assert 'consumer="elsewhere.projections"' not in metrics  # the API exports no second copy
