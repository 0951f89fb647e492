"""Rebuild read models from the topics: replay into a fresh schema, swap it in, catch up.

The live consumer keeps running throughout. Claims (processed_events) travel with the schema, so
events the live consumer applies during the swap are applied at most once to the new schema, and
the catch-up pass after the swap covers whatever the live consumer had applied to the old one.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from aiokafka import AIOKafkaConsumer, TopicPartition

from ezurnals.shared.db import Database
from ezurnals.shared.messaging import kafka as kafka_factory
from ezurnals.shared.messaging.consumer import EventApplier
from ezurnals.shared.messaging.notices import swap_notice
from ezurnals.shared.messaging.projection import Projection, schema_name
from ezurnals.shared.settings import Settings

Progress = Callable[[int, int], None]


class Replayer:
    """Reads the source topics from the beginning with manual assignment (no consumer group)."""

    def __init__(self, settings: Settings, topics: Sequence[str]) -> None:
        self.settings = settings
        self.topics = list(topics)
        self.kafka = AIOKafkaConsumer(
            bootstrap_servers=settings.kafka_bootstrap_servers,
            enable_auto_commit=False,
            group_id=None,
            max_poll_records=5000,
            **settings.kafka_security(),
        )
        self.partitions: list[TopicPartition] = []

    async def start(self) -> None:
        await self.kafka.start()
        for topic in self.topics:
            parts = self.kafka.partitions_for_topic(topic)
            if parts is None:
                await self.kafka._client.force_metadata_update()
                parts = self.kafka.partitions_for_topic(topic) or set()
            self.partitions += [TopicPartition(topic, p) for p in sorted(parts)]
        self.kafka.assign(self.partitions)
        if self.partitions:
            await self.kafka.seek_to_beginning(*self.partitions)

    async def end_offsets(self) -> dict[TopicPartition, int]:
        if not self.partitions:
            return {}
        return dict(await self.kafka.end_offsets(self.partitions))

    async def drain(
        self, applier: EventApplier, until: dict[TopicPartition, int], progress: Progress | None
    ) -> int:
        """Apply everything up to at least ``until``, then whatever else is already there.

        Reading on until a poll comes back empty (instead of stopping exactly at ``until``) is
        also what keeps this correct on Tansu, whose reported end offset can lag behind the last
        record of a multi-record batch. Applying a record twice is harmless (claims).
        """
        total = sum(until.values())
        seen = 0
        for tp in self.partitions:
            seen += await self.kafka.position(tp)
        while True:
            batches = await self.kafka.getmany(timeout_ms=300, max_records=5000)
            for records in batches.values():
                await applier.handle(records)
                seen += len(records)
                if progress:
                    progress(seen, max(total, seen))
            if batches:
                continue
            positions = [await self.kafka.position(tp) for tp in self.partitions]
            if all(
                pos >= until.get(tp, 0) for tp, pos in zip(self.partitions, positions, strict=True)
            ):
                return seen

    async def stop(self) -> None:
        await self.kafka.stop()


async def rebuild(
    db: Database,
    settings: Settings,
    projections: Sequence[Projection],
    *,
    consumer: str | None = None,
    target_schema: str | None = None,
    swap: bool = True,
    progress: Progress | None = None,
) -> int:
    """Replay every source topic into ``target_schema`` (default ``<rm>_rebuild``).

    With ``swap`` the rebuilt schema replaces the live one and a catch-up pass follows.
    Returns the number of records read.
    """
    live = schema_name(settings.read_model_schema)
    fresh = schema_name(target_schema or f"{live}_rebuild")
    consumer = consumer or f"{settings.service}.projections"
    topics = sorted({settings.topic(s) for p in projections for s in p.sources})
    producer = kafka_factory.producer(settings)
    await producer.start()
    replayer = Replayer(settings, topics)
    await replayer.start()
    try:
        async with db.raw() as conn:
            await conn.execute(f"DROP SCHEMA IF EXISTS {fresh} CASCADE")
        applier = EventApplier(db, settings, projections, producer, consumer=consumer, schema=fresh)
        await applier.install()
        read = await replayer.drain(applier, await replayer.end_offsets(), progress)
        if not swap:
            return read
        old = schema_name(f"{live}_old")
        async with db.raw() as conn, conn.transaction():
            await conn.execute(f"DROP SCHEMA IF EXISTS {old} CASCADE")
            await conn.execute(f"ALTER SCHEMA {live} RENAME TO {old}")
            await conn.execute(f"ALTER SCHEMA {fresh} RENAME TO {live}")
            await conn.execute(swap_notice(live))
        applier.schema = live
        read = await replayer.drain(applier, await replayer.end_offsets(), progress)
        async with db.raw() as conn:
            await conn.execute(f"DROP SCHEMA IF EXISTS {old} CASCADE")
        return read
    finally:
        await replayer.stop()
        await producer.stop()
