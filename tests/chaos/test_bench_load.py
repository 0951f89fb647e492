"""``ezurnals bench load`` for a few seconds against a running stack: every figure is in its
JSON and nothing failed; ``--sweep`` with two short steps saves its JSON and its plot; and the
pieces that need no stack: how clients are paced, how a server histogram is read, when a step
meets the service level (timings are the benchmark's business, not the test's)."""

from __future__ import annotations

import asyncio
import itertools
import json
import math
import subprocess
import sys
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from ezurnals.tools.bench_load import (
    DIARY,
    ENDPOINTS,
    TARGETS,
    Book,
    LoadRunner,
    LoadSchool,
    stagger,
)
from ezurnals.tools.bench_sweep import SERVICE_LEVEL, capacity, parse_steps, verdict
from ezurnals.tools.seeding.client import Session
from ezurnals.tools.server_histograms import combined, delta, parse_histograms, quantile

FIGURES = (
    "commands_per_s",
    "command_ms_p50",
    "command_ms_p95",
    "command_ms_p99",
    "diary_reads_per_s",
    "diary_ms_p50",
    "diary_ms_p95",
    "diary_ms_p99",
    "lag_ms_p50",
    "lag_ms_p95",
    "lag_ms_p99",
)


@pytest.mark.slow
def test_bench_load_reports_every_figure_without_errors(up_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "load.json"
    ran = subprocess.run(
        [
            sys.executable,
            "-m",
            "ezurnals.cli.main",
            "bench",
            "load",
            "--stack",
            str(up_dir / "stack.json"),
            "--json",
            str(out),
            "--duration",
            "6",
            "--rate",
            "40",
            "--read-rate",
            "40",
            "--students",
            "24",
            # Three school days, so that lessons remain to record in the run even before today's
            # first lesson (today's then have none to record, and warming up records one a book).
            "--days",
            "3",
            "--writers",
            "8",
            "--readers",
            "4",
            "--guardians",
            "8",
        ],
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert ran.returncode == 0, ran.stdout[-3000:] + ran.stderr[-3000:]
    figures = json.loads(out.read_text())
    assert figures["errors"] == 0, figures["error_messages"]
    assert figures["lag_unseen_after_30_s"] == 0
    for name in FIGURES:
        assert isinstance(figures[name], (int, float)) and figures[name] > 0, name
    assert figures["commands"] > 0 and figures["diary_reads"] > 0 and figures["lag_samples"] > 0
    for name in (*ENDPOINTS, DIARY):
        endpoint = figures["endpoints"][name]
        assert endpoint["count"] > 0, name
        assert endpoint["p50"] <= endpoint["p95"] <= endpoint["p99"], name
    assert set(figures["targets"]) == set(TARGETS) == set(figures["met"])
    memory = figures["peak_memory_mb"]
    cpu = figures["cpu_percent_of_one_core"]
    for process in ("postgres", "kafka", "lessons-api", "reporting-worker"):
        assert memory[process] > 0, process
        assert cpu[process] > 0, process
    assert "commands/s" in ran.stdout and "peak memory" in ran.stdout
    for name in (*ENDPOINTS, DIARY):
        server = figures["endpoints"][name]["server"]
        assert server["count"] >= figures["endpoints"][name]["count"], name
        assert server["p50"] <= server["p95"] <= server["p99"], name
    lag = figures["client_loop_lag_ms"]
    assert lag["samples"] > 0 and lag["p50"] <= lag["p99"] <= lag["max"]
    assert lag["distorted"] == (lag["p99"] > lag["limit_ms"])
    assert figures["cpu_ms_per_command"] > 0 and figures["cpu_ms_per_diary_read"] > 0
    assert "client loop lag" in ran.stdout and "server p50" in ran.stdout


STEP_FIELDS = (
    *FIGURES,
    "errors",
    "cpu_ms_per_command",
    "cpu_ms_per_diary_read",
    "cpu_percent_of_one_core",
    "server_command_ms",
    "server_diary_ms",
    "client_loop_lag_ms",
    "offered",
    "verdict",
    "endpoints",
)


@pytest.mark.slow
def test_bench_load_sweep_saves_every_step_and_its_plot(up_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "sweep.json"
    ran = subprocess.run(
        [
            sys.executable,
            "-m",
            "ezurnals.cli.main",
            "bench",
            "load",
            "--sweep",
            "--steps",
            "10+10,20+20",
            # Both steps whatever the machine: the stop at saturation is the unit test's.
            "--all-steps",
            "--pause",
            "0",
            "--stack",
            str(up_dir / "stack.json"),
            "--json",
            str(out),
            "--duration",
            "4",
            "--students",
            "24",
            "--days",
            "3",
            "--writers",
            "8",
            "--readers",
            "4",
            "--guardians",
            "8",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert ran.returncode == 0, ran.stdout[-3000:] + ran.stderr[-3000:]
    figures = json.loads(out.read_text())
    steps = figures["steps"]
    assert [s["offered"] for s in steps] == [
        {"commands_per_s": 10.0, "diary_per_s": 10.0},
        {"commands_per_s": 20.0, "diary_per_s": 20.0},
    ]
    for step in steps:
        assert set(STEP_FIELDS) <= set(step)
        assert step["errors"] == 0, step["error_messages"]
        assert step["commands"] > 0 and step["diary_reads"] > 0
        # A few seconds may not reach every kind of command; those sent, the server counted.
        for name in (*ENDPOINTS, DIARY):
            endpoint = step["endpoints"][name]
            if endpoint["count"]:
                assert endpoint["server"]["count"] >= endpoint["count"], name
        assert step["endpoints"][DIARY]["server"]["p99"] > 0
        assert step["server_command_ms"]["p99"] > 0
        for process in ("postgres", "kafka", "grading-api", "reporting-worker"):
            assert step["cpu_percent_of_one_core"][process] > 0, process
        assert step["verdict"]["within_service_level"] == (not step["verdict"]["missed"])
    assert set(figures["service_level"]) == set(SERVICE_LEVEL)
    assert "capacity_at_service_level" in figures
    assert isinstance(figures["client_distorted_steps"], list)
    png = out.with_suffix(".png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "capacity at the service level" in ran.stdout and str(png) in ran.stdout


def test_clients_are_due_one_after_another_across_one_interval() -> None:
    writers, rate = 96, 20.0
    first = stagger(writers, rate)
    interval = writers / rate
    assert len(first) == writers
    assert first[0] == 0 and max(first) < interval
    gaps = [b - a for a, b in itertools.pairwise(first)]
    assert all(math.isclose(gap, 1 / rate) for gap in gaps)


def test_the_runner_starts_each_writer_and_reader_at_its_own_time() -> None:
    """All writers at the start would send their commands as one burst each interval, which
    then queues in the services: the floor the client measured at 20 commands/s."""
    first_due: dict[str, list[float]] = {"writers": [], "readers": []}

    async def run() -> None:
        books = [
            Book(f"class-{i}", "subject", 5, Session(f"teacher-{i}"), ["student"], [])
            for i in range(12)
        ]
        families = [(Session("guardian"), "student")]
        school = LoadSchool(run=None, books=books, families=families, days=[date(2026, 12, 7)])  # type: ignore[arg-type]
        runner = LoadRunner({}, school, rate=30.0, read_rate=10.0, writers=12, readers=5)

        async def writer(first: float, until: float | None, stop: Any) -> None:
            first_due["writers"].append(first - runner.started)

        async def reader(first: float, until: float | None, stop: Any) -> None:
            first_due["readers"].append(first - runner.started)

        runner._writer = writer  # type: ignore[method-assign]
        runner._reader = reader  # type: ignore[method-assign]
        try:
            await runner.run(0.0)
        finally:
            await runner.close()

    asyncio.run(run())
    assert first_due["writers"] == pytest.approx([i / 30.0 for i in range(12)])
    assert first_due["readers"] == pytest.approx([i / 10.0 for i in range(5)])


METRICS = """\
# HELP ezurnals_http_request_seconds HTTP request latency
# TYPE ezurnals_http_request_seconds histogram
{buckets}
"""


def _metrics(route: str, status: str, counts: dict[str, float]) -> str:
    labels = f'method="POST",route="{route}",service="grading",status="{status}"'
    return "\n".join(
        f'ezurnals_http_request_seconds_bucket{{{labels},le="{le}"}} {count}'
        for le, count in counts.items()
    )


def test_server_percentiles_come_from_the_bucket_deltas_of_successful_requests() -> None:
    route = "/classes/{class_id}/subjects/{subject_id}/grades"
    before = parse_histograms(
        METRICS.format(buckets=_metrics(route, "201", {"0.01": 5, "0.05": 5, "+Inf": 5}))
    )
    after = parse_histograms(
        METRICS.format(
            buckets="\n".join(
                (
                    _metrics(route, "201", {"0.01": 55, "0.05": 105, "+Inf": 105}),
                    # Refused requests are not timed by the client: not counted here either.
                    _metrics(route, "422", {"0.01": 900, "0.05": 900, "+Inf": 900}),
                )
            )
        )
    )
    window = delta(before, after)
    key = ("grading", "POST", route)
    assert window[key][math.inf] == 100
    # 50 of the 100 under 10 ms, the other 50 between 10 and 50 ms (linear within a bucket).
    assert quantile(window[key], 0.5) == pytest.approx(10.0)
    assert quantile(window[key], 0.99) == pytest.approx(10 + 40 * 49 / 50)
    assert combined(window, [key])["p50"] == pytest.approx(10.0)
    # A rank in the +Inf bucket: the highest finite bound, a lower bound of the truth.
    assert quantile({0.05: 1, math.inf: 10}, 0.99) == pytest.approx(50.0)


def _step(**figures: Any) -> dict[str, Any]:
    base = {
        "command_ms_p99": 100.0,
        "diary_ms_p99": 30.0,
        "lag_ms_p99": 500.0,
        "errors": 0,
        "commands": 1000,
        "diary_reads": 3000,
        "commands_per_s": 100.0,
        "diary_reads_per_s": 300.0,
    }
    return base | figures


def test_a_step_counts_toward_capacity_only_within_the_service_level() -> None:
    assert verdict(_step(), 100, 300) == {
        "within_service_level": True,
        "missed": [],
        "saturated": [],
    }
    slow = verdict(_step(command_ms_p99=200.0), 100, 300)
    assert not slow["within_service_level"] and not slow["saturated"]
    assert not verdict(_step(errors=1), 100, 300)["within_service_level"]
    assert verdict(_step(diary_ms_p99=120.0), 100, 300)["saturated"]
    short = verdict(_step(commands_per_s=80.0), 100, 300)
    assert short["saturated"] and not short["within_service_level"]
    steps = [
        {
            "offered": {"commands_per_s": c, "diary_per_s": r},
            "commands_per_s": c,
            "diary_reads_per_s": r,
            "verdict": verdict(_step(command_ms_p99=p99), c, r),
        }
        for c, r, p99 in ((20, 20, 40.0), (100, 300, 120.0), (200, 600, 180.0))
    ]
    assert capacity(steps)["offered_commands_per_s"] == 100  # type: ignore[index]
    assert capacity(steps[2:]) is None


def test_steps_are_read_as_commands_plus_diary_reads() -> None:
    assert parse_steps("20+20, 100+300,50") == [(20, 20), (100, 300), (50, 0)]
    with pytest.raises(ValueError, match="COMMANDS"):
        parse_steps("fast")
