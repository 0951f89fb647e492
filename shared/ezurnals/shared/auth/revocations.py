"""Revoked sessions and people, projected from identity's events into every service.

A signed token stays valid until it expires; this read model is how a service refuses, within
seconds, the tokens of a session that was signed out or of a person whose employment ended.
"""

from __future__ import annotations

import time
from typing import ClassVar
from uuid import UUID

import asyncpg

from ezurnals.shared.contracts.base import EventEnvelope, IntegrationEvent
from ezurnals.shared.db import Database
from ezurnals.shared.messaging.projection import Projection


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
    event_types: ClassVar[frozenset[str] | None] = frozenset(
        {"SessionRevoked", "AccessRevoked", "AccessRestored", "EmploymentEnded"}
    )

    async def apply(
        self, conn: asyncpg.Connection, envelope: EventEnvelope, event: IntegrationEvent
    ) -> None:
        data = envelope.payload
        person = UUID(data["person_id"]) if data.get("person_id") else None
        kind = envelope.event_type
        if kind == "SessionRevoked" and data.get("session_id"):
            await conn.execute(
                "INSERT INTO revoked_sessions VALUES ($1, $2) ON CONFLICT DO NOTHING",
                UUID(data["session_id"]),
                envelope.occurred_at,
            )
        elif kind == "SessionRevoked" and person:
            await conn.execute(
                """INSERT INTO signed_out_everywhere VALUES ($1, $2) ON CONFLICT (person_id)
                   DO UPDATE
                   SET before = greatest(signed_out_everywhere.before, excluded.before)""",
                person,
                envelope.occurred_at,
            )
        elif kind in {"AccessRevoked", "EmploymentEnded"} and person:
            await conn.execute(
                "INSERT INTO revoked_people VALUES ($1, $2) ON CONFLICT (person_id) DO NOTHING",
                person,
                envelope.occurred_at,
            )
        elif kind == "AccessRestored" and person:
            await conn.execute("DELETE FROM revoked_people WHERE person_id = $1", person)


class RevocationCache:
    """What AccessRevocations holds, reloaded at most every ``ttl_s`` seconds."""

    def __init__(self, db: Database, schema: str, ttl_s: float = 1.0) -> None:
        self.db = db
        self.schema = schema
        self.ttl_s = ttl_s
        self._loaded_at = 0.0
        self._sessions: set[UUID] = set()
        self._people: set[UUID] = set()
        self._signed_out: dict[UUID, float] = {}

    async def refresh(self) -> None:
        if time.monotonic() - self._loaded_at < self.ttl_s:
            return
        schema = self.schema
        async with self.db.raw() as conn:
            try:
                sessions = await conn.fetch(f"SELECT session_id FROM {schema}.revoked_sessions")
                people = await conn.fetch(f"SELECT person_id FROM {schema}.revoked_people")
                signed_out = await conn.fetch(
                    f"SELECT person_id, before FROM {schema}.signed_out_everywhere"
                )
            except asyncpg.UndefinedTableError:
                sessions, people, signed_out = [], [], []
        self._sessions = {r["session_id"] for r in sessions}
        self._people = {r["person_id"] for r in people}
        self._signed_out = {r["person_id"]: r["before"].timestamp() for r in signed_out}
        self._loaded_at = time.monotonic()

    async def is_revoked(
        self, person_id: UUID, session_id: UUID | None, issued_at: float | None
    ) -> bool:
        await self.refresh()
        if person_id in self._people or (session_id is not None and session_id in self._sessions):
            return True
        before = self._signed_out.get(person_id)
        return before is not None and (issued_at is None or issued_at <= before)
