"""A test session's slice of PostgreSQL and Kafka: fresh databases and topics, API and worker."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import httpx
import uvicorn

from ezurnals.shared.db import drop_database, ensure_database, plain_url
from ezurnals.shared.http.app import create_app
from ezurnals.shared.http.server import server_config
from ezurnals.shared.messaging.kafka import all_topics, ensure_topics
from ezurnals.shared.runtime.infra import Infrastructure, free_port
from ezurnals.shared.service import ServiceDefinition
from ezurnals.shared.settings import SERVICES, Settings
from ezurnals.shared.worker import Worker

T = TypeVar("T")


class TestStack:
    __test__ = False

    def __init__(self, infra: Infrastructure, run_id: str) -> None:
        self.infra = infra
        self.run_id = run_id
        self.prefix = f"ezt{run_id}."
        self._databases: list[str] = []
        self._topics_ready = False

    async def database(self, name: str) -> str:
        """A fresh, empty database on the server; dropped when the session ends."""
        db_name = f"ezt_{self.run_id}_{name}"
        await ensure_database(self.infra.database_url, db_name)
        if db_name not in self._databases:
            self._databases.append(db_name)
        return plain_url(self.infra.database_url, db_name)

    async def settings(
        self, definition: ServiceDefinition, *, database: str | None = None, **overrides: Any
    ) -> Settings:
        """Settings for ``definition`` with its own migrated database and the session's topics."""
        url = await self.database(database or definition.name)
        await definition.migrate(url)
        values: dict[str, Any] = {
            "service": definition.name,
            "database_url": url,
            "kafka_bootstrap_servers": self.infra.kafka_bootstrap_servers,
            "topic_prefix": self.prefix,
            "log_json": False,
            "db_pool_size": 5,
        }
        values.update(overrides)
        settings = Settings.model_validate(values)
        services = {*SERVICES, definition.name}
        await ensure_topics(settings, all_topics(settings, sorted(services)))
        return settings

    async def cleanup(self) -> None:
        for name in self._databases:
            await drop_database(self.infra.database_url, name)


@asynccontextmanager
async def api_client(
    definition: ServiceDefinition, settings: Settings, **headers: str
) -> AsyncIterator[httpx.AsyncClient]:
    """The service's FastAPI app with its lifespan running, behind an in-process HTTP client."""
    app = create_app(definition, settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://test", headers=headers
        ) as client:
            yield client


@asynccontextmanager
async def serving(
    app: Any,
    port: int | None = None,
    *,
    forwarded_allow_ips: str = "127.0.0.1",
    lifespan: str = "auto",
) -> AsyncIterator[str]:
    """The app behind uvicorn on a real port (a free one unless given), in this event loop,
    started as the servers are; yields its base URL. For what only a real connection shows
    (keep-alive after an error, the peer's address). ``lifespan="off"``: the caller runs it."""
    port = port or free_port()
    server = uvicorn.Server(
        server_config(
            app,
            host="127.0.0.1",
            port=port,
            forwarded_allow_ips=forwarded_allow_ips,
            log_level="warning",
            lifespan=lifespan,
        )
    )
    server.capture_signals = contextlib.nullcontext  # type: ignore[method-assign,assignment]
    task = asyncio.create_task(server.serve())
    try:
        while not server.started:
            if task.done():
                task.result()
                raise RuntimeError(f"uvicorn on port {port} stopped before it started")
            await asyncio.sleep(0.01)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 30)


@asynccontextmanager
async def running_worker(
    definition: ServiceDefinition, settings: Settings
) -> AsyncIterator[Worker]:
    worker = Worker(definition, settings)
    task = asyncio.create_task(worker.run())
    try:
        yield worker
    finally:
        worker.stop.set()
        await asyncio.wait_for(task, 30)


async def eventually(
    probe: Callable[[], Awaitable[T | None]],
    *,
    timeout: float = 20.0,
    interval: float = 0.05,
    what: str = "condition",
) -> T:
    """Poll ``probe`` until it returns something truthy; fail with ``what`` after ``timeout``.
    A probe answering ``X | None`` yields an ``X``: ``None`` is never returned."""
    deadline = time.monotonic() + timeout
    last: T | None = None
    while time.monotonic() < deadline:
        last = await probe()
        if last:
            return last
        await asyncio.sleep(interval)
    raise AssertionError(f"{what} did not happen within {timeout:.0f}s (last: {last!r})")
