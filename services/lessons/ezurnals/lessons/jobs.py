"""The worker's scheduled job: at each entry deadline, unrecorded lessons become overdue.

The job keeps no state of its own — each lesson's stream says whether its overdue event was
raised — so a restarted or duplicated worker raises nothing twice and misses nothing.
"""

from __future__ import annotations

import asyncio
import contextlib

import structlog

from ezurnals.lessons.handlers import next_deadline, raise_overdue
from ezurnals.shared.contracts.base import utcnow
from ezurnals.shared.service import Runtime

log = structlog.get_logger(__name__)

#: Look again at least this often, for lessons scheduled after the last pass.
MAX_WAIT_S = 60.0
#: After a failed pass (database down), try again this soon.
RETRY_S = 5.0


async def overdue_job(runtime: Runtime, stop: asyncio.Event) -> None:
    """Raise overdue entries now, then sleep until the next deadline (or a minute at most)."""
    while not stop.is_set():
        wait = MAX_WAIT_S
        try:
            raised = await raise_overdue(runtime, utcnow())
            if raised:
                log.info("lessons.overdue_raised", count=raised)
            upcoming = await next_deadline(runtime, utcnow())
            if upcoming is not None:
                wait = min(MAX_WAIT_S, max(0.5, (upcoming - utcnow()).total_seconds()))
        except Exception as exc:
            log.warning("lessons.overdue_pass_failed", error=repr(exc))
            wait = RETRY_S
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), wait)
