"""Scheduled work of the reporting worker: monthly statements and family notifications.

Monthly statements (rule 5): when a month has closed in a school's time zone, every student's
statement of that month is issued. The job keeps re-checking the closed month until the 5th, the
day the rules want statements shown by, so facts that reach the read models late (a consumer
catching up, a late correction) still make it; unchanged statements are never re-issued.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from datetime import UTC, datetime

import asyncpg
import structlog

from ezurnals.reporting.channels import from_environment
from ezurnals.reporting.domain.calendar import closed_month, local_day
from ezurnals.reporting.handlers import issue_statements
from ezurnals.reporting.notifying import Sender, send_due
from ezurnals.reporting.queries import Reads
from ezurnals.shared.contracts.reporting import Channel
from ezurnals.shared.service import Runtime

log = structlog.get_logger(__name__)

#: The day of the month by which statements must be ready (rule 5).
STATEMENTS_DUE_DAY = 5


def _utcnow() -> datetime:
    return datetime.now(UTC)


class MonthlyStatementsJob:
    """Issues each school's statements of the month that closed; ``clock`` is for tests."""

    __name__ = "monthly_statements"

    def __init__(
        self, *, interval_s: float = 300.0, clock: Callable[[], datetime] = _utcnow
    ) -> None:
        self.interval_s = interval_s
        self.clock = clock

    async def __call__(self, runtime: Runtime, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self.run_once(runtime)
            except (OSError, asyncpg.PostgresError) as exc:
                log.warning("statements.run_failed", error=str(exc))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.interval_s)

    async def run_once(self, runtime: Runtime) -> int:
        """Returns how many statements were issued."""
        now = self.clock()
        async with runtime.db.raw() as conn:
            reads = Reads(conn, runtime.settings.read_model_schema)
            try:
                schools = await reads.fetch("SELECT school_id, time_zone FROM rm.schools")
            except asyncpg.UndefinedTableError:
                return 0
        issued = 0
        for school in schools:
            if local_day(now, school["time_zone"]).day > STATEMENTS_DUE_DAY:
                continue
            month = closed_month(now, school["time_zone"])
            run = await issue_statements(runtime, school["school_id"], month, now=now)
            issued += run.issued
            if run.issued:
                log.info(
                    "statements.issued",
                    school=str(school["school_id"]),
                    month=month,
                    issued=run.issued,
                )
        return issued


class NotificationJob:
    """Sends due family notifications every ``interval_s``; senders and ``clock`` are for tests.

    Without given senders the channels come from the environment (see ``channels``).
    """

    __name__ = "family_notifications"

    def __init__(
        self,
        *,
        interval_s: float = 15.0,
        clock: Callable[[], datetime] = _utcnow,
        senders: dict[Channel, Sender] | None = None,
    ) -> None:
        self.interval_s = interval_s
        self.clock = clock
        self.senders = senders

    def _senders(self) -> dict[Channel, Sender]:
        if self.senders is not None:
            return self.senders
        mailer, sms = from_environment()
        found: dict[Channel, Sender] = {}
        if mailer:
            found[Channel.EMAIL] = mailer
        if sms:
            found[Channel.SMS] = sms
        return found

    async def __call__(self, runtime: Runtime, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self.run_once(runtime)
            except (OSError, asyncpg.PostgresError) as exc:
                log.warning("notifications.run_failed", error=str(exc))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.interval_s)

    async def run_once(self, runtime: Runtime) -> int:
        """Returns how many messages were sent."""
        try:
            return await send_due(runtime, self.clock(), self._senders())
        except asyncpg.UndefinedTableError:
            return 0
