"""The worker's catch-up for settling: students noted in ``pending_settlements`` whose handler
did not get to settle them (a crash between the fact's commit and the settle)."""

from __future__ import annotations

import asyncio
import contextlib

import structlog

from ezurnals.attendance import handlers
from ezurnals.shared.contracts.base import SYSTEM
from ezurnals.shared.eventstore import CommandContext
from ezurnals.shared.service import Runtime

log = structlog.get_logger(__name__)

#: A note younger than this is left to the handler that wrote it.
GRACE_SECONDS = 5.0
INTERVAL_SECONDS = 2.0


async def settle_pending(runtime: Runtime, stop: asyncio.Event) -> None:
    while not stop.is_set():
        try:
            await settle_overdue(runtime)
        except Exception as exc:
            log.warning("attendance.settle_pending_failed", error=repr(exc))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), INTERVAL_SECONDS)


async def settle_overdue(runtime: Runtime, grace_seconds: float = GRACE_SECONDS) -> int:
    """Settle every student noted more than ``grace_seconds`` ago; returns how many."""
    async with runtime.db.raw() as conn:
        rows = await conn.fetch(
            """SELECT student_id, school_id FROM pending_settlements
               WHERE noted_at < clock_timestamp() - make_interval(secs => $1)
               ORDER BY noted_at LIMIT 500""",
            grace_seconds,
        )
    for row in rows:
        ctx = CommandContext(actor=SYSTEM, school_id=row["school_id"])
        await handlers.settle_student(runtime, ctx, row["student_id"])
    return len(rows)
