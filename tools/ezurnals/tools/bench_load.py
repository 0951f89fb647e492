"""``ezurnals bench load``: the 15:00 rush against a running stack, through the public APIs.

A school is created by the seeder (``seeding``) with its timetable scheduled on the last school
days, but none of those lessons recorded. Then, for ``duration`` seconds, teachers record their
lessons, take attendance, grade and correct records at a paced rate while guardians read their
children's diaries at another, and every so often a grade's journey is followed: from the 201
until the guardian's diary shows it (the end-to-end lag through relay, broker and projection).

Commands on one class-subject grade book (its lessons, their attendance and its grades) are sent
one at a time, as one teacher would; different books go in parallel. Pacing is open-loop per
client task: each task has its schedule and only waits when it is ahead of it, so a slow system
shows as a lower achieved rate, not as a hidden queue in the client. The schedules are staggered
evenly (client i starts at i / rate), so the offered load is a steady stream: started together,
96 teachers sent their commands as one burst every 4.8 s at 20 commands/s, which queued in the
services (p50 over 500 ms on an idle stack) and opened a fresh connection each, their pooled ones
having expired in between.

The client watches itself: its own event-loop lag (flagged over 10 ms at p99), the connections it
opened, its untimed probe reads; and beside its percentiles it puts each service's own request
histogram for the same window (scraped from ``/metrics`` before and after).

The same ``LoadRunner`` drives the chaos test, with ``retry_outages``: a command answered 5xx or
lost in transit is sent again with the same Idempotency-Key until it is acknowledged, so every
acknowledged command must be in its event store (each carries its own X-Correlation-ID, which the
events keep).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import platform
import random
import tempfile
import time
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import aiohttp
from rich.console import Console
from rich.table import Table

from ezurnals.tools.figures import percentile, rounded
from ezurnals.tools.process_sampler import CLIENT, SAMPLER, ProcessSampler
from ezurnals.tools.seed import RIGA, SchoolRun, Seeder, SeedOptions, current_school_year
from ezurnals.tools.seeding.client import PASSWORD, Session, Stack
from ezurnals.tools.seeding.plan import LEVELS, SchoolClass, SchoolYear, plan_school
from ezurnals.tools.server_histograms import combined, delta, scrape, summary

TARGETS: dict[str, tuple[str, float]] = {
    "commands_per_s": ("≥ 300", 300.0),
    "command_ms_p99": ("< 150 ms", 150.0),
    "lag_ms_p99": ("< 1,000 ms", 1000.0),
    "errors": ("0", 0.0),
    "diary_reads_per_s": ("≥ 1,000", 1000.0),
    "diary_ms_p99": ("< 50 ms", 50.0),
}
#: Figures that meet their target from below (the others from above).
AT_LEAST = frozenset({"commands_per_s", "diary_reads_per_s"})
OUTAGE = frozenset({502, 503, 504})
ENDPOINTS = ("lessons: record", "attendance: take", "grading: grades", "lessons: correct")
DIARY = "reporting: diary"
#: Each endpoint's route as the service's own request histogram labels it (service, method, route
#: with its router's prefix, as ``route_template`` in ``shared/http/app.py`` gives it).
ROUTES: dict[str, tuple[str, str, str]] = {
    ENDPOINTS[0]: ("lessons", "POST", "/api/lessons/lessons/{lesson_id}/record"),
    ENDPOINTS[1]: ("attendance", "POST", "/api/attendance/lessons/{lesson_id}/attendance"),
    ENDPOINTS[2]: (
        "grading",
        "POST",
        "/api/grading/classes/{class_id}/subjects/{subject_id}/grades",
    ),
    ENDPOINTS[3]: ("lessons", "POST", "/api/lessons/lessons/{lesson_id}/corrections"),
    DIARY: ("reporting", "GET", "/api/reporting/students/{student_id}/diary"),
}
#: A client whose event loop runs later than this (p99) is slow enough to distort what it times.
CLIENT_LAG_LIMIT_MS = 10.0


@dataclass
class LessonWork:
    lesson_id: str
    day: date
    #: 0: to record, 1: attendance to take, 2: recorded and taken (grades, corrections).
    state: int = 0


@dataclass
class Book:
    """One class's subject: its lessons and grades, written by its teacher one command at a time."""

    class_id: str
    subject_id: str
    grade_level: int
    teacher: Session
    students: list[str]
    lessons: list[LessonWork]
    #: A student whose guardian is signed in, and that guardian: whose grades are followed.
    probe: tuple[str, Session] | None = None


@dataclass
class LoadSchool:
    run: SchoolRun
    books: list[Book]
    #: (guardian, child's id) for the diary readers.
    families: list[tuple[Session, str]]
    days: list[date]


@dataclass
class Figures:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    lags: list[float] = field(default_factory=list)
    #: (when the grade was acknowledged, time.monotonic(); its lag in ms), in order of arrival.
    lag_log: list[tuple[float, float]] = field(default_factory=list)
    lag_unseen: int = 0
    errors: int = 0
    messages: list[str] = field(default_factory=list)
    retries: int = 0
    reauthentications: int = 0
    #: Diary reads by the lag probes (not timed; the reporting API serves them all the same).
    probe_reads: int = 0
    #: TCP connections the client opened, and requests sent on a pooled one.
    connections_opened: int = 0
    connections_reused: int = 0
    #: service → correlation ids of acknowledged commands.
    acknowledged: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))

    def fail(self, message: str) -> None:
        self.errors += 1
        if len(self.messages) < 20:
            self.messages.append(message)


async def prepare_school(
    urls: dict[str, str],
    secret: str,
    *,
    students: int,
    days: int,
    seed: int,
    guardians: int,
    console: Console,
) -> LoadSchool:
    """A school from the seeder, its lessons scheduled and nothing recorded; teachers and
    ``guardians`` guardians signed in; every service's projections caught up with it."""
    now = datetime.now(RIGA)
    year = SchoolYear.of(current_school_year(now.date()))
    options = SeedOptions(
        schools=1, year=year, days=days, seed=seed, max_students=students, concurrency=16
    )
    client = Stack(urls, concurrency=16, settle_seconds=90.0)
    seeder = Seeder(client, options, secret, now)
    run = SchoolRun(plan_school(seed, 0, year, students))
    try:
        with console.status("creating the school through the APIs…"):
            await seeder.register(run)
            await seeder.hire_staff(run)
            await seeder.open_classes(run)
            await seeder.enrol_families(run)
            await seeder.build_timetables(run)
        if client.stats.errors:
            raise RuntimeError(f"the school could not be created: {client.stats.messages}")
        with console.status("signing in teachers and guardians…"):
            books = await _books(seeder, run)
            families = await _families(seeder, run, guardians)
            for book in books:
                book.probe = next(((s, g) for g, s in families if s in book.students), None)
        with console.status("waiting for every service to have seen the school…"):
            await _settle(client, books, families, seeder.days)
        if client.stats.errors:
            raise RuntimeError(f"the school did not settle: {client.stats.messages}")
    finally:
        await client.close()
    return LoadSchool(run, books, families, seeder.days)


async def _books(seeder: Seeder, run: SchoolRun) -> list[Book]:
    by_key: dict[tuple[str, str], list[LessonWork]] = defaultdict(list)
    classes = {c.key: c for c in run.plan.classes}
    for (class_key, day, period), lesson_id in sorted(run.lessons.items()):
        slot = next(
            s
            for s in classes[class_key].slots
            if s.weekday == day.isoweekday() and s.period == period
        )
        # Today's later lessons are scheduled but cannot be recorded before they begin (before
        # the first lesson of the day, today has none to record yet).
        if seeder.begun(day, slot):
            by_key[(class_key, slot.subject_key)].append(LessonWork(lesson_id, day))
    books = []
    for (class_key, subject_key), lessons in sorted(by_key.items()):
        school_class: SchoolClass = classes[class_key]
        teacher = school_class.teaching.get(subject_key)
        if teacher not in run.ids or subject_key not in run.subject_ids:
            continue
        books.append(
            Book(
                class_id=run.class_ids[class_key],
                subject_id=run.subject_ids[subject_key],
                grade_level=school_class.grade_level,
                teacher=await seeder.account(run, teacher),
                students=[run.ids[s] for s in school_class.students if s in run.ids],
                lessons=lessons,
            )
        )
    return books


async def _families(seeder: Seeder, run: SchoolRun, count: int) -> list[tuple[Session, str]]:
    found: list[tuple[Session, str]] = []
    for family in run.plan.families:
        if len(found) >= count:
            break
        guardian = next((g for g in family.guardians if g in run.ids), None)
        children = [c for c in family.children if c in run.ids]
        if guardian is None or not children:
            continue
        session = await seeder.account(run, guardian)
        found += [(session, run.ids[child]) for child in children]
    return found


async def _settle(
    client: Stack, books: list[Book], families: list[tuple[Session, str]], days: list[date]
) -> None:
    """One lesson of each book recorded, taken and graded, and each family's diary read, with
    patience: the services learn of the school from each other's events."""

    async def warm(book: Book) -> None:
        lesson = book.lessons[0]
        await client.call(
            "lessons",
            "POST",
            f"/lessons/{lesson.lesson_id}/record",
            book.teacher,
            eventual=True,
            json={"topic": "Ievadstunda", "no_homework": True},
        )
        await client.call(
            "attendance",
            "POST",
            f"/lessons/{lesson.lesson_id}/attendance",
            book.teacher,
            eventual=True,
            json={"all_present": True, "marks": []},
        )
        lesson.state = 2
        await client.call(
            "grading",
            "POST",
            f"/classes/{book.class_id}/subjects/{book.subject_id}/grades",
            book.teacher,
            eventual=True,
            json={
                "work": {"title": "Ievaddarbs", "kind": "oral", "lesson_id": lesson.lesson_id},
                "marks": [{"student_id": book.students[0], "value": _grade(book, random)}],
            },
        )

    async def read(who: Session, student: str) -> None:
        await client.call(
            "reporting",
            "GET",
            f"/students/{student}/diary",
            who,
            eventual=True,
            params={"on": days[-1].isoformat()},
        )

    await asyncio.gather(*(warm(b) for b in books if b.students), return_exceptions=True)
    await asyncio.gather(*(read(g, s) for g, s in families), return_exceptions=True)


def _grade(book: Book, rng: random.Random | Any) -> str:
    points = max(1, min(10, round(rng.gauss(7, 1.5))))
    return LEVELS[min(3, (points - 1) // 3)] if book.grade_level <= 3 else str(points)


class LoadRunner:
    """Sends the rush: paced commands by teachers, paced diary reads by guardians, and lag probes.

    ``retry_outages``: 5xx outages and transport errors are retried with the same key (the
    chaos test); otherwise they are errors (the benchmark)."""

    def __init__(
        self,
        urls: dict[str, str],
        school: LoadSchool,
        *,
        rate: float,
        read_rate: float,
        writers: int = 32,
        readers: int = 32,
        probe_interval: float = 0.25,
        retry_outages: bool = False,
        seed: int = 1,
    ) -> None:
        self.urls = urls
        self.school = school
        self.rate = rate
        self.read_rate = read_rate
        self.writers = max(1, min(writers, len(school.books)))
        self.readers = readers if read_rate > 0 and school.families else 0
        self.probe_interval = probe_interval
        self.retry_outages = retry_outages
        self.rng = random.Random(seed)
        self.figures = Figures()
        self.loop_lag = LoopLag()
        # aiohttp, not httpx: at a thousand requests a second httpx's pool costs more CPU than
        # the services answering, and the figures would be the load generator's. Idle
        # connections are dropped before uvicorn's 5 s keep-alive closes them, so a request
        # never races the server closing its connection. Both ends set TCP_NODELAY (aiohttp on
        # its connections, uvloop on every TCP transport uvicorn accepts), so no POST waits on
        # Nagle for a delayed ACK.
        self.http = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=30.0),
            connector=aiohttp.TCPConnector(limit=256, keepalive_timeout=3.0),
            trace_configs=[self._connection_counter()],
        )
        self.books: asyncio.Queue[Book] = asyncio.Queue()
        for book in school.books:
            if book.students:
                self.books.put_nowait(book)
        self._last_probe = 0.0
        self._watchers: set[asyncio.Task[None]] = set()
        self.started = 0.0
        self.elapsed = 0.0

    async def close(self) -> None:
        await self.http.close()

    def _connection_counter(self) -> aiohttp.TraceConfig:
        """Counts new and reused connections: a paced client whose connections expire between
        its requests pays a TCP handshake (and the server an accept) on every one."""
        trace = aiohttp.TraceConfig()

        async def opened(*_: Any) -> None:
            self.figures.connections_opened += 1

        async def reused(*_: Any) -> None:
            self.figures.connections_reused += 1

        trace.on_connection_create_end.append(opened)
        trace.on_connection_reuseconn.append(reused)
        return trace

    async def refresh_tokens(self, lasting: float) -> int:
        """Signs in again, before the load, everyone whose token would expire within
        ``lasting`` seconds: otherwise the tokens of a school signed in at once expire at once,
        mid-run, and a storm of sign-ins (argon2) lands on identity inside the measurement."""
        sessions = {id(b.teacher): b.teacher for b in self.school.books}
        sessions |= {id(g): g for g, _ in self.school.families}
        expiring = [s for s in sessions.values() if _expires_in(s.token) < lasting]
        few = asyncio.Semaphore(4)  # identity hashes each password: a few at a time

        async def sign_in(who: Session) -> None:
            async with few:
                await self._sign_in(who, stale=who.token)

        await asyncio.gather(*(sign_in(who) for who in expiring))
        return len(expiring)

    # --- one request ---------------------------------------------------------------------------

    async def send(
        self,
        endpoint: str,
        service: str,
        method: str,
        path: str,
        who: Session,
        *,
        record: bool = True,
        parse: bool = True,
        **kw: Any,
    ) -> Any:
        """The JSON answer (``parse``; else its bytes), or None after counting the failure."""
        command = method != "GET"
        headers = {"X-Correlation-ID": str(uuid.uuid4())}
        if command:
            headers["Idempotency-Key"] = str(uuid.uuid4())
        url = f"{self.urls[service]}/api/{service}{path}"
        reauthenticated = False
        deadline = time.monotonic() + 120.0
        delay = 0.1
        while True:
            headers["Authorization"] = f"Bearer {await self._token(who)}"
            started = time.perf_counter()
            problem = ""
            status, body = 0, b""
            try:
                async with self.http.request(method, url, headers=headers, **kw) as response:
                    status, body = response.status, await response.read()
            except (aiohttp.ClientError, TimeoutError) as exc:
                problem = f"{endpoint}: {type(exc).__name__} {exc}"
            ms = (time.perf_counter() - started) * 1000
            if status:
                if status < 300:
                    if record:
                        self.figures.latencies[endpoint].append(ms)
                    if command:
                        self.figures.acknowledged[service].append(headers["X-Correlation-ID"])
                    if not parse:
                        return body
                    return json.loads(body) if body else None
                if status == 401 and not reauthenticated:
                    reauthenticated = True
                    self.figures.reauthentications += 1
                    await self._sign_in(who, stale=headers["Authorization"][7:])
                    continue
                problem = f"{endpoint}: {status} {body[:300].decode(errors='replace')}"
                outage = status in OUTAGE
            else:
                outage = True
            if not (self.retry_outages and outage) or time.monotonic() > deadline:
                self.figures.fail(problem)
                return None
            self.figures.retries += 1
            await asyncio.sleep(delay)
            delay = min(delay * 2, 1.0)

    async def _token(self, who: Session) -> str:
        if not who.token:
            await self._sign_in(who, stale="")
        return who.token

    async def _sign_in(self, who: Session, stale: str) -> None:
        async with who.lock:
            if who.token and who.token != stale:
                return
            url = f"{self.urls['identity']}/api/identity/sign-in"
            for _ in range(120):
                with contextlib.suppress(aiohttp.ClientError, TimeoutError):
                    credentials = {"username": who.username, "password": PASSWORD}
                    async with self.http.post(url, json=credentials) as signed:
                        status, text = signed.status, await signed.text()
                    if status == 200:
                        who.token = json.loads(text)["access_token"]
                        return
                    if status not in OUTAGE or not self.retry_outages:
                        raise RuntimeError(f"sign-in refused: {status} {text}")
                await asyncio.sleep(0.5)
            raise RuntimeError("identity did not come back to sign in")

    # --- what teachers and guardians do ----------------------------------------------------

    async def command(self, book: Book) -> None:
        """The book's next step: an unrecorded lesson is recorded, then its attendance taken;
        after that, grades (most often) or a corrected record."""
        rng = self.rng
        lesson = next((x for x in book.lessons if x.state < 2), None)
        if lesson is not None and lesson.state == 0:
            body: dict[str, Any] = {"topic": f"Tēma {rng.randrange(10**6)}", "no_homework": True}
            if rng.random() < 0.4:
                body = {
                    "topic": body["topic"],
                    "homework": {"text": "Uzdevumi mācību grāmatā", "due_date": _due(lesson)},
                }
            done = await self.send(
                ENDPOINTS[0],
                "lessons",
                "POST",
                f"/lessons/{lesson.lesson_id}/record",
                book.teacher,
                json=body,
            )
            lesson.state += done is not None
            return
        if lesson is not None:
            absent = [s for s in book.students if rng.random() < 0.07]
            done = await self.send(
                ENDPOINTS[1],
                "attendance",
                "POST",
                f"/lessons/{lesson.lesson_id}/attendance",
                book.teacher,
                json={"all_present": not absent, "marks": [{"student_id": s} for s in absent]},
            )
            lesson.state += done is not None
            return
        lesson = rng.choice(book.lessons)
        if rng.random() < 0.75:
            await self.grade(book, lesson)
            return
        await self.send(
            ENDPOINTS[3],
            "lessons",
            "POST",
            f"/lessons/{lesson.lesson_id}/corrections",
            book.teacher,
            json={"topic": f"Tēma {rng.randrange(10**6)}", "no_homework": True, "reason": "Labots"},
        )

    async def grade(self, book: Book, lesson: LessonWork) -> None:
        rng = self.rng
        graded = rng.sample(book.students, k=min(len(book.students), rng.randint(1, 3)))
        probe = None
        now = time.monotonic()
        if book.probe is not None and now - self._last_probe >= self.probe_interval:
            self._last_probe = now
            probe = book.probe
            if probe[0] not in graded:
                graded.append(probe[0])
        body = {
            "work": {"title": "Darbs stundā", "kind": "classwork", "lesson_id": lesson.lesson_id},
            "marks": [{"student_id": s, "value": _grade(book, rng)} for s in graded],
        }
        done = await self.send(
            ENDPOINTS[2],
            "grading",
            "POST",
            f"/classes/{book.class_id}/subjects/{book.subject_id}/grades",
            book.teacher,
            json=body,
        )
        if done is None or probe is None:
            return
        acked = time.monotonic()
        grade_id = next(g["grade_id"] for g in done["grades"] if g["student_id"] == probe[0])
        task = asyncio.create_task(self.follow(probe, grade_id, lesson.day, acked))
        self._watchers.add(task)
        task.add_done_callback(self._watchers.discard)

    async def follow(
        self, probe: tuple[str, Session], grade_id: str, day: date, acked: float
    ) -> None:
        """Read the guardian's diary until the grade is there: the end-to-end lag."""
        student, guardian = probe
        while time.monotonic() - acked < 30.0:
            diary = await self.send(
                "probe",
                "reporting",
                "GET",
                f"/students/{student}/diary",
                guardian,
                record=False,
                params={"on": day.isoformat()},
            )
            self.figures.probe_reads += 1
            if diary is not None:
                grades = [g for x in diary["lessons"] for g in x["grades"]]
                if any(g["grade_id"] == grade_id for g in grades + diary["other_grades"]):
                    lag = (time.monotonic() - acked) * 1000
                    self.figures.lags.append(lag)
                    self.figures.lag_log.append((acked, lag))
                    return
            await asyncio.sleep(0.02)
        self.figures.lag_unseen += 1

    async def read(self) -> None:
        guardian, student = self.rng.choice(self.school.families)
        day = self.rng.choice(self.school.days)
        await self.send(
            DIARY,
            "reporting",
            "GET",
            f"/students/{student}/diary",
            guardian,
            parse=False,
            params={"on": day.isoformat()},
        )

    # --- pacing ------------------------------------------------------------------------------

    async def _writer(self, first: float, until: float | None, stop: asyncio.Event) -> None:
        interval = self.writers / self.rate
        due = first
        while not stop.is_set() and (until is None or due < until):
            await _wait_until(due, stop)
            if until is not None and time.monotonic() >= until:
                return
            book = await self.books.get()
            try:
                await self.command(book)
            finally:
                self.books.put_nowait(book)
            due += interval

    async def _reader(self, first: float, until: float | None, stop: asyncio.Event) -> None:
        interval = self.readers / self.read_rate
        due = first
        while not stop.is_set() and (until is None or due < until):
            await _wait_until(due, stop)
            if until is not None and time.monotonic() >= until:
                return
            await self.read()
            due += interval

    async def run(self, duration: float | None, stop: asyncio.Event | None = None) -> None:
        """For ``duration`` seconds, or until ``stop`` is set; then waits for the lag probes."""
        stop = stop or asyncio.Event()
        self.started = time.monotonic()
        until = None if duration is None else self.started + duration
        tasks = [
            self._writer(self.started + offset, until, stop)
            for offset in stagger(self.writers, self.rate)
        ]
        if self.readers:
            tasks += [
                self._reader(self.started + offset, until, stop)
                for offset in stagger(self.readers, self.read_rate)
            ]
        probing = asyncio.create_task(self.loop_lag.run())
        try:
            await asyncio.gather(*tasks)
            self.elapsed = time.monotonic() - self.started
            if self._watchers:
                await asyncio.gather(*self._watchers)
        finally:
            probing.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await probing

    def results(self) -> dict[str, Any]:
        f = self.figures
        seconds = max(self.elapsed, 1e-9)
        commands = [ms for e in ENDPOINTS for ms in f.latencies.get(e, [])]
        diary = f.latencies.get(DIARY, [])
        endpoints = {
            name: {
                "count": len(f.latencies.get(name, [])),
                "per_s": rounded(len(f.latencies.get(name, [])) / seconds),
                **_percentiles(f.latencies.get(name, [])),
            }
            for name in (*ENDPOINTS, DIARY)
        }
        lag = _percentiles(f.lags)
        return {
            "duration_s": rounded(self.elapsed),
            "commands": len(commands),
            "commands_per_s": rounded(len(commands) / seconds),
            "command_ms_p50": _percentiles(commands)["p50"],
            "command_ms_p95": _percentiles(commands)["p95"],
            "command_ms_p99": _percentiles(commands)["p99"],
            "diary_reads": len(diary),
            "diary_reads_per_s": rounded(len(diary) / seconds),
            "diary_ms_p50": endpoints[DIARY]["p50"],
            "diary_ms_p95": endpoints[DIARY]["p95"],
            "diary_ms_p99": endpoints[DIARY]["p99"],
            "lag_ms_p50": lag["p50"],
            "lag_ms_p95": lag["p95"],
            "lag_ms_p99": lag["p99"],
            "lag_samples": len(f.lags),
            "lag_unseen_after_30_s": f.lag_unseen,
            "errors": f.errors,
            "error_messages": f.messages,
            "retries": f.retries,
            "reauthentications": f.reauthentications,
            "probe_reads": f.probe_reads,
            "connections_opened": f.connections_opened,
            "connections_reused": f.connections_reused,
            "client_loop_lag_ms": self.loop_lag.figures(),
            "endpoints": endpoints,
        }


def stagger(clients: int, rate: float) -> list[float]:
    """Each client's first due time after the start, in s: spread evenly over one interval
    (client i at i / rate), so that together they offer a steady stream of ``rate`` requests a
    second, not a burst of every client at once every ``clients / rate`` seconds."""
    return [i / rate for i in range(clients)]


def _expires_in(token: str) -> float:
    """Seconds until a JWT's ``exp`` (its payload read, not verified: only to sign in again in
    time); 0 for no or an unreadable token."""
    with contextlib.suppress(ValueError, IndexError, KeyError, TypeError):
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        return float(claims["exp"]) - time.time()
    return 0.0


class LoopLag:
    """The load client's own event-loop lag: a task sleeps ``tick`` seconds over and over and
    records how late it wakes. A client whose loop runs late times its own queueing, not the
    servers'."""

    def __init__(self, tick: float = 0.01) -> None:
        self.tick = tick
        self.samples: list[float] = []

    async def run(self) -> None:
        while True:
            asked = time.perf_counter()
            await asyncio.sleep(self.tick)
            self.samples.append(max(0.0, (time.perf_counter() - asked - self.tick) * 1000))

    def figures(self) -> dict[str, Any]:
        """p50/p99/max in ms, and whether the p99 exceeds ``CLIENT_LAG_LIMIT_MS``."""
        found = _percentiles(self.samples)
        p99 = found["p99"]
        return {
            "p50": found["p50"],
            "p99": p99,
            "max": rounded(max(self.samples)) if self.samples else None,
            "samples": len(self.samples),
            "limit_ms": CLIENT_LAG_LIMIT_MS,
            "distorted": p99 is not None and p99 > CLIENT_LAG_LIMIT_MS,
        }


async def _wait_until(due: float, stop: asyncio.Event) -> None:
    pause = due - time.monotonic()
    if pause > 0:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), pause)


def _due(lesson: LessonWork) -> str:
    return date.fromordinal(lesson.day.toordinal() + 7).isoformat()


def _percentiles(values: list[float]) -> dict[str, float | None]:
    """p50/p95/p99 in ms (None without samples)."""
    return {f"p{p}": rounded(percentile(values, p)) if values else None for p in (50, 95, 99)}


def met(figures: dict[str, Any]) -> dict[str, bool]:
    found = {}
    for key, (_, target) in TARGETS.items():
        value = figures.get(key)
        if value is None:
            found[key] = False
        elif key in AT_LEAST:
            found[key] = value >= target
        elif key == "errors":
            found[key] = value == target
        else:
            found[key] = value < target
    return found


@contextlib.asynccontextmanager
async def stack_for(stack_file: Path | None, console: Console) -> AsyncIterator[Path]:
    """``stack_file`` (a running ``ezurnals up``), or else a stack of its own, stopped after."""
    from ezurnals.tools.supervisor import Stack as Processes

    if stack_file is not None:
        yield stack_file
        return
    own = Processes(Path(tempfile.mkdtemp(prefix="ezurnals-bench-load-")), with_web=False)
    try:
        with console.status("starting a stack of its own (PostgreSQL, Kafka, every service)…"):
            await own.prepare()
            own.start_processes()
            await own.wait_healthy()
        yield own.write_stack_file()
    finally:
        await asyncio.to_thread(own.shutdown)


async def measure(
    urls: dict[str, str],
    school: LoadSchool,
    stack_file: Path,
    *,
    duration: float,
    rate: float,
    read_rate: float,
    writers: int,
    readers: int,
    seed: int,
    console: Console,
) -> dict[str, Any]:
    """One run of the rush at one offered load: the client's figures per endpoint beside the
    servers' own histograms for the same window, and the CPU every process used."""
    runner = LoadRunner(
        urls, school, rate=rate, read_rate=read_rate, writers=writers, readers=readers, seed=seed
    )
    try:
        async with ProcessSampler(stack_file) as sampler:
            # Sign-ins and scrapes happen outside the measured window.
            signed_in_again = await runner.refresh_tokens(duration + 120.0)
            services = sorted({service for service, _, _ in ROUTES.values()})
            before = await scrape(runner.http, urls, services)
            await sampler.sample(proportional=False)
            stop_sampling = asyncio.Event()
            sampling = asyncio.create_task(sampler.run(stop_sampling))
            try:
                offered = f"{rate:g} commands/s + {read_rate:g} diary reads/s"
                with console.status(f"{offered} for {duration:.0f} s…"):
                    await runner.run(duration)
            finally:
                stop_sampling.set()
                await sampling
            await sampler.sample(proportional=False)
            after = await scrape(runner.http, urls, services)
    finally:
        await runner.close()
    figures = runner.results()
    figures["signed_in_again_before"] = signed_in_again
    window = delta(before, after)
    server = summary(window, runner.elapsed)
    figures["server_routes"] = server
    figures["server_command_ms"] = combined(window, [ROUTES[e] for e in ENDPOINTS])
    figures["server_diary_ms"] = combined(window, [ROUTES[DIARY]])
    for name, (service, method, route) in ROUTES.items():
        figures["endpoints"][name]["server"] = server.get(f"{service} {method} {route}")
    figures["server_note"] = (
        "p50/p95/p99 estimated from the bucket deltas of each service's "
        "ezurnals_http_request_seconds (2xx only) between scrapes before and after the run; "
        "the diary route also counts the lag probe's reads"
    )
    figures["peak_memory_mb"] = dict(sorted(sampler.peak_mb.items()))
    figures["cpu_percent_of_one_core"] = sampler.cpu_percent()
    figures.update(cpu_costs(sampler.cpu_seconds(), figures))
    figures["sampler_ms_max"] = rounded(max(sampler.sample_ms)) if sampler.sample_ms else None
    return figures


def cpu_costs(used: dict[str, float], figures: dict[str, Any]) -> dict[str, Any]:
    """CPU ms per command and per diary read over the whole stack (the client not counted): the
    reporting API's CPU goes to the diary reads it answered (probes included), every other
    process's to the commands, whose events the workers, the broker and PostgreSQL carry."""
    stack = {name: s for name, s in used.items() if name not in (CLIENT, SAMPLER)}
    diary_cpu = stack.get("reporting-api", 0.0)
    command_cpu = sum(stack.values()) - diary_cpu
    reads = figures["diary_reads"] + figures["probe_reads"]
    requests = figures["commands"] + reads
    return {
        "cpu_seconds": {name: rounded(s) for name, s in sorted(used.items())},
        "stack_cpu_seconds": rounded(sum(stack.values())),
        "cpu_ms_per_command": rounded(1000 * command_cpu / figures["commands"])
        if figures["commands"]
        else None,
        "cpu_ms_per_diary_read": rounded(1000 * diary_cpu / reads) if reads else None,
        "stack_cpu_ms_per_request": rounded(1000 * sum(stack.values()) / requests)
        if requests
        else None,
        "cpu_attribution": "reporting-api → diary reads (and probe reads); every other "
        "process of the stack → commands; the load client and its sampler are not counted",
    }


async def run_bench_load(
    *,
    stack_file: Path | None,
    duration: float,
    rate: float,
    read_rate: float,
    students: int,
    days: int,
    writers: int,
    readers: int,
    guardians: int,
    seed: int | None,
    console: Console,
) -> dict[str, Any]:
    """Against ``stack_file`` (a running ``ezurnals up``), or else a stack of its own."""
    from ezurnals.tools.seed import load_urls, operator_secret

    async with stack_for(stack_file, console) as stack:
        urls = load_urls(None, stack)
        seed = seed if seed is not None else random.randrange(10**9)
        school = await prepare_school(
            urls,
            operator_secret(stack.parent),  # the stack's own files (the operator's secret)
            students=students,
            days=days,
            seed=seed,
            guardians=guardians,
            console=console,
        )
        figures = await measure(
            urls,
            school,
            stack,
            duration=duration,
            rate=rate,
            read_rate=read_rate,
            writers=writers,
            readers=readers,
            seed=seed,
            console=console,
        )
        figures["targets"] = {k: text for k, (text, _) in TARGETS.items()}
        figures["met"] = met(figures)
        figures["config"] = {
            "stack": str(stack_file) if stack_file else "started by bench load",
            "duration_s": duration,
            "paced_commands_per_s": rate,
            "paced_diary_reads_per_s": read_rate,
            **school_config(school, writers=writers, readers=readers, seed=seed),
        }
        print_figures(figures, console)
        return figures


def school_config(school: LoadSchool, *, writers: int, readers: int, seed: int) -> dict[str, Any]:
    """What was measured with: the school, the clients, the machine."""
    return {
        "writers": max(1, min(writers, len(school.books))),
        "readers": readers,
        "pacing": "each client open-loop on its own schedule; client i first due at i / rate",
        "students": sum(len(c.students) for c in school.run.plan.classes),
        "grade_books": len(school.books),
        "lessons": sum(len(b.lessons) for b in school.books),
        "guardians_reading": len({id(g) for g, _ in school.families}),
        "school_days": [d.isoformat() for d in school.days],
        "seed": seed,
        "lag": "201 of a grade → first diary read (every 20 ms) that shows it",
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "measured_at": datetime.now(RIGA).isoformat(timespec="seconds"),
    }


def ms(value: float | None) -> str:
    return "–" if value is None else f"{value:,.1f}"


def print_figures(f: dict[str, Any], console: Console) -> None:
    def spread(name: str) -> str:
        return " / ".join(ms(f[f"{name}_ms_{p}"]) for p in ("p50", "p95", "p99"))

    ok = f["met"]
    mark = {True: "[green]met[/]", False: "[red]not met[/]"}
    table = Table(title=f"ezurnals bench load ({f['duration_s']:.0f} s)")
    for col in ("figure", "measured", "target", ""):
        table.add_column(col)
    rows = (
        ("commands/s", f"{f['commands_per_s']:,.1f}", "commands_per_s"),
        ("command p50 / p95 / p99 ms", spread("command"), "command_ms_p99"),
        ("end-to-end lag p50 / p95 / p99 ms", spread("lag"), "lag_ms_p99"),
        ("diary reads/s", f"{f['diary_reads_per_s']:,.1f}", "diary_reads_per_s"),
        ("diary p50 / p95 / p99 ms", spread("diary"), "diary_ms_p99"),
        ("errors", str(f["errors"]), "errors"),
    )
    for label, measured, target in rows:
        table.add_row(label, measured, TARGETS[target][0], mark[ok[target]])
    table.add_row(*client_lag_row(f["client_loop_lag_ms"]))
    table.add_row("CPU ms per command", ms(f["cpu_ms_per_command"]), "≤ 3 ms", "")
    table.add_row("CPU ms per diary read", ms(f["cpu_ms_per_diary_read"]), "≤ 1 ms", "")
    console.print(table)
    print_endpoints(f["endpoints"], console)
    memory = Table(title="per process: peak memory, CPU over the run")
    memory.add_column("process")
    memory.add_column("peak MB", justify="right")
    memory.add_column("CPU % of one core", justify="right")
    cpu = f.get("cpu_percent_of_one_core", {})
    for name, mb in f["peak_memory_mb"].items():
        memory.add_row(name, f"{mb:,.1f}", f"{cpu[name]:.0f}" if name in cpu else "")
    console.print(memory)
    print_distortion(f, console)
    for message in f["error_messages"]:
        console.print(f"[red]•[/] {message}")


def client_lag_row(lag: dict[str, Any]) -> tuple[str, str, str, str]:
    """The client's own event-loop lag, flagged when it could distort the figures."""
    measured = f"{ms(lag['p50'])} / {ms(lag['p99'])} / {ms(lag['max'])}"
    flag = "[red]DISTORTED[/]" if lag["distorted"] else "[green]ok[/]"
    return ("client loop lag p50 / p99 / max ms", measured, f"p99 ≤ {lag['limit_ms']:g} ms", flag)


def print_endpoints(endpoints: dict[str, Any], console: Console, title: str = "") -> None:
    """Per endpoint, the client's percentiles beside the server's own histogram's."""
    per = Table(title=title or "per endpoint: client | server (its /metrics histogram)")
    for col in ("endpoint", "count", "per s", "client p50 / p95 / p99 ms", "server count"):
        per.add_column(col, justify="left" if col == "endpoint" else "right")
    per.add_column("server p50 / p95 / p99 ms", justify="right")
    for name, e in endpoints.items():
        server = e.get("server") or {}
        per.add_row(
            name,
            str(e["count"]),
            f"{e['per_s']:,.1f}",
            " / ".join(ms(e[p]) for p in ("p50", "p95", "p99")),
            str(server.get("count", "–")),
            " / ".join(ms(server.get(p)) for p in ("p50", "p95", "p99")),
        )
    console.print(per)


def print_distortion(f: dict[str, Any], console: Console) -> None:
    """What the client itself did that could weigh on what it measured."""
    lag = f["client_loop_lag_ms"]
    if lag["distorted"]:
        console.print(
            f"[red]the load client's own event loop ran {ms(lag['p99'])} ms late at p99 "
            f"(limit {lag['limit_ms']:g} ms): its latencies include its own queueing[/]"
        )
    console.print(
        f"client: {f['connections_opened']} connections opened, "
        f"{f['connections_reused']} reused; {f['probe_reads']} untimed lag-probe diary reads; "
        f"slowest process sample {ms(f.get('sampler_ms_max'))} ms; "
        f"{f.get('signed_in_again_before', 0)} signed in again before the run, "
        f"{f['reauthentications']} during it"
    )
