"""Ordered SQL migrations per service, applied under an advisory lock and checksummed.

Each service keeps ``migrations/0001_name.sql`` … beside its code; the spine's own tables (events,
outbox, idempotency, tracking) come first from ``ezurnals/shared/eventstore/migrations``. A file
that changes after it was applied is an error: migrations are append-only, like events.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable

import asyncpg

from ezurnals.shared.db import plain_url

_LOCK_KEY = 7_215_001


@dataclass(frozen=True)
class Migration:
    source: str
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


def migrations_in(package: str, source: str) -> list[Migration]:
    """The ``*.sql`` files of ``package``'s ``migrations`` folder, in name order."""
    try:
        folder: Traversable = resources.files(package).joinpath("migrations")
    except ModuleNotFoundError:
        return []
    if not folder.is_dir():
        return []
    files = sorted((f for f in folder.iterdir() if f.name.endswith(".sql")), key=lambda f: f.name)
    return [Migration(source, f.name, f.read_text(encoding="utf-8")) for f in files]


class MigrationChanged(RuntimeError):
    """An applied migration's file was edited afterwards."""


async def apply_migrations(database_url: str, migrations: list[Migration]) -> list[str]:
    """Apply what is new; return the names applied. Safe to run from several processes at once."""
    conn = await asyncpg.connect(plain_url(database_url))
    applied_now: list[str] = []
    try:
        await conn.execute("SELECT pg_advisory_lock($1)", _LOCK_KEY)
        await conn.execute(
            """CREATE TABLE IF NOT EXISTS schema_migrations (
                   source TEXT NOT NULL, name TEXT NOT NULL, checksum TEXT NOT NULL,
                   applied_at TIMESTAMPTZ NOT NULL DEFAULT now(), PRIMARY KEY (source, name))"""
        )
        done = {
            (r["source"], r["name"]): r["checksum"]
            for r in await conn.fetch("SELECT source, name, checksum FROM schema_migrations")
        }
        for m in migrations:
            known = done.get((m.source, m.name))
            if known is not None:
                if known != m.checksum:
                    raise MigrationChanged(f"{m.source}/{m.name} changed after it was applied")
                continue
            async with conn.transaction():
                await conn.execute(m.sql)
                await conn.execute(
                    "INSERT INTO schema_migrations (source, name, checksum) VALUES ($1, $2, $3)",
                    m.source,
                    m.name,
                    m.checksum,
                )
            applied_now.append(f"{m.source}/{m.name}")
    finally:
        try:
            await conn.execute("SELECT pg_advisory_unlock($1)", _LOCK_KEY)
        finally:
            await conn.close()
    return applied_now
