"""PostgreSQL access: one asyncpg connection pool per service database.

Everything talks to PostgreSQL through raw asyncpg connections from ``Database.raw()``: one round
trip per statement, prepared statements cached per connection. The pool is asyncpg's own, not
SQLAlchemy's engine (which this module used before): under the load test, checking a connection
out through SQLAlchemy's engine cost about an eighth of an API process's CPU, more than the
queries themselves, while nothing used the engine for anything else; SQLAlchemy is no longer a
dependency, and database URLs are read with the standard library.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit, urlunsplit

import asyncpg

from ezurnals.shared.retry import ACQUIRE, ACQUIRE_ATTEMPTS

#: A connection that could not be opened or was lost: the server went away, is starting up or
#: shutting down, or ended this session (a failover, ``pg_terminate_backend``).
CONNECTION_ERRORS: tuple[type[BaseException], ...] = (
    OSError,
    asyncpg.InterfaceError,
    asyncpg.PostgresConnectionError,
    asyncpg.AdminShutdownError,
    asyncpg.CannotConnectNowError,
)


def outage_cause(exc: BaseException) -> BaseException | None:
    """The connection-level error (server gone, starting up, refused) behind ``exc``, if any,
    looking through the errors raised from it (``__cause__``)."""
    seen: BaseException | None = exc
    for _ in range(5):
        if seen is None:
            return None
        if isinstance(seen, CONNECTION_ERRORS):
            return seen
        seen = seen.__cause__
    return None


POSTGRES_SCHEMES = frozenset({"postgres", "postgresql", "postgresql+asyncpg"})


def plain_url(url: str, database: str | None = None) -> str:
    """A ``postgresql://`` URL for asyncpg from any spelling settings use (``postgres://``,
    ``postgresql+asyncpg://``), optionally naming another database on the same server."""
    parts = urlsplit(url)
    if parts.scheme not in POSTGRES_SCHEMES:
        raise ValueError(f"not a PostgreSQL URL: {parts.scheme}://…")
    path = f"/{quote(database, safe='')}" if database is not None else parts.path
    return urlunsplit(("postgresql", parts.netloc, path, parts.query, parts.fragment))


def url_query(url: str) -> dict[str, str]:
    """The URL's query parameters (the socket directory of an embedded server is ``?host=``)."""
    return {key: values[-1] for key, values in parse_qs(urlsplit(url).query).items()}


class Database:
    """The service's database: a pool of asyncpg connections, opened on first use."""

    def __init__(self, url: str, *, pool_size: int = 10) -> None:
        self.url = url
        self.max_connections = pool_size
        self._pool: asyncpg.Pool | None = None
        self._opening = asyncio.Lock()

    async def _connections(self) -> asyncpg.Pool:
        if self._pool is None:
            async with self._opening:
                if self._pool is None:
                    self._pool = await asyncpg.create_pool(
                        plain_url(self.url),
                        min_size=0,
                        max_size=self.max_connections,
                        max_inactive_connection_lifetime=300,
                        init=_json_codecs,
                        reset=_keep_session,
                    )
        return self._pool

    @asynccontextmanager
    async def raw(self) -> AsyncIterator[asyncpg.Connection]:
        """A pooled asyncpg connection.

        json/jsonb values read come back as Python objects; values written must be JSON text
        (``json.dumps``). A transaction left open is rolled back when the connection returns;
        other session state (``SET``, advisory locks) must be undone by whoever set it.
        """
        pool = await self._connections()
        conn = await self._acquire(pool)
        try:
            yield conn
        except CONNECTION_ERRORS:
            # The server went away under us (a restart, most likely): replace every pooled
            # connection, or each would fail once before being replaced.
            await pool.expire_connections()
            raise
        finally:
            await pool.release(conn)

    @staticmethod
    async def _acquire(pool: asyncpg.Pool) -> asyncpg.Connection:
        """A pooled connection, trying again with jitter (retry.ACQUIRE) where opening one
        fails: during a failover the new primary refuses connections for a moment."""
        for attempt in range(ACQUIRE_ATTEMPTS):
            try:
                conn: asyncpg.Connection = await pool.acquire(timeout=30)
                return conn
            except CONNECTION_ERRORS:
                if attempt + 1 == ACQUIRE_ATTEMPTS:
                    raise
            await asyncio.sleep(ACQUIRE.delay(attempt))
        raise AssertionError("unreachable")

    async def dedicated(self) -> asyncpg.Connection:
        """A connection of its own, outside the pool, for a session that must stay (``LISTEN``);
        whoever opens it closes it."""
        return await asyncpg.connect(plain_url(self.url))

    async def ping(self) -> None:
        async with self.raw() as conn:
            await conn.fetchval("SELECT 1")

    async def dispose(self) -> None:
        pool, self._pool = self._pool, None
        if pool is None:
            return
        try:
            await asyncio.wait_for(pool.close(), 10)
        except TimeoutError:
            pool.terminate()


async def _json_codecs(conn: asyncpg.Connection) -> None:
    await conn.set_type_codec(
        "json", encoder=str, decoder=json.loads, schema="pg_catalog", format="text"
    )
    await conn.set_type_codec(
        "jsonb", encoder=str, decoder=json.loads, schema="pg_catalog", format="text"
    )


async def _keep_session(_: asyncpg.Connection) -> None:
    """Returning a connection costs no round trip (asyncpg's default reset query is one per
    checkout); an open transaction is still rolled back by asyncpg itself."""


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
