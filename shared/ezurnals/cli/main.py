"""The ``ezurnals`` command: run the system, serve one service, migrate, rebuild, benchmark."""

from __future__ import annotations

import asyncio
import json
import signal
from collections.abc import Coroutine
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from ezurnals.shared.settings import SERVICES

app = typer.Typer(
    name="ezurnals",
    help="ezurnals — an open-source electronic school journal (e-žurnāls).",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)
serve_app = typer.Typer(help="Run one process of one service (as Kubernetes does).")
app.add_typer(serve_app, name="serve")
console = Console()
T = TypeVar("T")

ServiceOpt = Annotated[
    str, typer.Option("--service", "-s", help="identity, lessons, attendance, grading or reporting")
]


def _check_service(name: str) -> str:
    if name not in SERVICES:
        raise typer.BadParameter(f"unknown service {name!r}; one of {', '.join(SERVICES)}")
    return name


def _serving() -> None:
    """A server ignores SIGPIPE again (``main`` restores its default for piped CLI output):
    otherwise writing to a socket PostgreSQL just closed would kill the process silently."""
    signal.signal(signal.SIGPIPE, signal.SIG_IGN)


def _run_fast(main: Coroutine[Any, Any, T]) -> T:
    """Run a long, I/O-bound process on uvloop where it is installed (as uvicorn does for the
    APIs): on two cores the event loop and socket I/O are most of a worker's CPU."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(main)
    return uvloop.run(main)


def _save(figures: dict[str, Any], json_path: Path) -> None:
    """A benchmark's figures, where its ``--json`` says."""
    json_path.parent.mkdir(parents=True, exist_ok=True)
    json_path.write_text(json.dumps(figures, indent=2))
    console.print(f"saved {json_path}")


@app.command()
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
    from ezurnals.cli.up import run_up

    raise typer.Exit(asyncio.run(run_up(data_dir, demo=demo, host=host, console=console)))


@serve_app.command("api")
def serve_api(
    service: ServiceOpt,
    host: Annotated[str, typer.Option()] = "127.0.0.1",
    port: Annotated[int, typer.Option()] = 8000,
) -> None:
    """The HTTP API of one service (uvicorn)."""
    import uvicorn

    _serving()

    from ezurnals.shared.http.app import create_app
    from ezurnals.shared.http.server import server_config
    from ezurnals.shared.observability.logging import configure_logging
    from ezurnals.shared.service import load_service
    from ezurnals.shared.settings import Settings

    settings = Settings(service=_check_service(service))
    configure_logging(settings.log_level, json=settings.log_json, service=service)
    config = server_config(
        create_app(load_service(service), settings),
        host=host,
        port=port,
        forwarded_allow_ips=settings.forwarded_allow_ips,
        timeout_graceful_shutdown=10,
    )
    server = uvicorn.Server(config)
    server.run()
    if not server.started:  # as uvicorn.run: a failed startup is a failed process
        raise SystemExit(3)


@serve_app.command("worker")
def serve_worker(
    service: ServiceOpt,
    port: Annotated[int, typer.Option(help="Port for /healthz and /metrics (0: none)")] = 9000,
) -> None:
    """The worker of one service: outbox relay, projections, scheduled jobs."""
    _serving()
    from ezurnals.shared.observability.logging import configure_logging
    from ezurnals.shared.service import load_service
    from ezurnals.shared.settings import Settings
    from ezurnals.shared.worker import serve_worker as run

    settings = Settings(service=_check_service(service))
    configure_logging(settings.log_level, json=settings.log_json, service=f"{service}-worker")
    _run_fast(run(load_service(service), settings, port or None))


@app.command()
def migrate(service: ServiceOpt) -> None:
    """Apply a service's migrations to its DATABASE_URL (idempotent; safe to run concurrently)."""
    from ezurnals.shared.service import load_service
    from ezurnals.shared.settings import Settings

    settings = Settings(service=_check_service(service))
    applied = asyncio.run(load_service(service).migrate(settings.database_url))
    console.print(
        f"{service}: {len(applied)} migration(s) applied"
        + (f": {', '.join(applied)}" if applied else " (up to date)")
    )


@app.command()
def rebuild(
    service: Annotated[str, typer.Argument(help="The service whose read models to rebuild")],
    data_dir: Annotated[Path, typer.Option(help="Of a running `ezurnals up`")] = Path(".ezurnals"),
) -> None:
    """Replay every event into fresh read models and swap them in, with a progress bar."""
    from ezurnals.cli.ops import run_rebuild

    asyncio.run(run_rebuild(_check_service(service), data_dir, console))


@app.command()
def contracts(
    check: Annotated[
        bool, typer.Option("--check", help="Fail if the committed schemas are stale")
    ] = False,
) -> None:
    """Write the JSON Schema of every event contract into contracts/schemas/."""
    from ezurnals.shared.contracts.schemas import export_schemas

    try:
        changed = export_schemas(write=not check)
    except ValueError as exc:
        console.print(f"[red]{exc}[/]\nAdd a new schema_version with an upcaster instead.")
        raise typer.Exit(1) from None
    if check and changed:
        console.print(f"[red]stale schemas:[/] {', '.join(changed)}")
        raise typer.Exit(1)
    console.print(f"{len(changed)} schema file(s) {'would change' if check else 'written'}")


@app.command()
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
    from ezurnals.cli.seed import (
        SeedOptions,
        current_school_year,
        load_urls,
        operator_secret,
        print_summary,
        run_seed,
    )
    from ezurnals.cli.seeding.plan import SchoolYear

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


bench_app = typer.Typer(help="Benchmarks that print and save their figures beside a reference.")
app.add_typer(bench_app, name="bench")


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
    from ezurnals.cli.bench_spine import run_bench_spine

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
    from ezurnals.cli.bench_reporting import run_bench_reporting

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
    from ezurnals.cli.bench_load import run_bench_load

    if stack is None and (data_dir / "stack.json").exists():
        stack = data_dir / "stack.json"
    if not sweep:
        figures = _run_fast(
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
    from ezurnals.cli.bench_sweep import parse_steps, plot, run_bench_sweep

    try:
        offered = parse_steps(steps)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--steps") from exc
    figures = _run_fast(
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


def print_table(title: str, rows: list[tuple[str, ...]], headers: tuple[str, ...]) -> None:
    table = Table(title=title)
    for h in headers:
        table.add_column(h)
    for row in rows:
        table.add_row(*row)
    console.print(table)


def main() -> None:
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    app()


if __name__ == "__main__":
    main()
