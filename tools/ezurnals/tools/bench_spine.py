"""``ezurnals bench spine``: the write and read paths measured in one run on one server and broker.

Every figure is printed beside its target and, for appends, beside two references measured in the
same run on the same PostgreSQL: plain asyncpg inserts (this machine's limit) and the PyPI
``eventsourcing`` library's PostgreSQL recorder (what a Python team would otherwise pick).
"""

from __future__ import annotations

import asyncio
import os
import platform
import shutil
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import asyncpg
from rich.console import Console
from rich.table import Table

from ezurnals.shared.db import drop_database, ensure_database, plain_url, url_query
from ezurnals.shared.eventstore import CommandContext, CommandResult
from ezurnals.shared.messaging import kafka
from ezurnals.shared.messaging.consumer import ProjectionRunner
from ezurnals.shared.messaging.kafka import ensure_topics
from ezurnals.shared.messaging.relay import OutboxRelay
from ezurnals.shared.runtime.infra import Infrastructure, provide
from ezurnals.shared.service import Runtime
from ezurnals.shared.settings import Settings
from ezurnals.shared.testing.probe import PROBE, ProbeLatency, ProbeRecorded, ProbeTotals
from ezurnals.tools.figures import percentile

TARGETS = {
    "append_events_per_s": ("≥ 5,000 and ≥ 1.0× peer", 5000.0),
    "relay_events_per_s": ("≥ 20,000", 20000.0),
    "projection_events_per_s": ("≥ 10,000 per worker", 10000.0),
    "e2e_lag_ms_p99": ("< 500 ms", 500.0),
}


async def _split(total: int, writers: int, one: Any) -> float:
    """Run ``total`` commands over ``writers`` concurrent writers; returns seconds taken."""
    per = [total // writers + (1 if w < total % writers else 0) for w in range(writers)]
    started = time.perf_counter()
    await asyncio.gather(*(one(w, n) for w, n in enumerate(per)))
    return time.perf_counter() - started


async def bench_append(rt: Runtime, events: int, writers: int, tag: str) -> float:
    async def writer(w: int, n: int) -> None:
        for i in range(n):
            ctx = CommandContext(idempotency_key=f"{tag}:{w}:{i}", request_hash="h")
            await rt.store.append(
                f"{tag}-{w}", i, [ProbeRecorded(n=i)], ctx, result=CommandResult(201, {"n": i})
            )

    return events / await _split(events, writers, writer)


async def bench_raw(url: str, events: int, writers: int) -> float:
    pool = await asyncpg.create_pool(url, min_size=writers, max_size=writers)
    assert pool is not None
    async with pool.acquire() as conn:
        await conn.execute("""CREATE TABLE raw_events (
            position BIGSERIAL PRIMARY KEY, event_id UUID NOT NULL UNIQUE, stream_id TEXT NOT NULL,
            stream_version INTEGER NOT NULL, event_type TEXT NOT NULL, payload JSONB NOT NULL,
            recorded_at TIMESTAMPTZ NOT NULL, UNIQUE (stream_id, stream_version))""")

    async def writer(w: int, n: int) -> None:
        for i in range(n):
            async with pool.acquire() as conn, conn.transaction():
                await conn.execute(
                    "INSERT INTO raw_events (event_id, stream_id, stream_version, event_type,"
                    " payload, recorded_at) VALUES ($1, $2, $3, $4, $5, $6)",
                    uuid.uuid4(),
                    f"raw-{w}",
                    i + 1,
                    "ProbeRecorded",
                    f'{{"n": {i}}}',
                    datetime.now(UTC),
                )

    try:
        return events / await _split(events, writers, writer)
    finally:
        await pool.close()


def bench_peer(url: str, events: int, writers: int) -> float:
    from eventsourcing.persistence import StoredEvent
    from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore

    parsed = urlsplit(url)
    host = url_query(url).get("host") or parsed.hostname or "127.0.0.1"
    datastore = PostgresDatastore(
        dbname=unquote(parsed.path.lstrip("/")),
        host=host,
        port=parsed.port or 5432,
        user=unquote(parsed.username or "postgres"),
        password=unquote(parsed.password or ""),
        pool_size=writers,
        max_overflow=0,
    )
    recorder = PostgresApplicationRecorder(datastore)
    recorder.create_table()
    per = [events // writers + (1 if w < events % writers else 0) for w in range(writers)]

    def writer(n: int) -> None:
        originator = uuid.uuid4()
        for i in range(n):
            recorder.insert_events(
                [StoredEvent(originator, i + 1, "bench:ProbeRecorded", b'{"n": %d}' % i)]
            )

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=writers) as pool:
        list(pool.map(writer, per))
    elapsed = time.perf_counter() - started
    datastore.close()
    return events / elapsed


async def bench_relay(rt: Runtime, settings: Settings) -> float:
    backlog, _ = await rt.store.outbox_status()
    producer = kafka.producer(settings)
    await producer.start()
    relay = OutboxRelay(rt.db, producer, service="probe")
    started = time.perf_counter()
    async with rt.db.raw() as conn:
        while await relay.publish_batch(conn):
            pass
    elapsed = time.perf_counter() - started
    await producer.stop()
    return backlog / elapsed


async def _count(rt: Runtime, sql: str) -> int:
    async with rt.db.raw() as conn:
        return int(await conn.fetchval(sql) or 0)


async def bench_projection(
    rt: Runtime, settings: Settings, expected: int, *, pipelined: bool
) -> float:
    producer = kafka.producer(settings)
    await producer.start()
    stop = asyncio.Event()
    name = f"bench.totals.{'pipelined' if pipelined else 'each'}"
    runner = ProjectionRunner(
        rt.db,
        settings.model_copy(update={"read_model_schema": name.replace(".", "_")}),
        [ProbeTotals(pipelined=pipelined)],
        consumer=name,
    )
    task = asyncio.create_task(runner.run(stop, producer))
    sql = (
        f"SELECT count(*) FROM {name.replace('.', '_')}.processed_events WHERE consumer = '{name}'"
    )
    while await _count(rt, sql) == 0 if runner.ready.is_set() else True:
        await asyncio.sleep(0.01)
    first, started = await _count(rt, sql), time.perf_counter()
    while (done := await _count(rt, sql)) < expected:
        await asyncio.sleep(0.02)
    elapsed = time.perf_counter() - started
    stop.set()
    await task
    await producer.stop()
    return (done - first) / elapsed


async def bench_lag(rt: Runtime, settings: Settings, rate: int, seconds: float) -> list[float]:
    producer = kafka.producer(settings)
    await producer.start()
    stop = asyncio.Event()
    relay = OutboxRelay(rt.db, producer, service="probe")
    runner = ProjectionRunner(rt.db, settings, [ProbeLatency()], consumer="bench.latency")
    tasks = [asyncio.create_task(relay.run(stop)), asyncio.create_task(runner.run(stop, producer))]
    await asyncio.wait_for(runner.ready.wait(), 30)
    # Warm the connection pool first: opening 50 connections is not what this measures.
    warm = [
        e.event_id
        for batch in await asyncio.gather(
            *(rt.store.append(f"lag-warmup-{i}", 0, [ProbeRecorded(n=0)]) for i in range(60))
        )
        for e in batch
    ]
    while await _count(rt, "SELECT count(*) FROM rm.probe_latency") < len(warm):
        await asyncio.sleep(0.05)
    total = int(rate * seconds)
    streams = 50
    versions = [0] * streams
    started = time.perf_counter()

    async def one(i: int) -> None:
        s = i % streams
        version = versions[s]
        versions[s] += 1
        await rt.store.append(f"lag-{s}", version, [ProbeRecorded(n=i)])

    pending: list[asyncio.Task[None]] = []
    for i in range(total):
        delay = started + i / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        pending.append(asyncio.create_task(one(i)))
    await asyncio.gather(*pending)
    while await _count(rt, "SELECT count(*) FROM rm.probe_latency") < total + len(warm):
        await asyncio.sleep(0.05)
    stop.set()
    await asyncio.gather(*tasks)
    await producer.stop()
    async with rt.db.raw() as conn:
        rows = await conn.fetch(
            "SELECT extract(epoch FROM applied_at - recorded_at) * 1000 AS ms FROM "
            "rm.probe_latency WHERE NOT event_id = ANY($1::uuid[])",
            warm,
        )
    return sorted(float(r["ms"]) for r in rows)


async def run_bench_spine(
    *, events: int, writers: int, lag_seconds: float, console: Console
) -> dict[str, Any]:
    data_dir = Path(tempfile.mkdtemp(prefix="ezurnals-bench-"))
    infra: Infrastructure = await asyncio.to_thread(provide, data_dir)
    run = uuid.uuid4().hex[:6]
    names = [f"ezbench_{run}_{k}" for k in ("store", "raw", "peer", "lag")]
    lag_db = names[-1]
    try:
        for name in names[:3]:
            await ensure_database(infra.database_url, name)
        store_url, raw_url, peer_url = (plain_url(infra.database_url, n) for n in names[:3])
        settings = Settings(
            service="probe",
            database_url=store_url,
            kafka_bootstrap_servers=infra.kafka_bootstrap_servers,
            topic_prefix=f"ezbench{run}.",
            db_pool_size=writers + 10,
            topic_partitions=6,
        )
        await PROBE.migrate(store_url)
        await ensure_topics(
            settings, [settings.topic("probe"), settings.dead_letter_topic("probe")]
        )
        rt = Runtime.create(settings)
        figures: dict[str, Any] = {}
        with console.status("append through the event store…"):
            figures["append_events_per_s"] = await bench_append(rt, events, writers, "a")
        with console.status("raw asyncpg inserts…"):
            figures["raw_insert_events_per_s"] = await bench_raw(raw_url, events, writers)
        with console.status("eventsourcing's PostgreSQL recorder…"):
            figures["peer_events_per_s"] = await asyncio.to_thread(
                bench_peer, peer_url, events, writers
            )
        with console.status("outbox relay…"):
            figures["relay_events_per_s"] = await bench_relay(rt, settings)
        with console.status("projection…"):
            figures["projection_events_per_s"] = await bench_projection(
                rt, settings, events, pipelined=True
            )
            figures["projection_per_event_statement_events_per_s"] = await bench_projection(
                rt, settings, events, pipelined=False
            )
        await rt.close()
        await ensure_database(infra.database_url, lag_db)
        lag_settings = settings.model_copy(
            update={
                "database_url": plain_url(infra.database_url, lag_db),
                "topic_prefix": f"ezbench{run}lag.",
            }
        )
        await PROBE.migrate(lag_settings.database_url)
        await ensure_topics(lag_settings, [lag_settings.topic("probe")])
        rt = Runtime.create(lag_settings)
        with console.status(f"end-to-end lag at 1,000 events/s for {lag_seconds:.0f}s…"):
            lags = await bench_lag(rt, lag_settings, 1000, lag_seconds)
        figures["e2e_lag_ms_p50"] = percentile(lags, 50)
        figures["e2e_lag_ms_p99"] = percentile(lags, 99)
        await rt.close()
        figures = {k: round(v, 1) for k, v in figures.items()}
        figures["append_vs_peer"] = round(
            figures["append_events_per_s"] / figures["peer_events_per_s"], 2
        )
        figures["append_vs_raw"] = round(
            figures["append_events_per_s"] / figures["raw_insert_events_per_s"], 2
        )
        figures["config"] = {
            "events": events,
            "writers": writers,
            "lag_seconds": lag_seconds,
            "postgres": infra.database_origin,
            "kafka": infra.kafka_origin,
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        _print(figures, console)
        return figures
    finally:
        for name in names:
            await drop_database(infra.database_url, name)
        infra.close()
        shutil.rmtree(data_dir, ignore_errors=True)


def _print(f: dict[str, Any], console: Console) -> None:
    table = Table(title="ezurnals bench spine")
    for col in ("figure", "measured", "target", "reference (same run)"):
        table.add_column(col)
    table.add_row(
        "append events/s (50 writers)",
        f"{f['append_events_per_s']:,.0f}",
        TARGETS["append_events_per_s"][0],
        f"peer {f['peer_events_per_s']:,.0f} ({f['append_vs_peer']}×); "
        f"raw asyncpg {f['raw_insert_events_per_s']:,.0f} ({f['append_vs_raw']}×)",
    )
    table.add_row(
        "relay events/s", f"{f['relay_events_per_s']:,.0f}", TARGETS["relay_events_per_s"][0], ""
    )
    table.add_row(
        "projection events/s",
        f"{f['projection_events_per_s']:,.0f}",
        TARGETS["projection_events_per_s"][0],
        f"{f['projection_per_event_statement_events_per_s']:,.0f} with one statement "
        "per event instead of a pipelined batch",
    )
    table.add_row(
        "end-to-end lag p50 / p99 (ms)",
        f"{f['e2e_lag_ms_p50']:.1f} / {f['e2e_lag_ms_p99']:.1f}",
        TARGETS["e2e_lag_ms_p99"][0],
        "at a steady 1,000 events/s",
    )
    console.print(table)
