"""PostgreSQL access: one SQLAlchemy async engine (asyncpg driver) per service database.

Hot paths (event append, outbox relay, projections) borrow the raw asyncpg connection from the
engine's pool: one round trip per append instead of several, which is what lets a single API
process reach thousands of commands per second on two cores.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, cast

import asyncpg
from sqlalchemy import make_url
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

_BROKEN = (
    OSError,
    asyncpg.InterfaceError,
    asyncpg.PostgresConnectionError,
    asyncpg.AdminShutdownError,
    asyncpg.CannotConnectNowError,
)


def outage_cause(exc: BaseException) -> BaseException | None:
    """The connection-level error (server gone, starting up, refused) behind ``exc``, if any:
    SQLAlchemy wraps asyncpg's errors (``orig``, ``__cause__``) when it opens a connection."""
    seen: BaseException | None = exc
    for _ in range(5):
        if seen is None:
            return None
        if isinstance(seen, _BROKEN):
            return seen
        seen = getattr(seen, "orig", None) or seen.__cause__
    return None


def sqlalchemy_url(url: str) -> URL:
    """Accept ``postgresql://`` or ``postgres://`` URLs and use the asyncpg driver."""
    parsed = make_url(url.replace("postgres://", "postgresql://", 1))
    return parsed.set(drivername="postgresql+asyncpg")


def plain_url(url: str | URL, database: str | None = None) -> str:
    """A ``postgresql://`` URL (for asyncpg itself), optionally for another database."""
    parsed = sqlalchemy_url(str(url)) if isinstance(url, str) else url
    if database is not None:
        parsed = parsed.set(database=database)
    return parsed.set(drivername="postgresql").render_as_string(hide_password=False)


class Database:
    """The service's database: an engine for SQLAlchemy work and raw asyncpg for hot paths."""

    def __init__(self, url: str, *, pool_size: int = 10, max_overflow: int = 10) -> None:
        self.url = url
        self.engine: AsyncEngine = create_async_engine(
            sqlalchemy_url(url),
            pool_size=pool_size,
            max_overflow=max_overflow,
            pool_recycle=1800,
        )

    @asynccontextmanager
    async def raw(self) -> AsyncIterator[asyncpg.Connection]:
        """A pooled asyncpg connection.

        SQLAlchemy's dialect installs the json/jsonb codecs: values read come back as Python
        objects, values written must be JSON text (``json.dumps``).
        """
        sa_conn = self.engine.connect()
        try:
            await sa_conn.start()
        except DBAPIError as exc:
            # A new connection refused (the server is restarting) comes wrapped by SQLAlchemy;
            # unwrapped, callers see the same outage errors as on a pooled connection.
            cause = outage_cause(exc)
            if cause is None:
                raise
            raise cause from exc
        try:
            fairy = await sa_conn.get_raw_connection()
            try:
                yield cast(asyncpg.Connection, fairy.driver_connection)
            except _BROKEN:
                # The server went away under us (a restart, most likely): drop this connection
                # and every pooled one with it, or each would fail once before being replaced.
                await sa_conn.invalidate()
                await self.engine.dispose(close=False)
                raise
        finally:
            await asyncio.shield(sa_conn.close())

    async def ping(self) -> None:
        async with self.raw() as conn:
            await conn.fetchval("SELECT 1")

    async def dispose(self) -> None:
        await self.engine.dispose()


async def ensure_database(admin_url: str, name: str) -> None:
    """Create database ``name`` on the server behind ``admin_url`` if it does not exist."""
    conn = await asyncpg.connect(plain_url(admin_url))
    try:
        exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if not exists:
            with contextlib.suppress(asyncpg.DuplicateDatabaseError):
                await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


async def drop_database(admin_url: str, name: str) -> None:
    conn = await asyncpg.connect(plain_url(admin_url))
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


def row_dict(record: Any) -> dict[str, Any]:
    return dict(record.items())
