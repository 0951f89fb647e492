"""The projection consumer: Kafka → read models, with retries, a dead-letter topic and lag.

Plain aiokafka rather than a faust agent: a faust agent that raises has its message acked and
lost, and its offset commits are not tied to our PostgreSQL transaction. Here the transaction that
applies a batch also claims each event (see projection.py); Kafka offsets are committed only after
that transaction, so a crash redelivers and the claims make redelivery harmless.

An event that cannot be parsed (bad JSON, unknown type or version, invalid payload) goes straight
to ``<topic>.DLT``; one whose projection raises is retried ``max_attempts`` times on its own and
then dead-lettered. Database and broker outages are not the event's fault: the batch is retried
until they come back, and nothing is dead-lettered for them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Sequence

import asyncpg
import structlog
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.errors import KafkaError

from ezurnals.shared.contracts import catalog
from ezurnals.shared.contracts.base import EventEnvelope, IntegrationEvent
from ezurnals.shared.db import Database
from ezurnals.shared.messaging.projection import Projection, apply_events, install
from ezurnals.shared.observability.metrics import CONSUMER_APPLIED, CONSUMER_LAG, DEAD_LETTERS
from ezurnals.shared.retry import Retrying
from ezurnals.shared.settings import Settings

log = structlog.get_logger(__name__)

#: Every producer's contracts must be registered before anything is parsed.
KNOWN_PRODUCERS = tuple(catalog.PRODUCERS)

INFRA_ERRORS: tuple[type[BaseException], ...] = (
    OSError,
    asyncpg.InterfaceError,
    asyncpg.CannotConnectNowError,
    asyncpg.TooManyConnectionsError,
    asyncpg.AdminShutdownError,
    asyncpg.ConnectionFailureError,
    asyncpg.PostgresConnectionError,
    asyncpg.DeadlockDetectedError,
    asyncpg.SerializationError,
)

Decoded = tuple[ConsumerRecord, EventEnvelope, IntegrationEvent]


def event_context(env: EventEnvelope) -> dict[str, str]:
    """What a consumer binds to its log context while it handles one event: the correlation id
    of the request that caused it (so one id leads from the web request to here), the event."""
    bound = {"event_id": str(env.event_id), "event_type": env.event_type}
    if env.correlation_id is not None:
        bound["correlation_id"] = str(env.correlation_id)
    return bound


def record_context(record: ConsumerRecord) -> dict[str, str]:
    """The same for a record that could not be parsed: the relay's headers, where they are."""
    headers = {key: value.decode("utf-8", "replace") for key, value in record.headers or ()}
    return {k: headers[k] for k in ("correlation_id", "event_id", "event_type") if headers.get(k)}


class EventApplier:
    """Applies Kafka records to projections in a schema; dead-letters what cannot be applied."""

    def __init__(
        self,
        db: Database,
        settings: Settings,
        projections: Sequence[Projection],
        dlt_producer: AIOKafkaProducer,
        *,
        consumer: str,
        schema: str,
    ) -> None:
        self.db = db
        self.settings = settings
        self.projections = list(projections)
        self.producer = dlt_producer
        self.consumer = consumer
        self.schema = schema

    async def install(self) -> None:
        async with self.db.raw() as conn:
            await install(conn, self.schema, self.projections)

    async def handle(self, records: Sequence[ConsumerRecord]) -> int:
        """Apply records in one transaction, each partition's in its order. Raises only for
        infrastructure failures."""
        decoded: list[Decoded] = []
        for record in records:
            try:
                env = EventEnvelope.model_validate_json(record.value or b"")
                decoded.append((record, env, env.parse()))
            except Exception as exc:
                with structlog.contextvars.bound_contextvars(**record_context(record)):
                    await self.dead_letter(record, exc, attempts=1)
        if not decoded:
            return 0
        try:
            async with self.db.raw() as conn:
                applied = await apply_events(
                    conn,
                    self.schema,
                    self.consumer,
                    self.projections,
                    [(env, ev) for _, env, ev in decoded],
                )
        except INFRA_ERRORS:
            raise
        except Exception:
            applied = 0
            for item in decoded:
                with structlog.contextvars.bound_contextvars(**event_context(item[1])):
                    applied += await self._apply_one(item)
        else:
            if log.is_enabled_for(logging.DEBUG):
                for record, env, _ in decoded:
                    with structlog.contextvars.bound_contextvars(**event_context(env)):
                        self._applied(record)
        CONSUMER_APPLIED.labels(self.consumer).inc(applied)
        return applied

    def _applied(self, record: ConsumerRecord) -> None:
        """Applied, or skipped as already applied: one DEBUG line per event."""
        log.debug(
            "consumer.event_handled",
            consumer=self.consumer,
            topic=record.topic,
            partition=record.partition,
            offset=record.offset,
        )

    async def _apply_one(self, item: Decoded) -> int:
        record, env, event = item
        error: Exception | None = None
        for attempt in range(1, self.settings.consumer_max_attempts + 1):
            try:
                async with self.db.raw() as conn:
                    applied = await apply_events(
                        conn, self.schema, self.consumer, self.projections, [(env, event)]
                    )
                self._applied(record)
                return applied
            except INFRA_ERRORS:
                raise
            except Exception as exc:
                error = exc
                await asyncio.sleep(0.05 * attempt)
        assert error is not None
        await self.dead_letter(record, error, attempts=self.settings.consumer_max_attempts, env=env)
        return 0

    async def dead_letter(
        self,
        record: ConsumerRecord,
        error: BaseException,
        *,
        attempts: int,
        env: EventEnvelope | None = None,
    ) -> None:
        reason = f"{type(error).__name__}: {error}"[:4000]
        dlt = f"{record.topic}.DLT"
        headers = [
            *(record.headers or ()),
            ("dlt.error", reason.encode()),
            ("dlt.error_type", type(error).__name__.encode()),
            ("dlt.consumer", self.consumer.encode()),
            ("dlt.source", f"{record.topic}:{record.partition}:{record.offset}".encode()),
            ("dlt.attempts", str(attempts).encode()),
        ]
        await self.producer.send_and_wait(dlt, value=record.value, key=record.key, headers=headers)
        async with self.db.raw() as conn:
            await conn.execute(
                """INSERT INTO public.dead_letters
                       (consumer, topic, partition, "offset", event_id, event_type, error, attempts)
                   VALUES ($1, $2, $3, $4, $5, $6, $7, $8)""",
                self.consumer,
                record.topic,
                record.partition,
                record.offset,
                env.event_id if env else None,
                env.event_type if env else None,
                reason,
                attempts,
            )
        DEAD_LETTERS.labels(self.consumer, record.topic).inc()
        log.warning(
            "consumer.dead_lettered",
            consumer=self.consumer,
            topic=record.topic,
            partition=record.partition,
            offset=record.offset,
            error=reason,
        )


class ProjectionRunner:
    """Consumes the source topics of a service's projections into its read-model schema."""

    def __init__(
        self,
        db: Database,
        settings: Settings,
        projections: Sequence[Projection],
        *,
        consumer: str | None = None,
        max_records: int = 2000,
        commit_interval_s: float = 1.0,
    ) -> None:
        self.db = db
        #: Offsets are committed at most this often: each commit is a round trip to the broker,
        #: and redelivery after a crash is already harmless (claims), only a little repeated work.
        self.commit_interval_s = commit_interval_s
        self.settings = settings
        self.projections = list(projections)
        self.consumer = consumer or f"{settings.service}.projections"
        self.max_records = max_records
        sources = sorted({s for p in projections for s in p.sources})
        self.topics = [settings.topic(s) for s in sources]
        self.group_id = f"{settings.topic_prefix}{self.consumer}"
        self.ready = asyncio.Event()
        #: When the first records arrived (time.perf_counter()), for throughput figures.
        self.first_fetch_at: float | None = None

    async def run(self, stop: asyncio.Event, producer: AIOKafkaProducer) -> None:
        applier = EventApplier(
            self.db,
            self.settings,
            self.projections,
            producer,
            consumer=self.consumer,
            schema=self.settings.read_model_schema,
        )
        retrying = Retrying()
        while not stop.is_set():
            try:
                await applier.install()
                break
            except INFRA_ERRORS as exc:
                log.warning("consumer.database_unavailable", error=str(exc))
                await retrying.wait(stop)
        retrying.succeeded()
        kafka = AIOKafkaConsumer(
            *self.topics,
            bootstrap_servers=self.settings.kafka_bootstrap_servers,
            group_id=self.group_id,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            max_poll_records=self.max_records,
            metadata_max_age_ms=5000,
            # A fetch returns as soon as data arrives (the broker holds it open until then), so
            # a long wait costs no latency; a short one only makes an idle worker and the broker
            # answer empty fetches all day.
            fetch_max_wait_ms=500,
            **self.settings.kafka_security(),
        )
        while not stop.is_set():
            try:
                await kafka.start()
                break
            except KafkaError as exc:
                log.warning("consumer.broker_unavailable", error=str(exc))
                await retrying.wait(stop)
        retrying.succeeded()
        self.ready.set()
        last_lag = 0.0
        uncommitted: dict[TopicPartition, int] = {}
        last_commit = time.monotonic()
        try:
            while not stop.is_set():
                batches = await kafka.getmany(timeout_ms=200, max_records=self.max_records)
                if batches:
                    if self.first_fetch_at is None:
                        self.first_fetch_at = time.perf_counter()
                    try:
                        # Every partition's records in one transaction (each partition's in its
                        # order): one commit per fetch instead of one per partition.
                        await applier.handle([r for records in batches.values() for r in records])
                        for tp, records in batches.items():
                            uncommitted[tp] = records[-1].offset + 1
                        retrying.succeeded()
                    except INFRA_ERRORS as exc:
                        log.warning("consumer.apply_paused", error=str(exc))
                        for tp, records in batches.items():
                            kafka.seek(tp, records[0].offset)
                        await retrying.wait(stop)
                if uncommitted and time.monotonic() - last_commit >= self.commit_interval_s:
                    await self._commit(kafka, uncommitted)
                    last_commit = time.monotonic()
                if time.monotonic() - last_lag > 2.0:
                    last_lag = time.monotonic()
                    await self.record_lag(kafka)
        finally:
            # Leaving must not fail: an in-flight fetch that times out while the broker is slow
            # would otherwise turn a clean shutdown into an error.
            try:
                if uncommitted:
                    await self._commit(kafka, uncommitted)
                await kafka.stop()
            except (KafkaError, asyncio.CancelledError, TimeoutError) as exc:
                log.warning("consumer.stop_failed", error=repr(exc))

    @staticmethod
    async def _commit(kafka: AIOKafkaConsumer, offsets: dict[TopicPartition, int]) -> None:
        """Offsets of applied events, for the partitions this consumer still owns. A commit
        lost (broker away, partition moved to another worker) only means those events are
        delivered again, and their claims make that harmless."""
        owned = kafka.assignment()
        mine = {tp: offset for tp, offset in offsets.items() if tp in owned}
        offsets.clear()
        if mine:
            with contextlib.suppress(KafkaError):
                await kafka.commit(mine)

    async def record_lag(self, kafka: AIOKafkaConsumer) -> None:
        """The lag gauge, per topic, summed over the partitions this worker owns; and each
        partition's position and lag in ``consumer_state``, for an operator's SQL."""
        rows = []
        per_topic = dict.fromkeys(self.topics, 0)
        for tp in kafka.assignment():
            high = kafka.highwater(tp)
            if high is None:
                continue
            position = await kafka.position(tp)
            lag = max(high - position, 0)
            per_topic[tp.topic] = per_topic.get(tp.topic, 0) + lag
            rows.append((self.consumer, tp.topic, tp.partition, position, lag))
        for topic, lag in per_topic.items():
            CONSUMER_LAG.labels(self.consumer, topic).set(lag)
        if not rows:
            return
        with contextlib.suppress(*INFRA_ERRORS):
            async with self.db.raw() as conn:
                await conn.executemany(
                    """INSERT INTO public.consumer_state (consumer, topic, partition, position, lag)
                       VALUES ($1, $2, $3, $4, $5)
                       ON CONFLICT (consumer, topic, partition) DO UPDATE
                       SET position = excluded.position, lag = excluded.lag, updated_at = now()""",
                    rows,
                )
