"""Producer, consumer and admin factories, and topic creation."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterable

from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError, TopicAlreadyExistsError

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
