"""A service's worker process: the outbox relay, the projection consumer and scheduled jobs.

It also answers ``/healthz``, ``/readyz`` and ``/metrics`` on its own port so Kubernetes can probe
it. Its readiness is the one that depends on the broker (and the database): the worker is what
publishes and consumes, while the APIs only write to their outbox.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from typing import Any

import structlog
import uvicorn
from fastapi import FastAPI, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from ezurnals.shared.http.app import NO_TELEMETRY, database_check, readiness
from ezurnals.shared.messaging import kafka
from ezurnals.shared.messaging.consumer import ProjectionRunner
from ezurnals.shared.messaging.relay import OutboxRelay
from ezurnals.shared.retry import Retrying
from ezurnals.shared.service import Runtime, ServiceDefinition
from ezurnals.shared.settings import Settings

log = structlog.get_logger(__name__)


class Worker:
    def __init__(self, definition: ServiceDefinition, settings: Settings) -> None:
        self.definition = definition
        self.settings = settings
        self.stop = asyncio.Event()
        self.runtime: Runtime | None = None
        self.relay: OutboxRelay | None = None
        self.runner: ProjectionRunner | None = None
        self.failed = False
        self.broker = kafka.BrokerProbe(settings, label=definition.name)

    async def run(self) -> None:
        runtime = self.runtime = Runtime.create(self.settings)
        producer = kafka.producer(self.settings)
        retrying = Retrying()
        while not self.stop.is_set():
            try:
                await producer.start()
                break
            except Exception as exc:
                log.warning("worker.broker_unavailable", error=repr(exc))
                await retrying.wait(self.stop)
        self.relay = OutboxRelay(runtime.db, producer, service=self.definition.name)
        tasks = [asyncio.create_task(self.relay.run(self.stop), name="relay")]
        projections = self.definition.all_projections(self.settings)
        if projections:
            self.runner = ProjectionRunner(runtime.db, self.settings, projections)
            tasks.append(asyncio.create_task(self.runner.run(self.stop, producer), name="consumer"))
        for job in self.definition.jobs:
            tasks.append(asyncio.create_task(job(runtime, self.stop), name=job.__name__))
        log.info("worker.started", service=self.definition.name, projections=len(projections))
        stopping = asyncio.create_task(self.stop.wait())
        try:
            running: set[asyncio.Task[Any]] = set(tasks)
            while not self.stop.is_set():
                done, running = await asyncio.wait(
                    {stopping, *running}, return_when=asyncio.FIRST_COMPLETED
                )
                running.discard(stopping)
                if any(t is not stopping and t.exception() is not None for t in done):
                    # A relay, consumer or job that died stops the whole worker, so that it is
                    # restarted (by Kubernetes or ``ezurnals up``) instead of running without it.
                    self.failed = True
                    self.stop.set()
        finally:
            stopping.cancel()
            await asyncio.gather(stopping, return_exceptions=True)
            done, pending = await asyncio.wait(tasks, timeout=10)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
            for task in done:
                if task.exception() is not None:
                    log.error(
                        "worker.task_failed", task=task.get_name(), error=repr(task.exception())
                    )
            await producer.stop()
            await runtime.close()


def health_app(worker: Worker) -> FastAPI:
    app = FastAPI(
        title=f"ezurnals {worker.definition.name} worker",
        docs_url=None,
        redoc_url=None,
        telemetry=NO_TELEMETRY,
    )

    @app.get("/healthz")
    async def healthz() -> dict[str, object]:
        return {
            "status": "ok",
            "relay_leader": bool(worker.relay and worker.relay.is_leader),
            "consumer_ready": bool(worker.runner and worker.runner.ready.is_set()),
        }

    @app.get("/readyz")
    async def readyz() -> JSONResponse:
        """Ready when the broker and the database answer."""
        runtime = worker.runtime
        return readiness(
            {
                "broker": "ok" if await worker.broker.ok() else "unavailable",
                "database": await database_check(runtime) if runtime else "starting",
            }
        )

    @app.get("/metrics")
    async def metrics() -> Response:
        await worker.broker.ok()  # keeps ezurnals_broker_reachable current between probes
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return app


async def serve_worker(definition: ServiceDefinition, settings: Settings, port: int | None) -> None:
    worker = Worker(definition, settings)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, worker.stop.set)
    server: uvicorn.Server | None = None
    server_task = None
    if port:
        config = uvicorn.Config(
            health_app(worker), host="0.0.0.0", port=port, log_config=None, access_log=False
        )
        server = uvicorn.Server(config)
        server.capture_signals = contextlib.nullcontext  # type: ignore[method-assign,assignment]
        server_task = asyncio.create_task(server.serve())
    try:
        await worker.run()
    finally:
        if server is not None and server_task is not None:
            server.should_exit = True
            await server_task
    if worker.failed:
        raise SystemExit(1)
