"""The worker's scheduled job: at each entry deadline, unrecorded lessons become overdue.

The job keeps no state of its own — each lesson's stream says whether its overdue event was
raised — so a restarted or duplicated worker raises nothing twice and misses nothing. Each
lesson is one ``MarkLessonOverdue`` command through the service's pipeline, like a route's.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import datetime, timedelta

import structlog

from ezurnals.lessons.commands import MarkLessonOverdue
from ezurnals.lessons.domain import entry_deadline
from ezurnals.lessons.handlers import pipeline
from ezurnals.lessons.queries import Reader
from ezurnals.shared.contracts.base import utcnow
from ezurnals.shared.domain import Invalid
from ezurnals.shared.eventstore import CommandContext, ConcurrencyConflict
from ezurnals.shared.service import Runtime

log = structlog.get_logger(__name__)

#: Look again at least this often, for lessons scheduled after the last pass.
MAX_WAIT_S = 60.0
#: After a failed pass (database down), try again this soon.
RETRY_S = 5.0


async def raise_overdue(runtime: Runtime, now: datetime) -> int:
    """Mark every unrecorded lesson whose deadline has passed by ``now`` overdue.

    The append expects the version the handler decided on, so running this twice, or from two
    workers at once, or again after a restart, raises each event once (a lost race is decided
    again and finds it raised). Returns how many were raised.
    """
    reader = Reader.of(runtime)  # one read of each school's rules for the whole pass
    commands = pipeline(runtime, reader)
    # The latest calendar day anywhere on Earth at ``now``: no lesson after it can be due.
    candidates = await reader.unrecorded_until((now + timedelta(hours=14)).date())
    raised = 0
    for row in candidates:
        cmd = MarkLessonOverdue(school_id=row["school_id"], lesson_id=row["lesson_id"])
        try:
            answer = await commands.handle(cmd, CommandContext(school_id=cmd.school_id, now=now))
        except (Invalid, ConcurrencyConflict):
            continue
        raised += answer.raised
    return raised


async def next_deadline(runtime: Runtime, now: datetime) -> datetime | None:
    """The earliest entry deadline after ``now`` among lessons still unrecorded."""
    reader = Reader.of(runtime)
    upcoming: list[datetime] = []
    for row in await reader.unrecorded_until((now + timedelta(days=1, hours=14)).date()):
        policy, zone = await reader.rules(row["school_id"])
        try:
            at = entry_deadline(row["lesson_date"], row["grade_level"], policy, zone)
        except Invalid:
            continue
        if at > now:
            upcoming.append(at)
    return min(upcoming) if upcoming else None


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
