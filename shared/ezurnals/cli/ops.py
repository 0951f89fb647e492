"""Operator commands that work against a running stack (its ``stack.json``) or the environment."""

from __future__ import annotations

import json
import os
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

from ezurnals.shared.db import Database, plain_url
from ezurnals.shared.messaging.rebuild import rebuild
from ezurnals.shared.service import load_service
from ezurnals.shared.settings import Settings, database_name


def stack_settings(service: str, data_dir: Path) -> Settings:
    """Settings for ``service``: from the environment if DATABASE_URL is set, else stack.json."""
    if os.environ.get("DATABASE_URL"):
        return Settings(service=service)
    stack_file = data_dir / "stack.json"
    if not stack_file.exists():
        raise SystemExit(f"no {stack_file}: start `ezurnals up` or set DATABASE_URL")
    stack = json.loads(stack_file.read_text())
    return Settings(
        service=service,
        database_url=plain_url(stack["database_url"], database_name(service)),
        kafka_bootstrap_servers=stack["kafka_bootstrap_servers"],
    )


async def run_rebuild(service: str, data_dir: Path, console: Console) -> None:
    settings = stack_settings(service, data_dir)
    projections = load_service(service).all_projections(settings)
    if not projections:
        console.print(f"{service} has no read models fed by events; nothing to rebuild")
        return
    db = Database(settings.database_url)
    try:
        with Progress(
            "[progress.description]{task.description}",
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
        ) as progress:
            task = progress.add_task(f"rebuilding {service}", total=None)

            def advance(done: int, total: int) -> None:
                progress.update(task, completed=done, total=total)

            read = await rebuild(db, settings, projections, progress=advance)
        console.print(f"{service}: {read} events replayed; the rebuilt read models are live")
    finally:
        await db.dispose()
