"""``ezurnals bench reporting``: reporting's read side measured in one run on one server and broker.

A synthetic school (by default 1,000 students in classes of 25, weeks of lessons, absences, grades
and the first semester's finalised grades) is published to the other services' topics as their
relays would, then: the worker's consumer applying it (events/s), report cards issued and rendered
(per student and per class PDF), the month's statements, and diary reads by concurrent guardians
over real HTTP against the reporting API served by uvicorn in its own process.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import platform
import random
import shutil
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import httpx
from rich.console import Console
from rich.table import Table

from ezurnals.reporting.documents import DisplayNames, report_cards_pdf
from ezurnals.reporting.handlers import issue_report_cards, issue_statements
from ezurnals.reporting.service import SERVICE
from ezurnals.shared.contracts import attendance as at
from ezurnals.shared.contracts import grading as gr
from ezurnals.shared.contracts import identity as idn
from ezurnals.shared.contracts import lessons as ls
from ezurnals.shared.contracts.base import EventEnvelope, IntegrationEvent
from ezurnals.shared.contracts.reporting import ReportPeriod
from ezurnals.shared.db import drop_database, ensure_database, plain_url
from ezurnals.shared.messaging import kafka
from ezurnals.shared.messaging.consumer import ProjectionRunner
from ezurnals.shared.messaging.kafka import all_topics, ensure_topics
from ezurnals.shared.runtime.infra import Infrastructure, free_port, provide
from ezurnals.shared.service import Runtime
from ezurnals.shared.settings import Settings
from ezurnals.shared.testing.auth import TestIssuer
from ezurnals.tools.figures import percentile, rounded

TARGETS = {
    "projection_events_per_s": ("≥ 5,000 per worker", 5000.0),
    "report_card_pdfs_per_s_student": ("≥ 100", 100.0),
    "report_card_pdfs_per_s_class": ("≥ 100", 100.0),
    "diary_ms_p99": ("< 50 ms", 50.0),
}
YEAR = "2025/2026"
FIRST_MONDAY = date(2025, 10, 6)
SUBJECTS = (
    ("latviesu_valoda", "Latviešu valoda", 105),
    ("matematika", "Matemātika", 175),
    ("anglu_valoda", "Angļu valoda", 105),
    ("dabaszinibas", "Dabaszinības", 70),
    ("vesture", "Latvijas un pasaules vēsture", 70),
    ("sports", "Sports un veselība", 105),
)


@dataclass
class SyntheticSchool:
    """Events of one school as identity, lessons, attendance and grading would publish them."""

    students: int
    weeks: int
    class_size: int = 25
    school_id: uuid.UUID = field(default_factory=uuid.uuid4)
    director: uuid.UUID = field(default_factory=uuid.uuid4)
    events: list[tuple[str, EventEnvelope]] = field(default_factory=list)
    guardians: dict[uuid.UUID, uuid.UUID] = field(default_factory=dict)
    _versions: dict[str, int] = field(default_factory=dict)

    def add(self, event: IntegrationEvent, stream: str) -> None:
        version = self._versions.get(stream, 0) + 1
        self._versions[stream] = version
        self.events.append(
            (
                event.service,
                EventEnvelope(
                    event_type=event.event_type,
                    schema_version=event.schema_version,
                    stream_id=stream,
                    stream_version=version,
                    school_id=self.school_id,
                    payload=event.model_dump(mode="json"),
                ),
            )
        )

    def build(self) -> SyntheticSchool:
        s = self.school_id
        school = f"school-{s}"
        self.add(
            idn.SchoolRegistered(school_id=s, name="Bench vidusskola", time_zone="Europe/Riga"),
            school,
        )
        semester = idn.Semester(number=1, first_day=date(2025, 9, 1), last_day=date(2025, 12, 19))
        spring = idn.Semester(number=2, first_day=date(2026, 1, 5), last_day=date(2026, 5, 29))
        self.add(
            idn.SchoolYearDefined(school_id=s, school_year=YEAR, semesters=(semester, spring)),
            school,
        )
        self.add(
            idn.StaffMemberHired(
                school_id=s,
                person_id=self.director,
                roles=(idn.Role("director"),),
                hired_on=date(2025, 8, 25),
            ),
            f"staff-{self.director}",
        )
        subjects = [uuid.uuid4() for _ in SUBJECTS]
        for subject_id, (key, name, hours) in zip(subjects, SUBJECTS, strict=True):
            self.add(
                ls.SubjectDefined(
                    subject_id=subject_id,
                    school_id=s,
                    name_key=key,
                    name=name,
                    curriculum_hours={7: hours},
                ),
                f"subject-{subject_id}",
            )
        classes = (self.students + self.class_size - 1) // self.class_size
        for c in range(classes):
            size = min(self.class_size, self.students - c * self.class_size)
            self._class(c, [uuid.uuid4() for _ in range(size)], subjects)
        return self

    def _class(self, number: int, roll: list[uuid.UUID], subjects: list[uuid.UUID]) -> None:
        s, class_id, teacher = self.school_id, uuid.uuid4(), uuid.uuid4()
        self.add(
            idn.ClassOpened(
                school_id=s, class_id=class_id, school_year=YEAR, grade_level=7, label=f"7.{number}"
            ),
            f"school-{s}",
        )
        staffing = f"class-staffing-{class_id}"
        self.add(
            idn.ClassTeacherAssigned(
                school_id=s, class_id=class_id, teacher_id=teacher, valid_from=date(2025, 9, 1)
            ),
            staffing,
        )
        for subject_id in subjects:
            self.add(
                idn.TeachingAssigned(
                    school_id=s,
                    assignment_id=uuid.uuid4(),
                    class_id=class_id,
                    teacher_id=teacher,
                    subject_id=subject_id,
                    valid_from=date(2025, 9, 1),
                ),
                staffing,
            )
        for student in roll:
            guardian = uuid.uuid4()
            self.guardians[guardian] = student
            self.add(
                idn.StudentEnrolled(
                    school_id=s,
                    student_id=student,
                    class_id=class_id,
                    school_year=YEAR,
                    enrolled_on=date(2025, 9, 1),
                ),
                f"roll-{s}-{YEAR}",
            )
            self.add(
                idn.GuardianLinked(
                    school_id=s,
                    guardian_id=guardian,
                    student_id=student,
                    linked_on=date(2025, 9, 1),
                    restricted=False,
                ),
                f"guardianship-{student}",
            )
        lesson_count = 0
        for week in range(self.weeks):
            for weekday in range(5):
                day = FIRST_MONDAY + timedelta(days=7 * week + weekday)
                for period in range(1, 7):
                    subject_id = subjects[(weekday + period) % len(subjects)]
                    lesson_id = self._lesson(class_id, subject_id, teacher, day, period)
                    lesson_count += 1
                    absent = roll[lesson_count % len(roll)]
                    self.add(
                        at.AbsenceRecorded(
                            absence_id=uuid.uuid5(lesson_id, str(absent)),
                            student_id=absent,
                            lesson_id=lesson_id,
                            class_id=class_id,
                            date=day,
                            code="n",
                            counts_as_absence=True,
                            is_late=False,
                            excused_by_code=False,
                            recorded_by=teacher,
                            revision=1,
                        ),
                        f"lesson-attendance-{lesson_id}",
                    )
                    graded = roll[(lesson_count * 7) % len(roll)]
                    self._grade(
                        class_id, subject_id, teacher, graded, day, lesson_id, 4 + lesson_count % 7
                    )
        for student in roll:
            for i, subject_id in enumerate(subjects):
                self.add(
                    gr.GradeFinalized(
                        school_id=s,
                        class_id=class_id,
                        subject_id=subject_id,
                        school_year=YEAR,
                        student_id=student,
                        period=gr.PeriodKind.SEMESTER1,
                        scale=gr.ScaleKind.TEN_POINT,
                        value=str(5 + i),
                        points=5 + i,
                        finalized_at=datetime(2025, 12, 19, 12, tzinfo=UTC),
                    ),
                    f"period-grades-{class_id}-{subject_id}-semester1",
                )

    def _lesson(
        self, class_id: uuid.UUID, subject_id: uuid.UUID, teacher: uuid.UUID, day: date, period: int
    ) -> uuid.UUID:
        lesson_id = uuid.uuid4()
        stream = f"lesson-{lesson_id}"
        self.add(
            ls.LessonScheduled(
                lesson_id=lesson_id,
                school_id=self.school_id,
                timetable_id=uuid.uuid4(),
                slot_id=uuid.uuid4(),
                class_id=class_id,
                subject_id=subject_id,
                teacher_id=teacher,
                lesson_date=day,
                starts_at=clock(7 + period, 0),
                ends_at=clock(7 + period, 40),
                period=period,
                grade_level=7,
            ),
            stream,
        )
        self.add(
            ls.LessonRecorded(
                lesson_id=lesson_id, recorded_by=teacher, topic="Tēma", no_homework=True
            ),
            stream,
        )
        return lesson_id

    def _grade(
        self,
        class_id: uuid.UUID,
        subject_id: uuid.UUID,
        teacher: uuid.UUID,
        student: uuid.UUID,
        day: date,
        lesson_id: uuid.UUID,
        value: int,
    ) -> None:
        self.add(
            gr.GradeRecorded(
                school_id=self.school_id,
                class_id=class_id,
                subject_id=subject_id,
                school_year=YEAR,
                grade_id=uuid.uuid4(),
                student_id=student,
                lesson_id=lesson_id,
                term=gr.Term.SEMESTER1,
                given_on=day,
                work_title="Kontroldarbs",
                work_kind=gr.WorkKind.TEST,
                summative=True,
                scale=gr.ScaleKind.TEN_POINT,
                value=str(value),
                points=value,
                recorded_by=teacher,
                recorded_at=datetime.combine(day, clock(12, 0), tzinfo=UTC),
            ),
            f"grades-{class_id}-{subject_id}-{student}",
        )


async def publish(settings: Settings, events: list[tuple[str, EventEnvelope]]) -> None:
    producer = kafka.producer(settings)
    await producer.start()
    try:
        for service, env in events:
            await producer.send(
                settings.topic(service),
                key=env.stream_id.encode(),
                value=env.model_dump_json().encode(),
            )
        await producer.flush()
    finally:
        await producer.stop()


async def bench_projection(rt: Runtime, settings: Settings, expected: int) -> float:
    """Events/s of one worker's consumer over everything published, from the arrival of its
    first records until the last is applied."""
    producer = kafka.producer(settings)
    await producer.start()
    stop = asyncio.Event()
    runner = ProjectionRunner(rt.db, settings, SERVICE.all_projections(settings))
    task = asyncio.create_task(runner.run(stop, producer))
    sql = "SELECT count(*) FROM rm.processed_events"

    async def count() -> int:
        async with rt.db.raw() as conn:
            try:
                return int(await conn.fetchval(sql) or 0)
            except asyncpg.UndefinedTableError:  # until the runner has installed the schema
                return 0

    try:
        while (done := await count()) < expected:
            if task.done():
                task.result()
            await asyncio.sleep(0.02)
        assert runner.first_fetch_at is not None
        elapsed = time.perf_counter() - runner.first_fetch_at
    finally:
        stop.set()
        await task
        await producer.stop()
    return done / elapsed


def _content(raw: Any) -> dict[str, Any]:
    value = json.loads(raw) if isinstance(raw, str) else raw
    assert isinstance(value, dict)
    return value


async def bench_report_cards(rt: Runtime, school_id: uuid.UUID) -> dict[str, float]:
    async with rt.db.raw() as conn:
        classes = await conn.fetch(
            "SELECT class_id, school_id, school_year, grade_level, label FROM rm.classes "
            "WHERE school_id = $1",
            school_id,
        )
    now = datetime.now(UTC)
    started = time.perf_counter()
    issued = 0
    for klass in classes:
        issued += (await issue_report_cards(rt, klass, ReportPeriod.SEMESTER1, now=now)).issued
    issue_s = time.perf_counter() - started
    async with rt.db.raw() as conn:
        rows = await conn.fetch(
            "SELECT class_id, content FROM report_cards WHERE school_id = $1", school_id
        )
    cards = [(r["class_id"], _content(r["content"])) for r in rows]
    names = DisplayNames({})
    workers = asyncio.Semaphore(os.cpu_count() or 2)

    async def render(batch: list[Mapping[str, Any]]) -> None:
        async with workers:
            await asyncio.to_thread(
                report_cards_pdf, school="Bench vidusskola", cards=batch, names=names
            )

    started = time.perf_counter()
    await asyncio.gather(*(render([card]) for _, card in cards))
    student_s = time.perf_counter() - started
    per_class: dict[uuid.UUID, list[Mapping[str, Any]]] = {}
    for class_id, card in cards:
        per_class.setdefault(class_id, []).append(card)
    started = time.perf_counter()
    await asyncio.gather(*(render(batch) for batch in per_class.values()))
    class_s = time.perf_counter() - started
    return {
        "report_cards_issued_per_s": issued / issue_s,
        "report_card_pdfs_per_s_student": len(cards) / student_s,
        "report_card_pdfs_per_s_class": len(cards) / class_s,
    }


async def bench_statements(rt: Runtime, school_id: uuid.UUID, students: int) -> dict[str, float]:
    started = time.perf_counter()
    run = await issue_statements(rt, school_id, "2025-10", now=datetime.now(UTC))
    elapsed = time.perf_counter() - started
    assert run.issued == students, f"{run.issued} statements issued for {students} students"
    return {"statements_total_s": elapsed, "statements_per_s": run.issued / elapsed}


@dataclass
class DiaryReads:
    """Latencies of the diary reads that succeeded, how many did not, and over how long."""

    latencies: list[float] = field(default_factory=list)
    failed: int = 0
    seconds: float = 0.0

    @property
    def ok_percent(self) -> float:
        total = len(self.latencies) + self.failed
        return 100.0 * len(self.latencies) / total if total else 0.0

    @property
    def per_s(self) -> float:
        return len(self.latencies) / self.seconds if self.seconds else 0.0


@contextlib.asynccontextmanager
async def reporting_api(settings: Settings, issuer: TestIssuer, pool: int) -> AsyncIterator[str]:
    """The reporting API served by uvicorn in a process of its own, as ``ezurnals up`` runs it."""
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": settings.database_url,
        "KAFKA_BOOTSTRAP_SERVERS": settings.kafka_bootstrap_servers,
        "EZURNALS_TOPIC_PREFIX": settings.topic_prefix,
        "EZURNALS_JWKS_URL": issuer.jwks_url,
        "EZURNALS_LOG_LEVEL": "WARNING",
        "EZURNALS_DB_POOL_SIZE": str(pool),
    }
    server = await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "ezurnals.cli.main", "serve", "api", "--service", "reporting"),
        *("--port", str(port)),
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(base_url=base, timeout=5) as client:
            deadline = time.monotonic() + 60
            while True:
                with contextlib.suppress(httpx.TransportError):
                    if (await client.get("/readyz")).status_code == 200:
                        break
                if time.monotonic() > deadline or server.returncode is not None:
                    error = b""
                    if server.returncode is not None and server.stderr is not None:
                        error = await server.stderr.read()
                    raise RuntimeError(f"the reporting API did not start: {error[-2000:]!r}")
                await asyncio.sleep(0.2)
        yield base
    finally:
        if server.returncode is None:
            server.terminate()
        await asyncio.wait_for(server.wait(), 30)


async def bench_diary(
    base: str,
    school: SyntheticSchool,
    issuer: TestIssuer,
    *,
    readers: int,
    reads: int,
    think_s: float,
    seed: int = 7,
) -> DiaryReads:
    """Diary reads by ``readers`` concurrent guardians over real HTTP.

    Each reader reads a week, looks at it for a random while (exponential, mean ``think_s``)
    and reads another, as people do; with ``think_s=0`` every reader asks again at once, which
    measures how many reads the one API process can answer at all (saturation). A read that
    fails (a refused connection, a 5xx) is counted, not fatal: how many fail is itself a figure.
    """
    guardians = list(school.guardians.items())
    result = DiaryReads()
    # aiohttp, not httpx: at hundreds of concurrent connections httpx spends more CPU per request
    # than the server answering it, and the figure would be the load generator's.
    connector = aiohttp.TCPConnector(limit=readers)
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(base, connector=connector, timeout=timeout) as client:

        async def reader(n: int) -> None:
            pace = random.Random(seed * 100_003 + n)
            guardian, student = guardians[n % len(guardians)]
            headers = issuer.headers(guardian, school.school_id, ["guardian"])
            if think_s:  # readers arrive spread out, not all in the same millisecond
                await asyncio.sleep(pace.uniform(0, think_s))
            for i in range(reads + 1):
                week = f"2025-W{41 + (n + i) % school.weeks}"
                started = time.perf_counter()
                try:
                    async with client.get(
                        f"/api/reporting/students/{student}/diary",
                        params={"week": week},
                        headers=headers,
                    ) as r:
                        await r.read()
                        status = r.status
                except (aiohttp.ClientError, TimeoutError):
                    result.failed += 1
                    continue
                elapsed = (time.perf_counter() - started) * 1000
                if status != 200:
                    result.failed += 1
                elif i:  # the first read of each reader opens its connection
                    result.latencies.append(elapsed)
                if think_s:
                    await asyncio.sleep(pace.expovariate(1 / think_s))

        started = time.perf_counter()
        await asyncio.gather(*(reader(n) for n in range(readers)))
        result.seconds = time.perf_counter() - started
    result.latencies.sort()
    return result


async def run_bench_reporting(
    *,
    students: int,
    weeks: int,
    readers: int,
    reads: int,
    console: Console,
    think_s: float = 1.0,
) -> dict[str, Any]:
    data_dir = Path(tempfile.mkdtemp(prefix="ezurnals-bench-reporting-"))
    infra: Infrastructure = await asyncio.to_thread(provide, data_dir)
    run = uuid.uuid4().hex[:6]
    name = f"ezbench_{run}_reporting"
    rt: Runtime | None = None
    try:
        await ensure_database(infra.database_url, name)
        settings = Settings(
            service="reporting",
            database_url=plain_url(infra.database_url, name),
            kafka_bootstrap_servers=infra.kafka_bootstrap_servers,
            topic_prefix=f"ezbench{run}.",
            db_pool_size=10,
            log_json=False,
        )
        await SERVICE.migrate(settings.database_url)
        await ensure_topics(settings, all_topics(settings))
        rt = Runtime.create(settings)
        figures: dict[str, Any] = {}
        with console.status(f"building a {students:,}-student school's events…"):
            school = SyntheticSchool(students=students, weeks=weeks).build()
        with console.status(f"publishing {len(school.events):,} events…"):
            await publish(settings, school.events)
        with console.status("the worker's consumer applying them…"):
            figures["projection_events_per_s"] = await bench_projection(
                rt, settings, len(school.events)
            )
        with console.status("report cards…"):
            figures.update(await bench_report_cards(rt, school.school_id))
        with console.status("monthly statements…"):
            figures.update(await bench_statements(rt, school.school_id, students))
        await rt.close()
        rt = None
        issuer = TestIssuer(data_dir / "keys")
        async with reporting_api(settings, issuer, pool=min(readers, 60)) as base:
            with console.status(f"diary reads by {readers} concurrent guardians…"):
                diary = await bench_diary(
                    base, school, issuer, readers=readers, reads=reads, think_s=think_s
                )
            with console.status(f"diary reads by {readers} readers asking without a pause…"):
                flat_out = await bench_diary(
                    base, school, issuer, readers=readers, reads=reads, think_s=0
                )
        figures["diary_ms_p50"] = percentile(diary.latencies, 50)
        figures["diary_ms_p99"] = percentile(diary.latencies, 99)
        figures["diary_reads_per_s"] = diary.per_s
        figures["diary_reads_ok_percent"] = diary.ok_percent
        figures["diary_saturated_reads_per_s"] = flat_out.per_s
        figures["diary_saturated_ms_p50"] = percentile(flat_out.latencies, 50)
        figures["diary_saturated_ms_p99"] = percentile(flat_out.latencies, 99)
        figures["diary_saturated_ok_percent"] = flat_out.ok_percent
        figures = {k: rounded(v) for k, v in figures.items()}
        figures["config"] = {
            "students": students,
            "events": len(school.events),
            "weeks": weeks,
            "readers": readers,
            "reads_per_reader": reads,
            "reader_think_s_mean": think_s,
            "diary_transport": "HTTP to uvicorn in a separate process on this machine",
            "postgres": infra.database_origin,
            "kafka": infra.kafka_origin,
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        _print(figures, console)
        return figures
    finally:
        if rt is not None:
            await rt.close()
        await drop_database(infra.database_url, name)
        infra.close()
        shutil.rmtree(data_dir, ignore_errors=True)


def _print(f: dict[str, Any], console: Console) -> None:
    table = Table(title=f"ezurnals bench reporting ({f['config']['students']:,} students)")
    for col in ("figure", "measured", "target", "note"):
        table.add_column(col)
    table.add_row(
        "projection events/s (one worker)",
        f"{f['projection_events_per_s']:,.0f}",
        TARGETS["projection_events_per_s"][0],
        f"{f['config']['events']:,} identity/lessons/attendance/grading events",
    )
    table.add_row(
        "report cards/s, one PDF per student",
        f"{f['report_card_pdfs_per_s_student']:,.1f}",
        TARGETS["report_card_pdfs_per_s_student"][0],
        f"issuing alone: {f['report_cards_issued_per_s']:,.0f}/s",
    )
    table.add_row(
        "report cards/s, one PDF per class",
        f"{f['report_card_pdfs_per_s_class']:,.1f}",
        TARGETS["report_card_pdfs_per_s_class"][0],
        "",
    )
    table.add_row(
        "monthly statements",
        f"{f['statements_per_s']:,.0f}/s",
        "ready on the 1st",
        f"{f['statements_total_s']:.1f} s for the school",
    )
    table.add_row(
        "diary p50 / p99 (ms)",
        f"{f['diary_ms_p50']:.1f} / {f['diary_ms_p99']:.1f}",
        TARGETS["diary_ms_p99"][0],
        f"{f['config']['readers']} concurrent readers (mean {f['config']['reader_think_s_mean']} s "
        f"between reads), {f['diary_reads_per_s']:,.0f} reads/s over real HTTP; "
        f"{f['diary_reads_ok_percent']:.1f} % answered",
    )
    table.add_row(
        "diary saturated: reads/s, p50 / p99 (ms)",
        f"{f['diary_saturated_reads_per_s']:,.0f}/s, "
        f"{f['diary_saturated_ms_p50']:.1f} / {f['diary_saturated_ms_p99']:.1f}",
        "reference",
        f"the same readers without a pause: one API process's capacity; "
        f"{f['diary_saturated_ok_percent']:.1f} % answered",
    )
    console.print(table)
