"""The worker's coming-of-age job: StudentCameOfAge once for each enrolled student turning 18.

It keeps no state of its own: ``came_of_age`` (a query table fed by the event) says who is
done, and each student's guardianship stream refuses a second event, so a restarted or
duplicated worker publishes nothing twice and misses nobody whose birthday passed meanwhile.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from datetime import datetime

import structlog

from ezurnals.identity import queries
from ezurnals.identity.domain.guardianship import adult_from
from ezurnals.identity.handlers.adults import birth_date_of, come_of_age
from ezurnals.shared.contracts.base import SYSTEM, utcnow
from ezurnals.shared.eventstore import CommandContext
from ezurnals.shared.service import Runtime

log = structlog.get_logger(__name__)

#: Enrolled students (their latest school year has a class) not yet known to be adults.
_MINORS = """
    SELECT e.student_id, e.school_id, s.time_zone
    FROM enrolments e JOIN schools s USING (school_id)
    WHERE e.class_id IS NOT NULL
      AND e.school_year = (SELECT max(x.school_year) FROM enrolments x
                           WHERE x.student_id = e.student_id)
      AND NOT EXISTS (SELECT 1 FROM came_of_age c WHERE c.student_id = e.student_id)
    ORDER BY e.school_id, e.student_id
"""


class ComingOfAgeJob:
    """Looks every ``interval_s``; ``clock`` is injectable for tests."""

    __name__ = "coming_of_age"

    def __init__(
        self, *, interval_s: float = 900.0, clock: Callable[[], datetime] = utcnow
    ) -> None:
        self.interval_s = interval_s
        self.clock = clock

    async def __call__(self, runtime: Runtime, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                published = await self.run_once(runtime)
                if published:
                    log.info("identity.came_of_age", count=published)
            except Exception as exc:
                log.warning("identity.coming_of_age_failed", error=repr(exc))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.interval_s)

    async def run_once(self, runtime: Runtime) -> int:
        """Publish for every student who is 18 on their school's local today; how many."""
        now = self.clock()
        due = []
        async with runtime.db.raw() as conn:
            for row in await conn.fetch(_MINORS):
                born = await birth_date_of(conn, row["student_id"])
                today = queries.local_day(now, row["time_zone"])
                if born is not None and adult_from(born) <= today:
                    due.append((row["school_id"], row["student_id"], today))
        published = 0
        for school_id, student_id, today in due:
            ctx = CommandContext(actor=SYSTEM, school_id=school_id, now=now)
            published += await come_of_age(runtime, ctx, school_id, student_id, today)
        return published
