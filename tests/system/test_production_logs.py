"""Production logs of real processes: every line JSON, one access event per request, and one
correlation id from the browser's request through the web app, identity's API, the events it
stored and the consumer that applied them."""

from __future__ import annotations

import json
import os
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from ezurnals.identity.service import SERVICE
from ezurnals.shared.db import Database
from ezurnals.shared.runtime.infra import free_port
from ezurnals.shared.settings import Settings
from ezurnals.shared.testing.stack import TestStack, eventually
from ezurnals.tools.supervisor import Child

pytestmark = pytest.mark.slow

BOOTSTRAP = "logs-operator-secret"
ADMIN = {"first_name": "Dace", "last_name": "Kalniņa"}
PASSWORD = "kalnu-ezers-rudens-2026"


def lines_of(path: Path) -> list[str]:
    return [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def records_of(path: Path) -> list[dict[str, Any]]:
    """Every line of the log as JSON: a line that is not fails the test, naming it."""
    found = []
    for line in lines_of(path):
        try:
            found.append(json.loads(line))
        except ValueError:
            raise AssertionError(f"{path.name}: not a JSON line: {line!r}") from None
    return found


@pytest.fixture
def processes(stack: TestStack, tmp_path: Path, settings: Settings) -> Iterator[dict[str, Child]]:
    base = {
        **{k: v for k, v in os.environ.items() if not k.startswith("EZURNALS_")},
        "DATABASE_URL": settings.database_url,
        "KAFKA_BOOTSTRAP_SERVERS": settings.kafka_bootstrap_servers,
        "EZURNALS_TOPIC_PREFIX": settings.topic_prefix,
        "EZURNALS_LOG_JSON": "true",
        "EZURNALS_BOOTSTRAP_TOKEN": BOOTSTRAP,
        "EZURNALS_SIGNING_KEYS_DIR": str(tmp_path / "keys"),
        "EZURNALS_DB_POOL_SIZE": "3",
    }
    api, worker, web = free_port(), free_port(), free_port()
    serve = [sys.executable, "-m", "ezurnals.cli.main", "serve"]
    elsewhere = "http://127.0.0.1:9"
    children = {
        "api": Child(
            "identity-api",
            [*serve, "api", "--service", "identity", "--port", str(api)],
            base,
            tmp_path / "api.log",
            f"http://127.0.0.1:{api}/readyz",
        ),
        # At DEBUG, the consumer writes a line for each event it applies.
        "worker": Child(
            "identity-worker",
            [*serve, "worker", "--service", "identity", "--port", str(worker)],
            {**base, "EZURNALS_LOG_LEVEL": "DEBUG"},
            tmp_path / "worker.log",
            f"http://127.0.0.1:{worker}/readyz",
        ),
        "web": Child(
            "web",
            [
                sys.executable,
                "-m",
                "ezurnals.web",
                "--service",
                f"identity=http://127.0.0.1:{api}",
                *("--service", f"lessons={elsewhere}", "--service", f"attendance={elsewhere}"),
                *("--service", f"reporting={elsewhere}", "--port", str(web)),
            ],
            base,
            tmp_path / "web.log",
            f"http://127.0.0.1:{web}/healthz",
        ),
    }
    try:
        for child in children.values():
            child.start()
        deadline = time.monotonic() + 90
        for child in children.values():
            while not _answers(child.health_url):
                assert child.alive(), child.log_path.read_text()[-3000:]
                assert time.monotonic() < deadline, child.log_path.read_text()[-3000:]
                time.sleep(0.2)
        yield children
    finally:
        for child in children.values():
            child.stop()


@pytest.fixture
async def settings(stack: TestStack) -> Settings:
    return await stack.settings(
        SERVICE, database="production_logs", topic_prefix=f"{stack.prefix}logs."
    )


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


async def test_one_correlation_id_from_the_web_request_to_the_consumer_in_json_lines(
    settings: Settings, processes: dict[str, Child]
) -> None:
    api = processes["api"].health_url.removesuffix("/readyz")
    async with httpx.AsyncClient(base_url=f"{api}/api/identity", timeout=30) as identity:
        registered = await identity.post(
            "/schools",
            json={"name": "Žurnālu skola", "admin": ADMIN},
            headers={"X-Bootstrap-Token": BOOTSTRAP},
        )
        assert registered.status_code == 201, registered.text
        admin = registered.json()["admin"]
        activated = await identity.post(
            "/activate", json={"code": admin["access_code"], "password": PASSWORD}
        )
        assert activated.status_code < 300, activated.text

    correlation = str(uuid.uuid4())
    web = processes["web"].health_url.removesuffix("/healthz")
    async with httpx.AsyncClient(base_url=web, timeout=30) as browser:
        signed_in = await browser.post(
            "/sign-in", data={"username": admin["username"], "password": PASSWORD}
        )
        assert signed_in.status_code == 303, signed_in.text
        # Signing out ends the session in identity: a SessionRevoked that every consumer applies.
        signed_out = await browser.post("/sign-out", headers={"X-Correlation-ID": correlation})
    assert signed_out.status_code == 303, signed_out.text
    assert signed_out.headers["X-Correlation-ID"] == correlation

    db = Database(settings.database_url)
    try:
        async with db.raw() as conn:
            stored = await conn.fetch(
                "SELECT event_type FROM events WHERE correlation_id = $1", uuid.UUID(correlation)
            )
    finally:
        await db.dispose()
    assert {r["event_type"] for r in stored} == {"SessionRevoked"}

    worker_log = processes["worker"].log_path

    async def applied() -> list[dict[str, Any]]:
        return [
            r
            for r in records_of(worker_log)
            if r.get("event") == "consumer.event_handled" and r.get("correlation_id") == correlation
        ]

    consumed = await eventually(applied, timeout=30, what="the consumer's line for the event")
    assert {r["event_type"] for r in consumed} == {"SessionRevoked"}
    assert all(r["service"] == "identity-worker" for r in consumed)

    for child in processes.values():
        child.stop()
    logs = {name: records_of(child.log_path) for name, child in processes.items()}
    for name in ("api", "web"):
        access = [
            r
            for r in logs[name]
            if r.get("event") == "http.request" and r.get("correlation_id") == correlation
        ]
        assert len(access) == 1, (name, access)
        (line,) = access
        assert line["method"] == "POST"
        assert (line["route"], line["status"] // 100) == (
            ("/api/identity/sign-out", 2) if name == "api" else ("/sign-out", 3)
        )
        assert isinstance(line["duration_ms"], float)
        assert not set(line) - {
            "event", "level", "timestamp", "service", "logger", "correlation_id",
            "method", "route", "status", "duration_ms",
        }, line  # fmt: skip
        assert admin["username"] not in json.dumps(line, ensure_ascii=False)
    # The standard library's loggers wrote through the same JSON lines: uvicorn's own.
    for name in ("api", "worker", "web"):
        assert any(r.get("logger", "").startswith("uvicorn") for r in logs[name]), name
