"""``ezurnals bench reporting`` at a tiny size: it runs end to end and every figure is measured."""

from __future__ import annotations

import math

import pytest
from rich.console import Console

from ezurnals.shared.runtime.infra import Infrastructure
from ezurnals.tools.bench_reporting import run_bench_reporting


async def test_the_bench_measures_every_figure(
    infra: Infrastructure, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The bench finds its server and broker as a deployment would: from the environment.
    monkeypatch.setenv("DATABASE_URL", infra.database_url)
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", infra.kafka_bootstrap_servers)
    figures = await run_bench_reporting(
        students=4, weeks=1, readers=2, reads=2, think_s=0.01, console=Console(quiet=True)
    )
    config = figures.pop("config")
    assert config["students"] == 4 and config["events"] > 0
    assert set(figures) >= {
        "projection_events_per_s",
        "report_cards_issued_per_s",
        "report_card_pdfs_per_s_student",
        "report_card_pdfs_per_s_class",
        "statements_total_s",
        "statements_per_s",
        "diary_ms_p50",
        "diary_ms_p99",
        "diary_reads_per_s",
        "diary_reads_ok_percent",
        "diary_saturated_reads_per_s",
        "diary_saturated_ms_p50",
        "diary_saturated_ms_p99",
        "diary_saturated_ok_percent",
    }
    not_positive = {
        k: v
        for k, v in figures.items()
        if not isinstance(v, int | float) or not math.isfinite(v) or v <= 0
    }
    assert not not_positive
    assert figures["diary_reads_ok_percent"] == 100
    assert figures["diary_saturated_ok_percent"] == 100
    assert config["reader_think_s_mean"] == 0.01
