"""Revocations an API process refuses: what the feed pushed, what the projection holds, and for
how long each is remembered."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from ezurnals.shared.auth.revocations import (
    AccessRevocations,
    Change,
    Revocation,
    RevocationCache,
    RevocationFeed,
)
from ezurnals.shared.contracts.base import EventEnvelope
from ezurnals.shared.messaging import kafka
from ezurnals.shared.messaging.projection import install
from ezurnals.shared.service import Runtime
from ezurnals.shared.settings import Settings
from ezurnals.shared.testing.probe import PROBE
from ezurnals.shared.testing.stack import TestStack, eventually


@pytest.fixture
async def env(stack: TestStack, request: pytest.FixtureRequest) -> AsyncIterator[dict[str, Any]]:
    name = request.node.name[5:40]
    settings = await stack.settings(
        PROBE, database=f"r_{name}", topic_prefix=f"{stack.prefix}r{name}."
    )
    rt = Runtime.create(settings)
    async with rt.db.raw() as conn:
        await install(conn, settings.read_model_schema, [AccessRevocations()])
    yield {"settings": settings, "rt": rt}
    await rt.close()


def _revocation(change: Change, person: uuid.UUID, session: uuid.UUID | None = None) -> Revocation:
    return Revocation(change, person, session, datetime.now(UTC))


async def test_a_pushed_revocation_is_refused_before_the_projection_has_it(
    env: dict[str, Any],
) -> None:
    cache = RevocationCache(env["rt"].db, "rm")
    person, session = uuid.uuid4(), uuid.uuid4()
    assert not await cache.is_revoked(person, session, time.time())
    cache.note(_revocation(Change.SESSION_ENDED, person, session))
    assert await cache.is_revoked(person, session, time.time())
    assert not await cache.is_revoked(person, uuid.uuid4(), time.time())
    cache.note(_revocation(Change.PERSON_REVOKED, person))
    assert await cache.is_revoked(person, uuid.uuid4(), time.time())
    cache.note(_revocation(Change.PERSON_RESTORED, person))
    assert not await cache.is_revoked(person, uuid.uuid4(), time.time())


async def test_signed_out_everywhere_refuses_only_tokens_issued_before(
    env: dict[str, Any],
) -> None:
    cache = RevocationCache(env["rt"].db, "rm")
    person = uuid.uuid4()
    at = datetime.now(UTC)
    cache.note(Revocation(Change.SIGNED_OUT_EVERYWHERE, person, None, at))
    assert await cache.is_revoked(person, uuid.uuid4(), at.timestamp() - 60)
    assert not await cache.is_revoked(person, uuid.uuid4(), at.timestamp() + 60)


async def test_a_revocation_is_forgotten_once_every_token_it_names_has_expired(
    env: dict[str, Any],
) -> None:
    """``memory_s`` outlives the longest token; after it the pushed entry and an old projected
    session are gone, while a revoked person stays refused until restored."""
    rt = env["rt"]
    old_session, person = uuid.uuid4(), uuid.uuid4()
    async with rt.db.raw() as conn:
        await conn.execute(
            "INSERT INTO rm.revoked_sessions VALUES ($1, $2)",
            old_session,
            datetime.now(UTC) - timedelta(hours=2),
        )
        await conn.execute(
            "INSERT INTO rm.revoked_people VALUES ($1, $2)",
            person,
            datetime.now(UTC) - timedelta(hours=2),
        )
    cache = RevocationCache(rt.db, "rm", memory_s=0.2)
    assert not await cache.is_revoked(uuid.uuid4(), old_session, time.time())
    assert await cache.is_revoked(person, None, time.time())
    pushed = uuid.uuid4()
    cache.note(_revocation(Change.SESSION_ENDED, uuid.uuid4(), pushed))
    assert await cache.is_revoked(uuid.uuid4(), pushed, time.time())
    await asyncio.sleep(0.3)
    cache.note(_revocation(Change.SESSION_ENDED, uuid.uuid4(), uuid.uuid4()))
    assert not await cache.is_revoked(uuid.uuid4(), pushed, time.time())


async def test_the_feed_reads_revocations_from_identitys_topic_including_recent_ones(
    env: dict[str, Any],
) -> None:
    """A revocation published just before the API process started is known as well as one
    published while it runs; identity's other events are passed over."""
    settings: Settings = env["settings"]
    producer = kafka.producer(settings)
    await producer.start()
    earlier, later = uuid.uuid4(), uuid.uuid4()

    async def publish(event_type: str, person: uuid.UUID) -> None:
        envelope = EventEnvelope(
            event_type=event_type,
            schema_version=1,
            stream_id=f"account-{person}",
            stream_version=1,
            payload={"person_id": str(person), "revoked_at": datetime.now(UTC).isoformat()},
        )
        await producer.send_and_wait(
            settings.topic("identity"),
            key=envelope.stream_id.encode(),
            value=envelope.model_dump_json().encode(),
            headers=[("event_type", event_type.encode())],
        )

    stop = asyncio.Event()
    try:
        await publish("AccessRevoked", earlier)
        await publish("SignedIn", later)
        cache = RevocationCache(env["rt"].db, "rm", ttl_s=3600)
        await cache.refresh()
        feed = RevocationFeed(settings, cache)
        task = asyncio.create_task(feed.run(stop))
        await asyncio.wait_for(feed.ready.wait(), 30)
        await eventually(
            lambda: cache.is_revoked(earlier, None, time.time()), what="the earlier revocation"
        )
        assert not await cache.is_revoked(later, None, time.time())
        await publish("AccessRevoked", later)
        await eventually(
            lambda: cache.is_revoked(later, None, time.time()),
            timeout=5,
            what="the revocation published while the feed runs",
        )
    finally:
        stop.set()
        await producer.stop()
    await asyncio.wait_for(task, 10)
