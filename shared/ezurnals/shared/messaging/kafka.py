"""Producer, consumer and admin factories, and topic creation."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Iterable

from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError, TopicAlreadyExistsError

from ezurnals.shared.observability.metrics import BROKER_REACHABLE
from ezurnals.shared.settings import SERVICES, Settings


def producer(settings: Settings, **overrides: object) -> AIOKafkaProducer:
    """acks=all always; idempotence where the broker has it (Apache Kafka, not Tansu)."""
    options: dict[str, object] = {
        "bootstrap_servers": settings.kafka_bootstrap_servers,
        "acks": "all",
        "enable_idempotence": settings.kafka_idempotence,
        "linger_ms": 2,
        "max_batch_size": 262_144,
        "request_timeout_ms": 15_000,
        "retry_backoff_ms": 200,
        **settings.kafka_security(),
    }
    options.update(overrides)
    return AIOKafkaProducer(**options)


def all_topics(settings: Settings, services: Iterable[str] = SERVICES) -> list[str]:
    names: list[str] = []
    for service in services:
        names += [settings.topic(service), settings.dead_letter_topic(service)]
    return names


async def ensure_topics(settings: Settings, topics: Iterable[str], *, timeout: float = 30) -> None:
    """Create missing topics (retrying while the broker starts up)."""
    wanted = list(topics)
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        admin = AIOKafkaAdminClient(
            bootstrap_servers=settings.kafka_bootstrap_servers, **settings.kafka_security()
        )
        try:
            await admin.start()
            existing = set(await admin.list_topics())
            missing = [t for t in wanted if t not in existing]
            if missing:
                with contextlib.suppress(TopicAlreadyExistsError):
                    await admin.create_topics(
                        [NewTopic(t, settings.topic_partitions, 1) for t in missing]
                    )
            return
        except (KafkaError, OSError):
            if asyncio.get_running_loop().time() > deadline:
                raise
            await asyncio.sleep(0.5)
        finally:
            await admin.close()


async def broker_reachable(settings: Settings, timeout: float = 3.0) -> bool:
    admin = AIOKafkaAdminClient(
        bootstrap_servers=settings.kafka_bootstrap_servers,
        request_timeout_ms=int(timeout * 1000),
        **settings.kafka_security(),
    )
    try:
        await asyncio.wait_for(admin.start(), timeout)
        await asyncio.wait_for(admin.list_topics(), timeout)
        return True
    except (KafkaError, OSError, TimeoutError):
        return False
    finally:
        await admin.close()


class BrokerProbe:
    """Whether the broker answers, asked at most every ``ttl`` seconds (a readiness probe and a
    scrape must not each open a connection), and kept in the ``ezurnals_broker_reachable``
    gauge of the process that uses the broker: the worker."""

    def __init__(self, settings: Settings, *, label: str, ttl: float = 5.0) -> None:
        self.settings = settings
        self.ttl = ttl
        self._gauge = BROKER_REACHABLE.labels(label)
        self._at: float | None = None
        self._ok = False

    async def ok(self) -> bool:
        if self._at is None or time.monotonic() - self._at > self.ttl:
            self._ok = await broker_reachable(self.settings)
            self._at = time.monotonic()
            self._gauge.set(1 if self._ok else 0)
        return self._ok
