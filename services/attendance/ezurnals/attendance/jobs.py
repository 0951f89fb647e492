"""The worker's jobs: the catch-up for settling, and the daily attendance report.

Settling: students noted in ``pending_settlements`` whose handler did not get to settle them (a
crash between the fact's commit and the settle).

The daily report: at each school's set time (school time) the day's CSV is made and stored, once
per school and day; ``daily_reports``' primary key is the memory that makes it once, across
restarts and several workers.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from collections.abc import Callable
from uuid import UUID
from zoneinfo import ZoneInfo

import structlog

from ezurnals.attendance import handlers, queries
from ezurnals.attendance.domain import report_is_due
from ezurnals.shared.contracts.base import SYSTEM, utcnow
from ezurnals.shared.eventstore import CommandContext
from ezurnals.shared.service import Job, Runtime

log = structlog.get_logger(__name__)

#: A note younger than this is left to the handler that wrote it.
GRACE_SECONDS = 5.0
INTERVAL_SECONDS = 2.0
#: How often the report job looks whether a school's time has come.
REPORT_INTERVAL_SECONDS = 30.0


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


def daily_reports(
    clock: Callable[[], dt.datetime] = utcnow,
    interval_seconds: float = REPORT_INTERVAL_SECONDS,
) -> Job:
    """The report job; ``clock`` gives the current instant (UTC), replaceable in tests."""

    async def make_daily_reports(runtime: Runtime, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await make_due_reports(runtime, clock())
            except Exception as exc:
                log.warning("attendance.daily_reports_failed", error=repr(exc))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), interval_seconds)

    return make_daily_reports


async def make_due_reports(runtime: Runtime, now: dt.datetime) -> list[tuple[UUID, dt.date]]:
    """Make the report of every school whose time has come today and that has none yet; a day
    without lessons (weekend, holiday) gets none. Returns the (school, day) pairs made now."""
    async with handlers.reading(runtime) as conn:
        schools = await conn.fetch(
            """SELECT s.school_id, s.time_zone FROM rm.schools s
               WHERE NOT EXISTS (
                   SELECT 1 FROM daily_reports r WHERE r.school_id = s.school_id
                   AND r.report_date = ($1::timestamptz AT TIME ZONE s.time_zone)::date)""",
            now,
        )
    made = []
    for school in schools:
        school_id: UUID = school["school_id"]
        try:
            day = await make_report(
                runtime, school_id, now.astimezone(ZoneInfo(school["time_zone"]))
            )
        except Exception as exc:
            log.warning("attendance.daily_report_failed", school_id=str(school_id), error=repr(exc))
            continue
        if day is not None:
            made.append((school_id, day))
    return made


async def make_report(runtime: Runtime, school_id: UUID, local_now: dt.datetime) -> dt.date | None:
    """The day's report if it is due and not yet made; the day, or None if nothing was made."""
    day = local_now.date()
    settings = await queries.attendance_settings(runtime.store, school_id)
    if not report_is_due(local_now, settings.daily_report_at(day)):
        return None
    async with runtime.db.raw() as conn:
        if not await queries.lessons_on(conn, school_id, day):
            return None
        content = await queries.daily_report_csv(conn, school_id, day)
        made = await conn.fetchval(
            """INSERT INTO daily_reports VALUES ($1, $2, $3, $4)
               ON CONFLICT (school_id, report_date) DO NOTHING RETURNING true""",
            school_id,
            day,
            local_now.astimezone(dt.UTC),
            content,
        )
    if made:
        log.info("attendance.daily_report_made", school_id=str(school_id), day=day.isoformat())
    return day if made else None
