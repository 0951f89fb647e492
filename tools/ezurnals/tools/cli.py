"""The ``ezurnals`` commands for a developer's machine: run the whole system (``up``), seed a
synthetic country, benchmark. ``register`` adds them to the runtime ``ezurnals`` command of
``ezurnals-shared`` (entry point group ``ezurnals.commands``)."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

console = Console()
tools_app = typer.Typer()
bench_app = typer.Typer(help="Benchmarks that print and save their figures beside a reference.")


def register(app: typer.Typer) -> None:
    """Add ``up``, ``seed`` and ``bench`` to ``app``. This module imports nothing of the runtime
    CLI at load time: ``python -m ezurnals.cli.main`` loads it while that module is ``__main__``."""
    for command in tools_app.registered_commands:
        app.registered_commands.append(command)
    app.add_typer(bench_app, name="bench")


def _save(figures: dict[str, Any], json_path: Path) -> None:
    """A benchmark's figures, where its ``--json`` says."""
    json_path.parent.mkdir(parents=True, exist_ok=True)
    json_path.write_text(json.dumps(figures, indent=2))
    console.print(f"saved {json_path}")


@tools_app.command()
def up(
    demo: Annotated[
        bool, typer.Option(help="Register a demo school and print how to sign in")
    ] = False,
    data_dir: Annotated[
        Path, typer.Option(help="Where PostgreSQL data, logs and stack.json live")
    ] = Path(".ezurnals"),
    host: Annotated[str, typer.Option(help="Address the APIs listen on")] = "127.0.0.1",
) -> None:
    """Run the whole system on this machine until Ctrl-C."""
    from ezurnals.tools.up import run_up

    raise typer.Exit(asyncio.run(run_up(data_dir, demo=demo, host=host, console=console)))


@tools_app.command()
def seed(
    schools: Annotated[int, typer.Option(min=1, help="How many schools")] = 1,
    year: Annotated[
        str | None, typer.Option(help="The school year, e.g. 2025/2026 (default: the current)")
    ] = None,
    days: Annotated[int, typer.Option(min=0, help="School days to simulate, up to today")] = 5,
    seed: Annotated[int, typer.Option("--seed", help="Same seed, same country")] = 1,
    students: Annotated[
        int | None, typer.Option(min=12, help="At most this many students per school")
    ] = None,
    concurrency: Annotated[int, typer.Option(min=1, help="Requests in flight at once")] = 32,
    data_dir: Annotated[Path, typer.Option(help="Of a running `ezurnals up`")] = Path(".ezurnals"),
    urls: Annotated[
        Path | None, typer.Option(help="A stack.json naming the services' URLs")
    ] = None,
) -> None:
    """Create a synthetic country through the public APIs and simulate its school days."""
    from ezurnals.tools.seed import (
        SeedOptions,
        current_school_year,
        load_urls,
        operator_secret,
        print_summary,
        run_seed,
    )
    from ezurnals.tools.seeding.plan import SchoolYear

    try:
        school_year = SchoolYear.of(year or current_school_year(datetime.now(UTC).date()))
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--year") from None
    options = SeedOptions(
        schools=schools,
        year=school_year,
        days=days,
        seed=seed,
        max_students=students,
        concurrency=concurrency,
    )
    result = asyncio.run(
        run_seed(load_urls(data_dir, urls), options, operator_secret(data_dir), console)
    )
    print_summary(result, console)
    raise typer.Exit(1 if result.stats.errors else 0)


@bench_app.command("spine")
def bench_spine(
    json_path: Annotated[Path, typer.Option("--json", help="Where to write the figures")] = Path(
        "bench-results/spine.json"
    ),
    events: Annotated[int, typer.Option(help="Events per throughput measurement")] = 20_000,
    writers: Annotated[int, typer.Option(help="Concurrent writers")] = 50,
    lag_seconds: Annotated[
        float, typer.Option(help="Duration of the steady 1,000 events/s lag run")
    ] = 10.0,
) -> None:
    """Event store append vs raw asyncpg vs the eventsourcing library; relay; projection; lag."""
    from ezurnals.tools.bench_spine import run_bench_spine

    figures = asyncio.run(
        run_bench_spine(events=events, writers=writers, lag_seconds=lag_seconds, console=console)
    )
    _save(figures, json_path)


@bench_app.command("reporting")
def bench_reporting(
    json_path: Annotated[Path, typer.Option("--json", help="Where to write the figures")] = Path(
        "bench-results/reporting.json"
    ),
    students: Annotated[int, typer.Option(help="Students of the synthetic school")] = 1000,
    weeks: Annotated[int, typer.Option(help="Weeks of lessons, absences and grades")] = 2,
    readers: Annotated[int, typer.Option(help="Concurrent diary readers")] = 200,
    reads: Annotated[int, typer.Option(help="Diary reads per reader")] = 10,
    think: Annotated[
        float, typer.Option(help="Mean seconds a reader looks at a week before the next read")
    ] = 1.0,
) -> None:
    """Reporting's projections, report cards, monthly statements and diary reads."""
    from ezurnals.tools.bench_reporting import run_bench_reporting

    figures = asyncio.run(
        run_bench_reporting(
            students=students,
            weeks=weeks,
            readers=readers,
            reads=reads,
            think_s=think,
            console=console,
        )
    )
    _save(figures, json_path)


@bench_app.command("load")
def bench_load(
    json_path: Annotated[
        Path | None,
        typer.Option(
            "--json",
            help="Where to write the figures (default bench-results/load.json, or "
            "bench-results/load-sweep.json with --sweep, its plot beside it as .png)",
        ),
    ] = None,
    stack: Annotated[
        Path | None,
        typer.Option(
            help="stack.json of a running `ezurnals up` (default: DATA_DIR/stack.json if there; "
            "else bench load starts a stack of its own in a temporary dir and stops it after)"
        ),
    ] = None,
    data_dir: Annotated[Path, typer.Option(help="Of a running `ezurnals up`")] = Path(".ezurnals"),
    duration: Annotated[
        float, typer.Option(min=1, help="Seconds of load (of each step with --sweep)")
    ] = 300.0,
    rate: Annotated[float, typer.Option(min=1, help="Commands/s the teachers send")] = 300.0,
    read_rate: Annotated[float, typer.Option(min=0, help="Diary reads/s by guardians")] = 1000.0,
    sweep: Annotated[
        bool,
        typer.Option(
            help="Steps of offered load (--steps, not --rate/--read-rate) until saturation; "
            "the capacity at the service level and a plot of p99 against throughput"
        ),
    ] = False,
    steps: Annotated[
        str, typer.Option(help="With --sweep: commands/s+diary reads/s of each step, in order")
    ] = "20+20,50+150,100+300,200+600,300+1000",
    pause: Annotated[float, typer.Option(min=0, help="With --sweep: seconds between steps")] = 5.0,
    until_saturated: Annotated[
        bool,
        typer.Option(
            "--until-saturated/--all-steps",
            help="With --sweep: stop after the first step past saturation, or run every step",
        ),
    ] = True,
    students: Annotated[int, typer.Option(min=12, help="Students of the seeded school")] = 300,
    days: Annotated[int, typer.Option(min=1, help="School days of lessons to record")] = 5,
    # Enough clients that the offered rates do not hang on latency while the p99 targets hold
    # (300/s × 150 ms and 1,000/s × 50 ms in flight at worst, doubled): one teacher or guardian
    # waits for each answer before the next request, as people do.
    writers: Annotated[int, typer.Option(min=1, help="Concurrent teachers")] = 96,
    readers: Annotated[int, typer.Option(min=1, help="Concurrent diary readers")] = 100,
    guardians: Annotated[int, typer.Option(min=1, help="Guardians signed in to read")] = 60,
    seed: Annotated[int | None, typer.Option(help="The seeded school (default: random)")] = None,
) -> None:
    """The 15:00 rush: teachers record lessons, attendance and grades while families read
    diaries; commands/s, p50/p95/p99 per endpoint as the client and the servers measured them,
    end-to-end lag, errors, the client's own loop lag, CPU and peak memory per process."""
    from ezurnals.cli.main import run_fast
    from ezurnals.tools.bench_load import run_bench_load

    if stack is None and (data_dir / "stack.json").exists():
        stack = data_dir / "stack.json"
    if not sweep:
        figures = run_fast(
            run_bench_load(
                stack_file=stack,
                duration=duration,
                rate=rate,
                read_rate=read_rate,
                students=students,
                days=days,
                writers=writers,
                readers=readers,
                guardians=guardians,
                seed=seed,
                console=console,
            )
        )
        _save(figures, json_path or Path("bench-results/load.json"))
        return
    from ezurnals.tools.bench_sweep import parse_steps, plot, run_bench_sweep

    try:
        offered = parse_steps(steps)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--steps") from exc
    figures = run_fast(
        run_bench_sweep(
            stack_file=stack,
            steps=offered,
            duration=duration,
            students=students,
            days=days,
            writers=writers,
            readers=readers,
            guardians=guardians,
            seed=seed,
            pause=pause,
            console=console,
            until_saturated=until_saturated,
        )
    )
    json_path = json_path or Path("bench-results/load-sweep.json")
    _save(figures, json_path)
    console.print(f"saved {plot(figures, json_path.with_suffix('.png'))}")
