"""``ezurnals bench load`` for a few seconds against a running stack: every figure is in its
JSON and nothing failed (timings are the benchmark's business, not the test's)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from ezurnals.cli.bench_load import DIARY, ENDPOINTS, TARGETS

pytestmark = pytest.mark.slow

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
