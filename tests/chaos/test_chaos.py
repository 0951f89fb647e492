"""Chaos under load: a service API, a worker and the relay SIGKILLed in turn, the broker killed
and PostgreSQL crashed (immediate shutdown), all while teachers write and families read.

``ezurnals up`` brings each back (see tools/…/supervisor.py). The load client retries outages with
the same Idempotency-Key, so a 2xx means stored. Afterwards: every acknowledged command's events
are in its service's event store; each stream's versions are gapless in commit order and reach its
topic in that order; nothing was dead-lettered; every read model equals a rebuild from the topics;
and the end-to-end lag (grade accepted → shown in the diary) is back under a second within 30 s.

The relay runs inside each service's worker, which holds the relay's advisory lock; "killing the
relay" is killing the worker that holds it (its ``/healthz`` says ``relay_leader``), in another
service than the worker killed before it.
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import random
import signal
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from rich.console import Console

from ezurnals.shared.contracts.base import registry
from ezurnals.shared.db import Database, plain_url
from ezurnals.shared.messaging.rebuild import Replayer, rebuild
from ezurnals.shared.service import load_service
from ezurnals.shared.settings import SERVICES, Settings, database_name
from ezurnals.tools.bench_load import LoadRunner, prepare_school
from ezurnals.tools.seed import load_urls, operator_secret

pytestmark = [pytest.mark.slow, pytest.mark.timeout(480)]

#: Seconds of load on the recovered system between two faults.
BETWEEN_FAULTS = 3.0


def stack_of(up_dir: Path) -> dict[str, Any]:
    return dict(json.loads((up_dir / "stack.json").read_text()))


def settings_of(up_dir: Path, service: str) -> Settings:
    stack = stack_of(up_dir)
    return Settings(
        service=service,
        database_url=plain_url(stack["database_url"], database_name(service)),
        kafka_bootstrap_servers=stack["kafka_bootstrap_servers"],
    )


async def recovered(up_dir: Path, process: str, old_pid: int, timeout: float = 120.0) -> float:
    """Wait until ``process`` runs under a new pid and every API is ready and every worker
    healthy; returns when (``time.monotonic()``)."""
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient(timeout=3.0) as http:
        while True:
            assert time.monotonic() < deadline, f"the stack did not recover from {process}"
            stack = stack_of(up_dir)
            pids = {**stack["processes"], **stack["infrastructure"]}
            if pids.get(process) not in (None, old_pid):
                answers = []
                for name, url in stack["health"].items():
                    if name == "web":
                        continue
                    try:
                        answers.append((await http.get(url)).status_code)
                    except httpx.HTTPError:
                        answers.append(0)
                if all(code == 200 for code in answers):
                    return time.monotonic()
            await asyncio.sleep(0.5)


async def kill(up_dir: Path, process: str, sig: signal.Signals = signal.SIGKILL) -> float:
    stack = stack_of(up_dir)
    pid = int({**stack["processes"], **stack["infrastructure"]}[process])
    os.kill(pid, sig)
    return await recovered(up_dir, process, pid)


async def relay_leader(up_dir: Path, service: str) -> str:
    """The worker of ``service`` that holds the relay's leader lock."""
    name = f"{service}-worker"
    async with httpx.AsyncClient(timeout=3.0) as http:
        for _ in range(60):
            health = (await http.get(stack_of(up_dir)["health"][name])).json()
            if health["relay_leader"]:
                return name
            await asyncio.sleep(0.5)
    raise AssertionError(f"no relay leader in {name}")


async def lag_recovered(runner: LoadRunner, since: float, within: float = 30.0) -> float:
    """The first end-to-end lag under 1 s of a grade acknowledged after ``since``; fails only if
    none came within ``within`` seconds."""
    while time.monotonic() < since + within + 5.0:
        fast = [lag for acked, lag in runner.figures.lag_log if since <= acked and lag < 1000]
        if fast:
            return fast[0]
        await asyncio.sleep(0.5)
    late = [round(lag) for acked, lag in runner.figures.lag_log if since <= acked]
    raise AssertionError(f"lag stayed above 1 s for {within:.0f} s after recovery: {late}")


async def check_acknowledged(up_dir: Path, acknowledged: dict[str, list[str]]) -> int:
    """Every acknowledged command left events carrying its correlation id."""
    stack = stack_of(up_dir)
    checked = 0
    for service, ids in acknowledged.items():
        conn = await asyncpg.connect(plain_url(stack["database_url"], database_name(service)))
        try:
            found = await conn.fetch(
                "SELECT DISTINCT correlation_id::text AS id FROM events "
                "WHERE correlation_id = ANY($1::uuid[])",
                ids,
            )
        finally:
            await conn.close()
        missing = set(ids) - {r["id"] for r in found}
        assert not missing, f"{service}: {len(missing)} acknowledged commands not stored"
        checked += len(ids)
    return checked


async def check_order(up_dir: Path, service: str) -> None:
    """Versions 1..n in commit order in the store; on the topic, each stream's published events
    first appear in version order (a redelivered duplicate may follow, never jump ahead)."""
    settings = settings_of(up_dir, service)
    conn = await asyncpg.connect(settings.database_url)
    try:
        deadline = time.monotonic() + 60
        while await conn.fetchval("SELECT count(*) FROM outbox"):
            assert time.monotonic() < deadline, f"{service}: the relay did not empty the outbox"
            await asyncio.sleep(0.5)
        broken = await conn.fetch(
            """SELECT stream_id FROM (
                   SELECT stream_id, stream_version,
                          row_number() OVER (PARTITION BY stream_id ORDER BY tx_id, position) AS n
                   FROM events) ordered
               WHERE stream_version <> n LIMIT 5"""
        )
        assert not broken, f"{service}: streams out of order in the store: {broken}"
        rows = await conn.fetch(
            "SELECT stream_id, event_id::text AS id, event_type, schema_version FROM events "
            "ORDER BY stream_id, stream_version"
        )
        dead = await conn.fetchval("SELECT count(*) FROM dead_letters")
        assert dead == 0, f"{service}: {dead} dead-lettered events"
    finally:
        await conn.close()
    stored: dict[str, list[str]] = defaultdict(list)
    for r in rows:
        if registry.is_published(r["event_type"], r["schema_version"]):
            stored[r["stream_id"]].append(r["id"])
    replayer = Replayer(settings, [settings.topic(service)])
    await replayer.start()
    seen: dict[str, list[str]] = defaultdict(list)
    try:
        ends = await replayer.end_offsets()
        while True:
            batches = await replayer.kafka.getmany(timeout_ms=500, max_records=5000)
            for records in batches.values():
                for record in records:
                    env = json.loads(record.value)
                    if env["event_id"] not in seen[env["stream_id"]]:
                        seen[env["stream_id"]].append(env["event_id"])
            if not batches:
                positions = {tp: await replayer.kafka.position(tp) for tp in ends}
                if all(positions[tp] >= end for tp, end in ends.items()):
                    break
    finally:
        await replayer.stop()
    wrong = [s for s in stored if seen.get(s) != stored[s]]
    assert not wrong, f"{service}: topic order differs from the store for {wrong[:5]}"


async def projection_tables(conn: asyncpg.Connection, schema: str) -> dict[str, list[str]]:
    """Each read-model table's rows, sorted; without surrogate keys drawn from a sequence, which
    number rows in the order they arrived (interleaved topics), not what they say."""
    columns = await conn.fetch(
        """SELECT table_name, column_name FROM information_schema.columns
           WHERE table_schema = $1 AND table_name <> 'processed_events'
             AND coalesce(column_default, '') NOT LIKE 'nextval(%' AND is_identity = 'NO'
           ORDER BY table_name, ordinal_position""",
        schema,
    )
    by_table: dict[str, list[str]] = defaultdict(list)
    for c in columns:
        by_table[c["table_name"]].append(f'"{c["column_name"]}"')
    return {
        table: sorted(
            map(repr, await conn.fetch(f"SELECT {', '.join(names)} FROM {schema}.{table}"))
        )
        for table, names in by_table.items()
    }


async def check_rebuild_equals_live(up_dir: Path, service: str, timeout: float = 90.0) -> int:
    """The live read models equal a rebuild from the topics (retried while the live consumer
    catches up with the last events); returns the number of rows compared."""
    settings = settings_of(up_dir, service)
    projections = load_service(service).all_projections(settings)
    db = Database(settings.database_url)
    deadline = time.monotonic() + timeout
    try:
        while True:
            await rebuild(db, settings, projections, target_schema="rm_check", swap=False)
            async with db.raw() as conn:
                live = await projection_tables(conn, "rm")
                fresh = await projection_tables(conn, "rm_check")
            different = [t for t in live if live[t] != fresh.get(t)]
            if not different and set(live) == set(fresh):
                return sum(len(rows) for rows in live.values())
            assert time.monotonic() < deadline, f"{service}: live ≠ rebuilt in {different}"
            await asyncio.sleep(2.0)
    finally:
        await db.dispose()


async def test_acknowledged_commands_survive_kills_and_restarts(up_dir: Path) -> None:
    urls = load_urls(up_dir, None)
    school = await prepare_school(
        urls,
        operator_secret(up_dir),
        students=24,
        days=2,
        seed=random.randrange(10**9),
        guardians=8,
        console=Console(file=io.StringIO()),
    )
    runner = LoadRunner(
        urls,
        school,
        rate=30,
        read_rate=20,
        writers=8,
        readers=4,
        probe_interval=0.5,
        retry_outages=True,
    )
    stop = asyncio.Event()
    load = asyncio.create_task(runner.run(None, stop))
    faults: list[str] = []
    try:
        await asyncio.sleep(BETWEEN_FAULTS)
        for process, sig in (
            ("attendance-api", signal.SIGKILL),
            ("reporting-worker", signal.SIGKILL),
            (await relay_leader(up_dir, "lessons"), signal.SIGKILL),
            ("kafka", signal.SIGKILL),
            ("postgres", signal.SIGQUIT),  # immediate shutdown: a crash, then WAL recovery
        ):
            acked_before = sum(len(ids) for ids in runner.figures.acknowledged.values())
            back = await kill(up_dir, process, sig)
            faults.append(process)
            await asyncio.sleep(BETWEEN_FAULTS)
            acked_after = sum(len(ids) for ids in runner.figures.acknowledged.values())
            assert acked_after > acked_before, f"no command acknowledged around {process}"
        first_fast = await lag_recovered(runner, since=back)
    finally:
        stop.set()
        await load
        await runner.close()
    assert faults == ["attendance-api", "reporting-worker", "lessons-worker", "kafka", "postgres"]
    assert runner.figures.errors == 0, runner.figures.messages
    assert runner.figures.retries > 0  # the faults were felt by the clients
    assert first_fast < 1000
    assert await check_acknowledged(up_dir, runner.figures.acknowledged) > 0
    for service in SERVICES:
        await check_order(up_dir, service)
    for service in SERVICES:
        assert await check_rebuild_equals_live(up_dir, service) > 0, service
