"""Families' diary weeks kept answered in memory, each forgotten when what it shows changes.

At the evening reading peak the same weeks are read again and again while nothing is written, and
each read would otherwise be a query of some thirty rows turned into JSON. An answer is kept per
(school, student, week) together with the facts its access check needs, and dropped when
PostgreSQL notices (``ezurnals.shared.messaging.notices``) a change to the student's rows or to
the lessons of one of their classes. Staff reads are not kept: who may read depends on what they
teach, which is looked up with the week.

A read that started before a change and finishes after its notice must not keep what it read:
each fill carries a ticket (the count of notices so far), and ``put`` refuses an answer whose
student or classes were noticed after the ticket. While the listener is not connected nothing is
kept, since notices would be lost.
"""

from __future__ import annotations

import time
from collections import Counter, OrderedDict
from collections.abc import AsyncIterator, Iterable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from datetime import date
from uuid import UUID

from fastapi import FastAPI
from prometheus_client import Counter as Metric
from prometheus_client import Gauge

from ezurnals.reporting.domain.access import StudentFacts
from ezurnals.shared.messaging.notices import Notice, NoticeListener
from ezurnals.shared.messaging.projection import schema_name
from ezurnals.shared.service import Runtime

Key = tuple[UUID, UUID, date]
#: ("student" | "class", id as text): what a notice names.
Dependency = tuple[str, str]
_READS = Metric(
    "ezurnals_diary_cache_reads_total",
    "Families' diary reads answered from memory (hit) or read from the read models (miss)",
    ["result"],
)
_HIT, _MISS = _READS.labels("hit"), _READS.labels("miss")
_WEEKS = Gauge("ezurnals_diary_cache_weeks", "Diary weeks kept in memory by this process")
#: Past this many noticed keys with fills in flight, fills in flight are refused instead.
_MAX_NOTICED = 20_000


@dataclass(frozen=True)
class KeptWeek:
    facts: StudentFacts
    body: bytes
    kept_at: float
    depends_on: tuple[Dependency, ...]


class DiaryCache:
    def __init__(self, capacity: int, schema: str, *, max_age_s: float = 300.0) -> None:
        self.capacity = capacity
        self.schema = schema_name(schema)
        #: A safety net, not the way answers are kept true: notices are.
        self.max_age_s = max_age_s
        self.live = False
        self._weeks: OrderedDict[Key, KeptWeek] = OrderedDict()
        self._keys: dict[Dependency, set[Key]] = {}
        self._notices = 0
        self._refused_before = 0
        self._noticed: dict[Dependency, int] = {}
        self._fills: Counter[int] = Counter()
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._weeks)

    def get(self, key: Key) -> KeptWeek | None:
        week = self._weeks.get(key)
        if week is None or time.monotonic() - week.kept_at > self.max_age_s:
            if week is not None:
                self._drop(key)
            self.misses += 1
            _MISS.inc()
            return None
        self._weeks.move_to_end(key)
        self.hits += 1
        _HIT.inc()
        return week

    @contextmanager
    def filling(self) -> Iterator[int]:
        """A ticket for reading a week that may then be kept (``put``)."""
        ticket = self._notices
        self._fills[ticket] += 1
        try:
            yield ticket
        finally:
            self._fills[ticket] -= 1
            if not self._fills[ticket]:
                del self._fills[ticket]
            if not self._fills:
                self._noticed.clear()

    def put(self, key: Key, facts: StudentFacts, body: bytes, ticket: int) -> bool:
        """Keep the week read under ``ticket``, unless something it shows changed since."""
        if not self.live or self.capacity <= 0 or ticket < self._refused_before:
            return False
        depends_on = tuple(dependencies(facts))
        if any(self._noticed.get(d, -1) > ticket for d in depends_on):
            return False
        self._drop(key)
        self._weeks[key] = KeptWeek(facts, body, time.monotonic(), depends_on)
        for dependency in depends_on:
            self._keys.setdefault(dependency, set()).add(key)
        while len(self._weeks) > self.capacity:
            self._drop(next(iter(self._weeks)))
        return True

    # --- what the notice listener calls ---------------------------------------------------------

    def notice(self, notice: Notice) -> None:
        if notice.schema != self.schema:
            return
        self._notices += 1
        if notice.kind not in {"student", "class"}:
            self.clear()
            return
        dependency = (notice.kind, notice.key)
        if self._fills:
            if len(self._noticed) >= _MAX_NOTICED:
                self._refused_before = self._notices
                self._noticed.clear()
            self._noticed[dependency] = self._notices
        for key in self._keys.pop(dependency, set()):
            self._drop(key)

    def reset(self, connected: bool) -> None:
        self._notices += 1
        self.live = connected
        self.clear()

    def clear(self) -> None:
        """Forget every week, and refuse what reads in flight would keep."""
        self._weeks.clear()
        self._keys.clear()
        self._noticed.clear()
        self._refused_before = self._notices

    def _drop(self, key: Key) -> None:
        week = self._weeks.pop(key, None)
        if week is None:
            return
        for dependency in week.depends_on:
            keys = self._keys.get(dependency)
            if keys is not None:
                keys.discard(key)
                if not keys:
                    del self._keys[dependency]


def dependencies(facts: StudentFacts) -> Iterable[Dependency]:
    """What a student's week shows: their own rows, and the lessons of each of their classes."""
    yield ("student", str(facts.student_id))
    for class_id in facts.class_ids:
        yield ("class", str(class_id))


@asynccontextmanager
async def diary_cache(app: FastAPI, runtime: Runtime) -> AsyncIterator[None]:
    """The API process's cache and the listener that keeps it true (``api_parts``)."""
    settings = runtime.settings
    cache = DiaryCache(settings.diary_cache_entries, settings.read_model_schema)
    app.state.diary_cache = cache
    _WEEKS.set_function(cache.__len__)
    if cache.capacity <= 0:
        yield
        return
    listener = NoticeListener(runtime.db)
    listener.subscribe(cache)
    listener.start()
    try:
        yield
    finally:
        await listener.stop()
