"""The FastAPI app of a service: lifespan wiring, health, readiness, metrics, logs, errors, and
the free-text rule on every route.

Routes live under ``/api/<service>/`` (the production Ingress routes that prefix without
rewriting); ``/healthz``, ``/readyz``, ``/metrics`` and ``/openapi.json`` sit at the root.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import structlog
from fastapi import Depends, FastAPI, Request, Response
from fastapi.responses import JSONResponse
from fastapi.telemetry import TelemetryConfig
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ezurnals.shared.auth.revocations import RevocationCache, RevocationFeed
from ezurnals.shared.auth.verifier import TokenVerifier
from ezurnals.shared.http.audit import AuditLog
from ezurnals.shared.http.errors import install_error_handlers
from ezurnals.shared.http.text import refuse_control_characters
from ezurnals.shared.observability.logging import CORRELATION_ID
from ezurnals.shared.observability.metrics import (
    DEAD_LETTERS_STORED,
    RELAY_BACKLOG,
    RELAY_LAG,
    REQUEST_LATENCY,
)
from ezurnals.shared.service import Runtime, ServiceDefinition
from ezurnals.shared.settings import Settings

log = structlog.get_logger(__name__)


#: Probes and scrapes answer every few seconds all day: their access events are DEBUG.
QUIET_ROUTES = frozenset({"/healthz", "/readyz", "/metrics"})

access_log = structlog.get_logger("ezurnals.access")


def route_template(scope: Scope) -> str:
    """The matched route's template with its router's prefix (``/api/identity/people/{id}``).
    FastAPI keeps an included router's routes without the prefix and puts the whole template in
    its effective route context; where that is missing, the route's own path is the best left."""
    route = scope.get("route")
    if route is None:
        return "unmatched"
    effective = scope.get("fastapi", {}).get("effective_route_context")
    template = getattr(effective, "path", None) or getattr(route, "path", None)
    return str(template or "unmatched")


class RequestContext:
    """Correlation id, log context, latency metric and the one access event of every request.

    The access event names the route's template (never the path, whose ids and query could point
    at a person), the method, status and duration, with the correlation id from the context; it
    holds no address, user or personal data.

    A plain ASGI middleware: Starlette's ``BaseHTTPMiddleware`` costs a task and a memory stream
    per request, a noticeable share of a diary read.
    """

    def __init__(self, app: ASGIApp, service: str) -> None:
        self.app = app
        self.service = service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        raw = Headers(scope=scope).get("x-correlation-id", "")
        try:
            correlation = str(uuid.UUID(raw))
        except ValueError:
            correlation = str(uuid.uuid4())
        scope.setdefault("state", {})["correlation_id"] = correlation
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(correlation_id=correlation)
        CORRELATION_ID.set(correlation)
        started = time.perf_counter()
        status = 500

        async def send_with_header(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableHeaders(scope=message)["X-Correlation-ID"] = correlation
            await send(message)

        try:
            await self.app(scope, receive, send_with_header)
        finally:
            route = route_template(scope)
            elapsed = time.perf_counter() - started
            REQUEST_LATENCY.labels(self.service, scope["method"], route, status).observe(elapsed)
            (access_log.debug if route in QUIET_ROUTES else access_log.info)(
                "http.request",
                method=scope["method"],
                route=route,
                status=status,
                duration_ms=round(elapsed * 1000, 1),
            )


async def database_check(runtime: Runtime) -> str:
    try:
        await runtime.db.ping()
    except Exception as exc:
        return f"unavailable: {type(exc).__name__}"
    return "ok"


def readiness(checks: dict[str, str]) -> JSONResponse:
    """200 when every check answered "ok", else 503; the body names each check's answer."""
    ready = all(answer == "ok" for answer in checks.values())
    return JSONResponse(
        status_code=200 if ready else 503,
        content={"status": "ready" if ready else "not_ready", "checks": checks},
    )


#: No OpenTelemetry: FastAPI's own looks up the global providers (reading the environment) on
#: every request, and its logs carry exception messages, which may hold personal data. Our logs
#: are structlog's, without personal data.
NO_TELEMETRY: TelemetryConfig = {"tracing": False, "metrics": False, "logs": False}


def create_app(
    definition: ServiceDefinition,
    settings: Settings,
    *,
    runtime_factory: Callable[[Settings], Runtime] = Runtime.create,
) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        runtime = runtime_factory(settings)
        app.state.runtime = runtime
        app.state.verifier = TokenVerifier(settings.jwks_url) if settings.jwks_url else None
        app.state.audit = AuditLog(runtime.db, runtime.store, settings.service)
        stop = asyncio.Event()
        feeding: asyncio.Task[None] | None = None
        if not definition.issues_tokens:
            revocations = RevocationCache(
                runtime.db, settings.read_model_schema, memory_s=settings.revocation_memory_s
            )
            app.state.revocations = revocations
            app.state.revocation_feed = RevocationFeed(settings, revocations)
            feeding = asyncio.create_task(app.state.revocation_feed.run(stop))
        try:
            async with definition.api_parts(app, runtime):
                log.info("api.started", service=definition.name)
                yield
        finally:
            stop.set()
            if feeding is not None:
                feeding.cancel()
                await asyncio.gather(feeding, return_exceptions=True)
            await runtime.close()

    app = FastAPI(
        title=f"ezurnals {definition.title}",
        version="0.1.0",
        lifespan=lifespan,
        description=f"The {definition.name} service of ezurnals, the e-žurnāls.",
        telemetry=NO_TELEMETRY,
        # One rule for all free text, on every route of every service (ezurnals.shared.text).
        dependencies=[Depends(refuse_control_characters)],
    )
    install_error_handlers(app)

    app.add_middleware(RequestContext, service=definition.name)

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok", "service": definition.name}

    @app.get("/readyz", include_in_schema=False)
    async def readyz(request: Request) -> JSONResponse:
        """Ready when the database answers. Not the broker: an API only writes to its outbox,
        which the worker relays, so a Kafka outage must not take every API pod out of service
        (the worker's own /readyz and ``ezurnals_broker_reachable`` report the broker)."""
        runtime: Runtime = request.app.state.runtime
        return readiness({"database": await database_check(runtime)})

    @app.get("/metrics", include_in_schema=False)
    async def metrics(request: Request) -> Response:
        runtime: Runtime = request.app.state.runtime
        try:
            backlog, age = await runtime.store.outbox_status()
            RELAY_BACKLOG.labels(definition.name).set(backlog)
            RELAY_LAG.labels(definition.name).set(age)
            async with runtime.db.raw() as conn:
                dead = await conn.fetchval("SELECT count(*) FROM dead_letters")
            DEAD_LETTERS_STORED.labels(definition.name).set(dead or 0)
        except Exception as exc:
            log.warning("metrics.database_unavailable", error=repr(exc))
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    for router in definition.routers():
        app.include_router(router, prefix=f"/api/{definition.name}")
    return app
