"""The FastAPI app of a service: lifespan wiring, health, readiness, metrics, logs, errors.

Routes live under ``/api/<service>/`` (the production Ingress routes that prefix without
rewriting); ``/healthz``, ``/readyz``, ``/metrics`` and ``/openapi.json`` sit at the root.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import structlog
from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from ezurnals.shared.auth.revocations import RevocationCache
from ezurnals.shared.auth.verifier import TokenVerifier
from ezurnals.shared.http.errors import install_error_handlers
from ezurnals.shared.messaging.kafka import broker_reachable
from ezurnals.shared.observability.metrics import (
    CONSUMER_LAG,
    DEAD_LETTERS_STORED,
    RELAY_BACKLOG,
    RELAY_LAG,
    REQUEST_LATENCY,
)
from ezurnals.shared.service import Runtime, ServiceDefinition
from ezurnals.shared.settings import Settings

log = structlog.get_logger(__name__)


class _BrokerProbe:
    """Caches the broker check for a few seconds so probes don't open a connection each time."""

    def __init__(self, settings: Settings, ttl: float = 5.0) -> None:
        self.settings = settings
        self.ttl = ttl
        self._at = 0.0
        self._ok = False

    async def ok(self) -> bool:
        if time.monotonic() - self._at > self.ttl:
            self._ok = await broker_reachable(self.settings)
            self._at = time.monotonic()
        return self._ok


def create_app(
    definition: ServiceDefinition,
    settings: Settings,
    *,
    runtime_factory: Callable[[Settings], Runtime] = Runtime.create,
    on_startup: Callable[[Runtime, FastAPI], Awaitable[None]] | None = None,
) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        runtime = runtime_factory(settings)
        app.state.runtime = runtime
        app.state.broker = _BrokerProbe(settings)
        app.state.verifier = TokenVerifier(settings.jwks_url) if settings.jwks_url else None
        app.state.revocations = RevocationCache(runtime.db, settings.read_model_schema)
        if on_startup is not None:
            await on_startup(runtime, app)
        log.info("api.started", service=definition.name)
        try:
            yield
        finally:
            await runtime.close()

    app = FastAPI(
        title=f"ezurnals {definition.title}",
        version="0.1.0",
        lifespan=lifespan,
        description=f"The {definition.name} service of ezurnals, the e-žurnāls.",
    )
    install_error_handlers(app)

    @app.middleware("http")
    async def context(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        raw = request.headers.get("x-correlation-id", "")
        try:
            correlation = str(uuid.UUID(raw))
        except ValueError:
            correlation = str(uuid.uuid4())
        request.state.correlation_id = correlation
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(correlation_id=correlation)
        started = time.perf_counter()
        response = await call_next(request)
        route = getattr(request.scope.get("route"), "path", "unmatched")
        REQUEST_LATENCY.labels(
            definition.name, request.method, route, response.status_code
        ).observe(time.perf_counter() - started)
        response.headers["X-Correlation-ID"] = correlation
        return response

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok", "service": definition.name}

    @app.get("/readyz", include_in_schema=False)
    async def readyz(request: Request) -> JSONResponse:
        runtime: Runtime = request.app.state.runtime
        checks: dict[str, Any] = {}
        try:
            await runtime.db.ping()
            checks["database"] = "ok"
        except Exception as exc:
            checks["database"] = f"unavailable: {type(exc).__name__}"
        checks["broker"] = "ok" if await request.app.state.broker.ok() else "unavailable"
        ready = all(v == "ok" for v in checks.values())
        return JSONResponse(
            status_code=200 if ready else 503,
            content={"status": "ready" if ready else "not_ready", "checks": checks},
        )

    @app.get("/metrics", include_in_schema=False)
    async def metrics(request: Request) -> Response:
        runtime: Runtime = request.app.state.runtime
        try:
            backlog, age = await runtime.store.outbox_status()
            RELAY_BACKLOG.labels(definition.name).set(backlog)
            RELAY_LAG.labels(definition.name).set(age)
            async with runtime.db.raw() as conn:
                dead = await conn.fetchval("SELECT count(*) FROM dead_letters")
                lags = await conn.fetch(
                    "SELECT consumer, topic, sum(lag) AS lag FROM consumer_state "
                    "GROUP BY consumer, topic"
                )
            DEAD_LETTERS_STORED.labels(definition.name).set(dead or 0)
            for row in lags:  # written by the worker's consumer every few seconds
                CONSUMER_LAG.labels(row["consumer"], row["topic"]).set(row["lag"])
        except Exception as exc:
            log.warning("metrics.database_unavailable", error=repr(exc))
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    for router in definition.routers():
        app.include_router(router, prefix=f"/api/{definition.name}")
    return app
