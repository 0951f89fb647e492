"""A school for the attendance API tests, fed to the service the way production feeds it:
identity's and lessons' events published to their topics, projected by the running worker.

Grade 5.a: Anna (guardian Gita), Bērziņš (guardian Rita, court-restricted), Cīrulis (of age,
decided to cut his guardian off). Teacher Tālis gives 5.a's lessons, Sandra substitutes one;
Klāra is 5.a's class teacher, Dace the deputy director. 6.b has Otto and its own class teacher.
"""

from __future__ import annotations

import datetime as dt
import itertools
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar
from uuid import UUID

import asyncpg
import httpx
import pytest

from ezurnals.attendance.service import SERVICE
from ezurnals.lessons.domain.policy import seed_rules_set
from ezurnals.shared.contracts.base import EventEnvelope
from ezurnals.shared.http.app import create_app
from ezurnals.shared.messaging import kafka
from ezurnals.shared.settings import Settings
from ezurnals.shared.testing.auth import TestIssuer
from ezurnals.shared.testing.stack import TestStack, eventually, running_worker

RIGA = dt.timezone(dt.timedelta(hours=3))  # summer time, right for the October days used
MON = dt.date(2025, 10, 6)
TUE = dt.date(2025, 10, 7)
WED = dt.date(2025, 10, 8)
THU = dt.date(2025, 10, 9)


def at(day: dt.date, hh: int, mm: int = 0) -> dt.datetime:
    """A Riga wall-clock time on ``day`` as a UTC instant."""
    return dt.datetime.combine(day, dt.time(hh, mm), RIGA).astimezone(dt.UTC)


@dataclass
class World:
    MON: ClassVar[dt.date] = MON
    TUE: ClassVar[dt.date] = TUE
    WED: ClassVar[dt.date] = WED
    THU: ClassVar[dt.date] = THU

    issuer: TestIssuer
    settings: Settings
    client: httpx.AsyncClient = field(init=False)
    school: UUID = field(default_factory=uuid.uuid4)
    class_5a: UUID = field(default_factory=uuid.uuid4)
    class_6b: UUID = field(default_factory=uuid.uuid4)
    anna: UUID = field(default_factory=uuid.uuid4)
    berzins: UUID = field(default_factory=uuid.uuid4)
    cirulis: UUID = field(default_factory=uuid.uuid4)
    otto: UUID = field(default_factory=uuid.uuid4)
    gita: UUID = field(default_factory=uuid.uuid4)
    rita: UUID = field(default_factory=uuid.uuid4)
    cirulis_parent: UUID = field(default_factory=uuid.uuid4)
    otto_parent: UUID = field(default_factory=uuid.uuid4)
    talis: UUID = field(default_factory=uuid.uuid4)
    sandra: UUID = field(default_factory=uuid.uuid4)
    klara: UUID = field(default_factory=uuid.uuid4)
    other_class_teacher: UUID = field(default_factory=uuid.uuid4)
    dace: UUID = field(default_factory=uuid.uuid4)
    #: lessons of 5.a per day (period 1..n), and one of 6.b per day
    lessons: dict[dt.date, list[UUID]] = field(default_factory=dict)
    lessons_6b: dict[dt.date, UUID] = field(default_factory=dict)
    now: dt.datetime = field(default_factory=lambda: at(MON, 9, 0))
    _versions: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    @staticmethod
    def at(day: dt.date, hh: int, mm: int = 0) -> dt.datetime:
        return at(day, hh, mm)

    def headers(self, person: UUID, *roles: str) -> dict[str, str]:
        return self.issuer.headers(person, self.school, roles)

    @property
    def teacher(self) -> dict[str, str]:
        return self.headers(self.talis, "teacher")

    @property
    def substitute(self) -> dict[str, str]:
        return self.headers(self.sandra, "teacher")

    @property
    def class_teacher(self) -> dict[str, str]:
        return self.headers(self.klara, "teacher", "class_teacher")

    @property
    def other_teacher(self) -> dict[str, str]:
        return self.headers(self.other_class_teacher, "teacher", "class_teacher")

    @property
    def deputy(self) -> dict[str, str]:
        return self.headers(self.dace, "deputy_director")

    @property
    def guardian(self) -> dict[str, str]:
        return self.headers(self.gita, "guardian")

    @property
    def restricted_guardian(self) -> dict[str, str]:
        return self.headers(self.rita, "guardian")

    def lesson(self, day: dt.date, period: int = 1) -> UUID:
        return self.lessons[day][period - 1]

    def identity_events(self) -> list[tuple[str, str, dict[str, Any]]]:
        s = str(self.school)
        y = "2025/2026"
        events: list[tuple[str, str, dict[str, Any]]] = [
            (
                "SchoolRegistered",
                f"school-{s}",
                {"name": "Rēzeknes 2. vsk.", "time_zone": "Europe/Riga"},
            ),
            (
                "SchoolYearDefined",
                f"school-{s}",
                {
                    "school_year": y,
                    "semesters": [
                        {"number": 1, "first_day": "2025-09-01", "last_day": "2025-12-19"},
                        {"number": 2, "first_day": "2026-01-05", "last_day": "2026-05-29"},
                    ],
                    "grade_end_dates": [{"grade_level": 12, "last_day": "2026-06-19"}],
                },
            ),
            (
                "ClassOpened",
                f"school-{s}",
                {"class_id": self.class_5a, "school_year": y, "grade_level": 5, "label": "a"},
            ),
            (
                "ClassOpened",
                f"school-{s}",
                {"class_id": self.class_6b, "school_year": y, "grade_level": 6, "label": "b"},
            ),
        ]
        for student, klass in (
            (self.anna, self.class_5a),
            (self.berzins, self.class_5a),
            (self.cirulis, self.class_5a),
            (self.otto, self.class_6b),
        ):
            events.append(
                (
                    "StudentEnrolled",
                    f"roll-{s}",
                    {
                        "student_id": student,
                        "class_id": klass,
                        "school_year": y,
                        "enrolled_on": "2025-09-01",
                    },
                )
            )
        for guardian, student, restricted in (
            (self.gita, self.anna, False),
            (self.rita, self.berzins, True),
            (self.cirulis_parent, self.cirulis, False),
            (self.otto_parent, self.otto, False),
        ):
            events.append(
                (
                    "GuardianLinked",
                    f"guardianship-{student}",
                    {
                        "guardian_id": guardian,
                        "student_id": student,
                        "linked_on": "2025-09-01",
                        "restricted": restricted,
                    },
                )
            )
        events.append(
            (
                "GuardianAccessDecided",
                f"guardianship-{self.cirulis}",
                {
                    "guardian_id": self.cirulis_parent,
                    "student_id": self.cirulis,
                    "keeps_access": False,
                    "decided_on": "2025-09-15",
                },
            )
        )
        for person, roles in (
            (self.talis, ["teacher"]),
            (self.sandra, ["teacher"]),
            (self.klara, ["teacher", "class_teacher"]),
            (self.other_class_teacher, ["teacher", "class_teacher"]),
            (self.dace, ["deputy_director"]),
        ):
            events.append(
                (
                    "StaffMemberHired",
                    f"employment-{person}",
                    {"person_id": person, "roles": roles, "hired_on": "2025-08-25"},
                )
            )
        for klass, teacher in (
            (self.class_5a, self.klara),
            (self.class_6b, self.other_class_teacher),
        ):
            events.append(
                (
                    "ClassTeacherAssigned",
                    f"class-staffing-{klass}",
                    {"class_id": klass, "teacher_id": teacher, "valid_from": "2025-09-01"},
                )
            )
        return [(t, stream, {"school_id": s, **payload}) for t, stream, payload in events]

    def lessons_events(self) -> list[tuple[str, str, dict[str, Any]]]:
        # What lessons appends when it learns the school was registered: the seed deadlines.
        seed = seed_rules_set(self.school)
        events: list[tuple[str, str, dict[str, Any]]] = [
            (seed.event_type, f"deadline-policy-{self.school}", seed.model_dump(mode="json"))
        ]
        for day in (MON, TUE, WED, THU):
            self.lessons[day] = [uuid.uuid4() for _ in range(3)]
            for period, lesson_id in enumerate(self.lessons[day], start=1):
                events.append(self._scheduled(lesson_id, self.class_5a, 5, day, period))
            self.lessons_6b[day] = uuid.uuid4()
            events.append(self._scheduled(self.lessons_6b[day], self.class_6b, 6, day, 1))
        substituted = self.lesson(TUE, 2)
        events.append(
            (
                "LessonSubstituted",
                f"lesson-{substituted}",
                {
                    "lesson_id": substituted,
                    "lesson_date": TUE.isoformat(),
                    "substitute_teacher_id": self.sandra,
                    "replaced_teacher_id": self.talis,
                },
            )
        )
        cancelled = self.lesson(THU, 3)
        events.append(
            (
                "LessonCancelled",
                f"lesson-{cancelled}",
                {"lesson_id": cancelled, "lesson_date": THU.isoformat(), "reason": "ekskursija"},
            )
        )
        return events

    def _scheduled(
        self, lesson_id: UUID, klass: UUID, grade: int, day: dt.date, period: int
    ) -> tuple[str, str, dict[str, Any]]:
        starts = dt.time(8 + (period - 1), 30)
        teacher = self.talis if klass == self.class_5a else self.other_class_teacher
        return (
            "LessonScheduled",
            f"lesson-{lesson_id}",
            {
                "lesson_id": lesson_id,
                "school_id": self.school,
                "timetable_id": uuid.uuid4(),
                "slot_id": uuid.uuid4(),
                "class_id": klass,
                "subject_id": uuid.uuid4(),
                "teacher_id": teacher,
                "lesson_date": day.isoformat(),
                "starts_at": starts.isoformat(),
                "ends_at": dt.time(starts.hour, 59).isoformat(),
                "period": period,
                "grade_level": grade,
            },
        )

    def envelope(self, event_type: str, stream: str, payload: dict[str, Any]) -> EventEnvelope:
        return EventEnvelope(
            event_type=event_type,
            schema_version=1,
            stream_id=stream,
            stream_version=next(self._versions),
            school_id=self.school,
            payload={k: str(v) if isinstance(v, UUID) else v for k, v in payload.items()},
        )

    async def publish(self, service: str, events: list[tuple[str, str, dict[str, Any]]]) -> None:
        producer = kafka.producer(self.settings)
        await producer.start()
        try:
            for event_type, stream, payload in events:
                env = self.envelope(event_type, stream, payload)
                await producer.send_and_wait(
                    self.settings.topic(service),
                    value=env.model_dump_json().encode(),
                    key=stream.encode(),
                )
        finally:
            await producer.stop()

    async def fetchval(self, sql: str, *args: Any) -> Any:
        conn = await asyncpg.connect(self.settings.database_url)
        try:
            return await conn.fetchval(sql, *args)
        finally:
            await conn.close()

    async def projected(self) -> bool:
        """Every identity and lessons fact of this school is in the read models."""
        try:
            lessons = await self.fetchval(
                "SELECT count(*) FROM rm.lessons WHERE school_id = $1", self.school
            )
            cancelled = await self.fetchval(
                "SELECT count(*) FROM rm.lessons WHERE school_id = $1 AND cancelled",
                self.school,
            )
            substituted = await self.fetchval(
                "SELECT count(*) FROM rm.lessons WHERE school_id = $1 "
                "AND substitute_teacher_id IS NOT NULL",
                self.school,
            )
            adults = await self.fetchval(
                "SELECT count(*) FROM rm.adult_students WHERE school_id = $1", self.school
            )
            staff = await self.fetchval(
                "SELECT count(*) FROM rm.staff WHERE school_id = $1", self.school
            )
            homerooms = await self.fetchval(
                "SELECT count(*) FROM rm.class_teachers WHERE school_id = $1", self.school
            )
            enrolled = await self.fetchval(
                "SELECT count(*) FROM rm.enrolments WHERE school_id = $1", self.school
            )
            links = await self.fetchval(
                "SELECT count(*) FROM rm.guardianships WHERE school_id = $1", self.school
            )
            zone = await self.fetchval(
                "SELECT count(*) FROM rm.schools WHERE school_id = $1", self.school
            )
            years = await self.fetchval(
                "SELECT count(*) FROM rm.school_years WHERE school_id = $1", self.school
            )
            policies = await self.fetchval(
                "SELECT count(*) FROM rm.entry_deadline_policies WHERE school_id = $1", self.school
            )
        except asyncpg.UndefinedTableError:
            return False
        return (
            lessons,
            cancelled,
            substituted,
            adults,
            staff,
            homerooms,
            enrolled,
            links,
            zone,
            years,
            policies,
        ) == (16, 1, 1, 1, 5, 2, 4, 4, 1, 1, 1)

    async def events_of(self, event_type: str) -> int:
        return int(
            await self.fetchval(
                "SELECT count(*) FROM events WHERE event_type = $1 AND school_id = $2",
                event_type,
                self.school,
            )
        )


@pytest.fixture(scope="module")
async def world(
    stack: TestStack, tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> AsyncIterator[World]:
    issuer = TestIssuer(Path(tmp_path_factory.mktemp("keys")))
    name = request.module.__name__.rsplit(".", 1)[-1].removeprefix("test_attendance_api_")
    settings = await stack.settings(SERVICE, database=f"att_{name}", jwks_url=issuer.jwks_url)
    w = World(issuer, settings)
    app = create_app(SERVICE, settings)
    app.state.clock = lambda: w.now
    async with running_worker(SERVICE, settings), app.router.lifespan_context(app):
        await w.publish("identity", w.identity_events())
        await w.publish("lessons", w.lessons_events())
        await eventually(w.projected, timeout=60, what="identity and lessons facts projected")
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            w.client = client
            yield w
