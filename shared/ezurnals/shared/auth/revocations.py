"""Revoked sessions and people: which tokens a service refuses although their signature is good.

A signed token stays valid until it expires, so identity publishes every revocation
(``SessionRevoked``, ``AccessRevoked`` or ``EmploymentEnded``, ``AccessRestored``) and each
service refuses the tokens it names. Two paths carry them to an API process, and it refuses what
either knows:

- ``RevocationFeed``: the API process reads identity's topic itself, only the revocation events,
  and keeps them in memory. It does not wait for the worker's projection (behind a busy worker's
  batch of other events, that took seconds): a revocation is refused about as soon as identity's
  relay has published it.
- ``AccessRevocations``: the worker's projection into the service's own database, which an API
  process reloads every ``ttl_s`` (``RevocationCache``). It holds what was revoked before the
  process started and backs the feed up while the broker is away.

A revocation need only be remembered as long as the longest token lives: after that, every token
it names has expired. A revoked person cannot get a new token (identity refuses their sign-in and
refresh) until their access is restored.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, ClassVar, Protocol
from uuid import UUID

import asyncpg
import structlog
from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.errors import KafkaError
from pydantic import ValidationError

from ezurnals.shared.contracts.base import EventEnvelope, IntegrationEvent
from ezurnals.shared.db import Database
from ezurnals.shared.messaging.projection import Projection
from ezurnals.shared.settings import Settings

log = structlog.get_logger(__name__)

#: Identity's events that revoke or restore access. Identity records AccessRevoked with every
#: EmploymentEnded; the end alone is enough here too.
REVOKING_EVENTS = frozenset(
    {"SessionRevoked", "AccessRevoked", "AccessRestored", "EmploymentEnded"}
)


class Revocations(Protocol):
    """What the HTTP layer asks before it lets a verified token through."""

    async def is_revoked(
        self, person_id: UUID, session_id: UUID | None, issued_at: float | None
    ) -> bool: ...


class Change(StrEnum):
    SESSION_ENDED = "session_ended"
    SIGNED_OUT_EVERYWHERE = "signed_out_everywhere"
    PERSON_REVOKED = "person_revoked"
    PERSON_RESTORED = "person_restored"


@dataclass(frozen=True)
class Revocation:
    """What one of identity's events changes about which tokens are refused."""

    change: Change
    person_id: UUID
    session_id: UUID | None
    at: datetime

    @classmethod
    def of(cls, envelope: EventEnvelope) -> Revocation | None:
        """The revocation ``envelope`` carries, or None for any other event."""
        data = envelope.payload
        if envelope.event_type not in REVOKING_EVENTS or not data.get("person_id"):
            return None
        person = UUID(data["person_id"])
        at = envelope.occurred_at
        if envelope.event_type == "SessionRevoked":
            if data.get("session_id"):
                return cls(Change.SESSION_ENDED, person, UUID(data["session_id"]), at)
            return cls(Change.SIGNED_OUT_EVERYWHERE, person, None, at)
        if envelope.event_type in {"AccessRevoked", "EmploymentEnded"}:
            return cls(Change.PERSON_REVOKED, person, None, at)
        return cls(Change.PERSON_RESTORED, person, None, at)


class AccessRevocations(Projection):
    sources = ("identity",)
    ddl = (
        """CREATE TABLE IF NOT EXISTS revoked_sessions (
               session_id UUID PRIMARY KEY, revoked_at TIMESTAMPTZ NOT NULL)""",
        """CREATE TABLE IF NOT EXISTS revoked_people (
               person_id UUID PRIMARY KEY, revoked_at TIMESTAMPTZ NOT NULL)""",
        """CREATE TABLE IF NOT EXISTS signed_out_everywhere (
               person_id UUID PRIMARY KEY, before TIMESTAMPTZ NOT NULL)""",
    )
    event_types: ClassVar[frozenset[str] | None] = REVOKING_EVENTS

    async def apply(
        self, conn: asyncpg.Connection, envelope: EventEnvelope, event: IntegrationEvent
    ) -> None:
        revocation = Revocation.of(envelope)
        if revocation is None:
            return
        person, at = revocation.person_id, revocation.at
        if revocation.change is Change.SESSION_ENDED:
            await conn.execute(
                "INSERT INTO revoked_sessions VALUES ($1, $2) ON CONFLICT DO NOTHING",
                revocation.session_id,
                at,
            )
        elif revocation.change is Change.SIGNED_OUT_EVERYWHERE:
            await conn.execute(
                """INSERT INTO signed_out_everywhere VALUES ($1, $2) ON CONFLICT (person_id)
                   DO UPDATE
                   SET before = greatest(signed_out_everywhere.before, excluded.before)""",
                person,
                at,
            )
        elif revocation.change is Change.PERSON_REVOKED:
            await conn.execute(
                "INSERT INTO revoked_people VALUES ($1, $2) ON CONFLICT (person_id) DO NOTHING",
                person,
                at,
            )
        else:
            await conn.execute("DELETE FROM revoked_people WHERE person_id = $1", person)


def signed_out_since(issued_at: float | None, before: float | None) -> bool:
    """A sign-out everywhere at ``before`` refuses every token issued up to it (and any token
    that does not say when it was issued)."""
    return before is not None and (issued_at is None or issued_at <= before)


@dataclass
class _Known:
    """Refused sessions and people, and for whom every token issued up to an instant."""

    sessions: set[UUID]
    people: set[UUID]
    signed_out: dict[UUID, float]

    def refuses(self, person_id: UUID, session_id: UUID | None, issued_at: float | None) -> bool:
        if person_id in self.people or (session_id is not None and session_id in self.sessions):
            return True
        return signed_out_since(issued_at, self.signed_out.get(person_id))


class RevocationCache:
    """What the projection holds (reloaded at most every ``ttl_s``) and what the feed pushed.

    ``memory_s``: how long a revocation is kept, longer than any token lives (identity's access
    tokens live 15 minutes); older session revocations are not even loaded.
    """

    def __init__(
        self, db: Database, schema: str, ttl_s: float = 1.0, memory_s: float = 3600.0
    ) -> None:
        self.db = db
        self.schema = schema
        self.ttl_s = ttl_s
        self.memory_s = memory_s
        self._loaded_at = float("-inf")
        self._projected = _Known(set(), set(), {})
        self._pushed = _Known(set(), set(), {})
        #: When each pushed entry was noted (time.monotonic()), to forget it after memory_s.
        self._noted: dict[tuple[Change, UUID], float] = {}
        self._forgot_at = time.monotonic()

    async def refresh(self) -> None:
        if time.monotonic() - self._loaded_at < self.ttl_s:
            return
        schema = self.schema
        async with self.db.raw() as conn:
            try:
                sessions = await conn.fetch(
                    f"SELECT session_id FROM {schema}.revoked_sessions "
                    "WHERE revoked_at > now() - make_interval(secs => $1)",
                    self.memory_s,
                )
                people = await conn.fetch(f"SELECT person_id FROM {schema}.revoked_people")
                signed_out = await conn.fetch(
                    f"SELECT person_id, before FROM {schema}.signed_out_everywhere "
                    "WHERE before > now() - make_interval(secs => $1)",
                    self.memory_s,
                )
            except asyncpg.UndefinedTableError:
                sessions, people, signed_out = [], [], []
        self._projected = _Known(
            {r["session_id"] for r in sessions},
            {r["person_id"] for r in people},
            {r["person_id"]: r["before"].timestamp() for r in signed_out},
        )
        self._loaded_at = time.monotonic()

    def note(self, revocation: Revocation) -> None:
        """A revocation the feed read from identity's topic, refused from now on."""
        self._forget_old()
        pushed, person = self._pushed, revocation.person_id
        if revocation.change is Change.SESSION_ENDED and revocation.session_id is not None:
            pushed.sessions.add(revocation.session_id)
            self._noted[(revocation.change, revocation.session_id)] = time.monotonic()
        elif revocation.change is Change.SIGNED_OUT_EVERYWHERE:
            before = revocation.at.timestamp()
            pushed.signed_out[person] = max(before, pushed.signed_out.get(person, before))
            self._noted[(revocation.change, person)] = time.monotonic()
        elif revocation.change is Change.PERSON_REVOKED:
            pushed.people.add(person)
            self._noted[(revocation.change, person)] = time.monotonic()
        elif revocation.change is Change.PERSON_RESTORED:
            pushed.people.discard(person)
            self._noted.pop((Change.PERSON_REVOKED, person), None)

    def _forget_old(self) -> None:
        now = time.monotonic()
        if now - self._forgot_at < min(60.0, self.memory_s):
            return
        self._forgot_at = now
        horizon = now - self.memory_s
        for (change, key), noted in list(self._noted.items()):
            if noted >= horizon:
                continue
            del self._noted[(change, key)]
            if change is Change.SESSION_ENDED:
                self._pushed.sessions.discard(key)
            elif change is Change.PERSON_REVOKED:
                self._pushed.people.discard(key)
            else:
                self._pushed.signed_out.pop(key, None)

    async def is_revoked(
        self, person_id: UUID, session_id: UUID | None, issued_at: float | None
    ) -> bool:
        if self._pushed.refuses(person_id, session_id, issued_at):
            return True
        await self.refresh()
        return self._projected.refuses(person_id, session_id, issued_at)


class RevocationFeed:
    """An API process's own reader of identity's topic: every revocation into ``cache`` at once.

    No consumer group: each process reads every partition itself. It starts ``memory_s`` back
    (where the broker can find offsets by time), so what was revoked just before the process
    started is known too; the projection covers anything older.
    """

    def __init__(self, settings: Settings, cache: RevocationCache) -> None:
        self.settings = settings
        self.cache = cache
        self.topic = settings.topic("identity")
        self.ready = asyncio.Event()

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self._follow(stop)
            except Exception as exc:
                # Whatever stopped it, the feed starts over: until it is back, the projection
                # alone refuses (a second or so later).
                log.warning("revocations.feed_interrupted", error=repr(exc))
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), 1.0)

    async def _follow(self, stop: asyncio.Event) -> None:
        kafka = AIOKafkaConsumer(
            bootstrap_servers=self.settings.kafka_bootstrap_servers,
            group_id=None,
            enable_auto_commit=False,
            auto_offset_reset="latest",
            # The broker answers a fetch as soon as a record arrives; this only bounds how long
            # an idle fetch is held open.
            fetch_max_wait_ms=500,
            metadata_max_age_ms=5000,
        )
        await kafka.start()
        try:
            partitions = await self._assign(kafka)
            await self._start_back(kafka, partitions)
            self.ready.set()
            while not stop.is_set():
                batches = await kafka.getmany(timeout_ms=200)
                for records in batches.values():
                    for record in records:
                        self._take(record)
        finally:
            with contextlib.suppress(KafkaError, asyncio.CancelledError, TimeoutError):
                await kafka.stop()

    async def _assign(self, kafka: AIOKafkaConsumer) -> list[TopicPartition]:
        parts = kafka.partitions_for_topic(self.topic)
        while not parts:
            await kafka._client.force_metadata_update()
            parts = kafka.partitions_for_topic(self.topic)
            if not parts:
                await asyncio.sleep(1.0)
        partitions = [TopicPartition(self.topic, p) for p in sorted(parts)]
        kafka.assign(partitions)
        return partitions

    async def _start_back(self, kafka: AIOKafkaConsumer, partitions: list[TopicPartition]) -> None:
        since_ms = int((time.time() - self.cache.memory_s) * 1000)
        try:
            found = await kafka.offsets_for_times(dict.fromkeys(partitions, since_ms))
        except (KafkaError, ValueError, TypeError) as exc:
            log.info("revocations.feed_from_now", reason=repr(exc))
            await kafka.seek_to_end(*partitions)
            return
        for tp in partitions:
            offset = found.get(tp)
            if offset is None:
                await kafka.seek_to_end(tp)
            else:
                kafka.seek(tp, offset.offset)

    def _take(self, record: ConsumerRecord[Any, Any]) -> None:
        headers = dict(record.headers or ())
        kind = headers.get("event_type")
        if kind is not None and kind.decode() not in REVOKING_EVENTS:
            return
        try:
            envelope = EventEnvelope.model_validate_json(record.value)
        except ValidationError:
            return
        revocation = Revocation.of(envelope)
        if revocation is not None:
            self.cache.note(revocation)
