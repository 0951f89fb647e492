"""``ezurnals up``: the whole system on one machine.

Starts PostgreSQL and Kafka (see infra.py), creates each service's database and topics, migrates,
re-relays the event stores into a broker that lost its memory, then runs every service's API
(uvicorn) and worker as child processes — restarting any that dies — until Ctrl-C or SIGTERM.

The embedded PostgreSQL and broker are supervised too. A PostgreSQL that stops is started again
on the same data dir (same socket, same URL); the children's pools reconnect by themselves.
A broker that dies comes back empty (memory storage), so its restart is a re-relay: the workers
are stopped, every event store is queued again in commit order (replacing what the outbox held,
with appends held off for that moment), and the workers start afresh. Their consumer groups are
gone with the old broker, so they read the new topics from the start; the claims in each read
model's ``processed_events`` make that replay apply nothing twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import httpx
import structlog
from aiokafka import AIOKafkaConsumer, TopicPartition

from ezurnals.shared.db import ensure_database, plain_url
from ezurnals.shared.messaging.kafka import all_topics, ensure_topics
from ezurnals.shared.runtime.infra import Infrastructure, free_port, provide
from ezurnals.shared.service import Runtime, load_service
from ezurnals.shared.settings import SERVICES, Settings, database_name

log = structlog.get_logger(__name__)


@dataclass
class Child:
    name: str
    argv: list[str]
    env: dict[str, str]
    log_path: Path
    health_url: str
    proc: subprocess.Popen[bytes] | None = None
    restarts: int = 0
    _log: IO[bytes] | None = field(default=None, repr=False)

    def start(self) -> None:
        self._log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            self.argv,
            env=self.env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout: float = 15.0) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self._log is not None:
            self._log.close()
            self._log = None


class Stack:
    """Everything ``up`` runs; also used by system tests to run the real processes."""

    def __init__(
        self,
        data_dir: Path,
        *,
        services: tuple[str, ...] = SERVICES,
        host: str = "127.0.0.1",
        topic_prefix: str = "ezurnals.",
        extra_env: dict[str, str] | None = None,
        with_web: bool = True,
    ) -> None:
        self.data_dir = data_dir.resolve()
        self.services = services
        self.host = host
        self.topic_prefix = topic_prefix
        self.extra_env = extra_env or {}
        self.with_web = with_web
        self.infra: Infrastructure | None = None
        self.children: list[Child] = []
        self.urls: dict[str, str] = {}

    def settings(self, service: str) -> Settings:
        assert self.infra is not None
        return Settings(
            service=service,
            database_url=plain_url(self.infra.database_url, database_name(service)),
            kafka_bootstrap_servers=self.infra.kafka_bootstrap_servers,
            topic_prefix=self.topic_prefix,
        )

    async def prepare(self) -> None:
        """Infrastructure, databases, migrations, topics, and a re-relay where the broker is new."""
        (self.data_dir / "logs").mkdir(parents=True, exist_ok=True)
        self.infra = await asyncio.to_thread(provide, self.data_dir)
        log.info(
            "up.infrastructure", postgres=self.infra.database_origin, kafka=self.infra.kafka_origin
        )
        first = self.settings(self.services[0])
        await ensure_topics(first, all_topics(first, self.services))
        for name in self.services:
            await ensure_database(self.infra.database_url, database_name(name))
            settings = self.settings(name)
            await load_service(name).migrate(settings.database_url)
            await self._rerelay_if_broker_is_new(settings)

    async def _rerelay_if_broker_is_new(self, settings: Settings) -> None:
        runtime = Runtime.create(settings)
        try:
            async with runtime.db.raw() as conn:
                stored = await conn.fetchval("SELECT count(*) FROM events")
            if not stored:
                return
            if await topic_is_empty(settings, settings.topic(settings.service)):
                # Replacing what the outbox still held keeps each stream's events in order.
                requeued = await runtime.store.requeue_all(replace=True)
                log.info("up.rerelay", service=settings.service, events=requeued)
        finally:
            await runtime.close()

    def start_processes(self) -> None:
        assert self.infra is not None
        identity_port = None
        base_env = {**os.environ, **self.extra_env}
        for name in self.services:
            api_port, worker_port = free_port(), free_port()
            if name == "identity":
                identity_port = api_port
            settings = self.settings(name)
            env = {
                **os.environ,
                **self.extra_env,
                "DATABASE_URL": settings.database_url,
                "KAFKA_BOOTSTRAP_SERVERS": settings.kafka_bootstrap_servers,
                "EZURNALS_TOPIC_PREFIX": self.topic_prefix,
                "EZURNALS_DATA_DIR": str(self.data_dir),
            }
            if identity_port is not None:
                env.setdefault(
                    "EZURNALS_JWKS_URL",
                    f"http://{self.host}:{identity_port}/api/identity/.well-known/jwks.json",
                )
            base = [sys.executable, "-m", "ezurnals.cli.main", "serve"]
            self.urls[name] = f"http://{self.host}:{api_port}"
            self.children += [
                Child(
                    f"{name}-api",
                    [*base, "api", "--service", name, "--host", self.host, "--port", str(api_port)],
                    env,
                    self.data_dir / "logs" / f"{name}-api.log",
                    f"http://{self.host}:{api_port}/readyz",
                ),
                Child(
                    f"{name}-worker",
                    [*base, "worker", "--service", name, "--port", str(worker_port)],
                    # A worker's relay, consumer and jobs need a few connections at once; with
                    # every API's ten, the stack stays well inside PostgreSQL's default 100.
                    {"EZURNALS_DB_POOL_SIZE": "5", **env},
                    self.data_dir / "logs" / f"{name}-worker.log",
                    f"http://{self.host}:{worker_port}/healthz",
                ),
            ]
        if self.with_web:
            self._add_web(base_env)
        for child in self.children:
            child.start()

    def _add_web(self, env: dict[str, str]) -> None:
        """The web app, calling the APIs through the same /api/<service>/ routes as the Ingress."""
        port = free_port()
        services = [
            arg for name in self.services for arg in ("--service", f"{name}={self.urls[name]}")
        ]
        self.urls["web"] = f"http://{self.host}:{port}"
        self.children.append(
            Child(
                "web",
                [
                    sys.executable,
                    "-m",
                    "ezurnals.web",
                    *services,
                    "--host",
                    self.host,
                    "--port",
                    str(port),
                ],
                env,
                self.data_dir / "logs" / "web.log",
                f"http://{self.host}:{port}/healthz",
            )
        )

    async def wait_healthy(self, timeout: float = 90.0) -> None:
        deadline = time.monotonic() + timeout
        async with httpx.AsyncClient(timeout=2.0) as client:
            for child in self.children:
                while True:
                    if not child.alive():
                        raise RuntimeError(f"{child.name} exited; see {child.log_path}")
                    with contextlib.suppress(httpx.HTTPError):
                        if (await client.get(child.health_url)).status_code == 200:
                            break
                    if time.monotonic() > deadline:
                        raise TimeoutError(f"{child.name} not healthy; see {child.log_path}")
                    await asyncio.sleep(0.2)

    def write_stack_file(self) -> Path:
        assert self.infra is not None
        path = self.data_dir / "stack.json"
        partial = path.with_suffix(".json.partial")
        partial.write_text(
            json.dumps(
                {
                    "services": self.urls,
                    "database_url": self.infra.database_url,
                    "kafka_bootstrap_servers": self.infra.kafka_bootstrap_servers,
                    "postgres": self.infra.database_origin,
                    "kafka": self.infra.kafka_origin,
                    "processes": {c.name: c.proc.pid for c in self.children if c.proc},
                    "infrastructure": self._infrastructure_pids(),
                    "health": {c.name: c.health_url for c in self.children},
                    "logs": str(self.data_dir / "logs"),
                },
                indent=2,
            )
        )
        partial.replace(path)  # readers never see half a file
        return path

    def _infrastructure_pids(self) -> dict[str, int]:
        """The embedded servers' pids (none for PostgreSQL or Kafka from the environment)."""
        assert self.infra is not None
        pids = {
            "postgres": self.infra.postgres.pid if self.infra.postgres else None,
            "kafka": self.infra.kafka.pid if self.infra.kafka else None,
        }
        return {name: pid for name, pid in pids.items() if pid is not None}

    async def supervise(self, stop: asyncio.Event) -> None:
        """Restart PostgreSQL, the broker or a child that dies, until ``stop``; the stack file
        is rewritten after each restart, so it always names the live processes."""
        while not stop.is_set():
            restarted = await self._restart_infrastructure(stop)
            if any(not child.alive() for child in self.children) and await _stopping(stop):
                break
            for child in self.children:
                if not child.alive() and not stop.is_set():
                    child.restarts += 1
                    log.warning(
                        "up.restarting",
                        process=child.name,
                        restarts=child.restarts,
                        exit_code=child.proc.returncode if child.proc else None,
                    )
                    child.stop()
                    child.start()
                    restarted = True
            if restarted and not stop.is_set():
                self.write_stack_file()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 1.0)

    async def _restart_infrastructure(self, stop: asyncio.Event) -> bool:
        infra = self.infra
        if infra is None:
            return False
        restarted = False
        if infra.postgres is not None and not await asyncio.to_thread(infra.postgres.alive):
            if await _stopping(stop):
                return False
            log.warning("up.restarting", process="postgres")
            await asyncio.to_thread(infra.postgres.restart)
            restarted = True
        if infra.kafka is not None and not infra.kafka.alive():
            if await _stopping(stop):
                return False
            await self.recover_broker()
            restarted = True
        return restarted

    async def recover_broker(self) -> None:
        """Start the embedded broker again and give it every event (see the module docstring)."""
        assert self.infra is not None and self.infra.kafka is not None
        log.warning("up.restarting", process="broker")
        workers = [c for c in self.children if c.name.endswith("-worker")]
        for child in workers:
            await asyncio.to_thread(child.stop, 5.0)
        await asyncio.to_thread(self.infra.kafka.restart)
        first = self.settings(self.services[0])
        await ensure_topics(first, all_topics(first, self.services))
        for name in self.services:
            runtime = Runtime.create(self.settings(name))
            try:
                requeued = await runtime.store.requeue_all(replace=True)
                log.info("up.rerelay", service=name, events=requeued)
            finally:
                await runtime.close()
        for child in workers:
            child.start()

    def shutdown(self) -> None:
        (self.data_dir / "stack.json").unlink(missing_ok=True)
        for child in reversed(self.children):
            child.stop()
        if self.infra is not None:
            self.infra.close()


async def _stopping(stop: asyncio.Event, grace: float = 1.0) -> bool:
    """Whether a process found dead is going down with the whole stack: a Ctrl-C in the terminal
    (or a signal to the process group) reaches PostgreSQL, the broker and every child at the same
    moment as ``up``, which must then stop, not restart them."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), grace)
    return stop.is_set()


async def topic_is_empty(settings: Settings, topic: str) -> bool:
    consumer = AIOKafkaConsumer(
        bootstrap_servers=settings.kafka_bootstrap_servers, **settings.kafka_security()
    )
    await consumer.start()
    try:
        parts = consumer.partitions_for_topic(topic) or set()
        if not parts:
            return True
        ends = await consumer.end_offsets([TopicPartition(topic, p) for p in parts])
        return sum(int(v) for v in ends.values()) == 0
    finally:
        await consumer.stop()
