"""``ezurnals up``: prepare, start, print where everything is, supervise until stopped."""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import os
import signal
from pathlib import Path

from rich.console import Console
from rich.table import Table

from ezurnals.shared.observability.logging import configure_logging
from ezurnals.tools.supervisor import Stack


async def run_up(data_dir: Path, *, demo: bool, host: str, console: Console) -> int:
    configure_logging("WARNING", json=False)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    stack = Stack(data_dir, host=host)
    # Services and the demo seeder find per-installation files (signing keys, the bootstrap
    # secret) under the data dir.
    os.environ["EZURNALS_DATA_DIR"] = str(stack.data_dir)
    try:
        with console.status("starting PostgreSQL and Kafka, migrating…"):
            await stack.prepare()
        with console.status("starting the services…"):
            stack.start_processes()
            await stack.wait_healthy()
        stack_file = stack.write_stack_file()
        table = Table(title="ezurnals is running")
        table.add_column("service")
        table.add_column("API")
        table.add_column("docs")
        for name, url in stack.urls.items():
            if name != "web":
                table.add_row(name, f"{url}/api/{name}/", f"{url}/docs")
        console.print(table)
        if "web" in stack.urls:
            console.print(f"[bold]web app:[/] {stack.urls['web']}/")
        assert stack.infra is not None
        console.print(
            f"PostgreSQL: {stack.infra.database_origin}  Kafka: "
            f"{stack.infra.kafka_origin} ({stack.infra.kafka_bootstrap_servers})"
        )
        console.print(f"stack file: {stack_file}   logs: {stack.data_dir / 'logs'}")
        if demo:
            await seed_demo(stack, console)
        console.print("[bold]Ctrl-C stops everything.[/]")
        await stack.supervise(stop)
        return 0
    finally:
        with console.status("stopping…"):
            await asyncio.to_thread(stack.shutdown)
        console.print("stopped.")


async def seed_demo(stack: Stack, console: Console) -> None:
    """Each service may ship ``ezurnals.<name>.demo.seed(urls, console)``; run those in order."""
    seeded = False
    for name in stack.services:
        with contextlib.suppress(ModuleNotFoundError):
            module = importlib.import_module(f"ezurnals.{name}.demo")
            await module.seed(stack.urls, console)
            seeded = True
    if not seeded:
        console.print("[yellow]no service ships demo data yet[/]")
