"""The ``ezurnals`` command as a service image runs it: serve one service's API or worker,
migrate, rebuild read models, export the contracts' schemas.

Commands for a developer's machine (``up``, ``seed``, ``bench``) live in the ``ezurnals-tools``
workspace member, which adds them here through the ``ezurnals.commands`` entry point group:
images install no tools, so their ``ezurnals`` has only what a service process needs.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Coroutine
from importlib.metadata import entry_points
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console

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


def run_fast(main: Coroutine[Any, Any, T]) -> T:
    """Run a long, I/O-bound process on uvloop where it is installed (as uvicorn does for the
    APIs): on two cores the event loop and socket I/O are most of a worker's CPU."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(main)
    return uvloop.run(main)


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
    run_fast(run(load_service(service), settings, port or None))


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


def _add_installed_commands() -> None:
    """Each ``ezurnals.commands`` entry point is a function that adds its commands to ``app``."""
    for command in entry_points(group="ezurnals.commands"):
        command.load()(app)


_add_installed_commands()


def main() -> None:
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    app()


if __name__ == "__main__":
    main()
