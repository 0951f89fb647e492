"""The grading service on the real stack: its API, its worker, and identity's and lessons' facts
published to their topics the way those services would.

One worker and one database serve every API test; each test builds its own school (fresh ids),
so tests never see each other's data.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any
from uuid import UUID

import asyncpg
import httpx
import pytest
from aiokafka import AIOKafkaProducer

from ezurnals.grading.service import SERVICE
from ezurnals.shared.contracts import identity as idn
from ezurnals.shared.contracts import lessons as les
from ezurnals.shared.contracts.base import EventEnvelope, IntegrationEvent
from ezurnals.shared.db import plain_url
from ezurnals.shared.messaging import kafka
from ezurnals.shared.settings import Settings
from ezurnals.shared.testing.auth import TestIssuer
from ezurnals.shared.testing.stack import TestStack, api_client, eventually, running_worker

YEAR = "2025/2026"
SEMESTERS = (
    idn.Semester(number=1, first_day=date(2025, 9, 1), last_day=date(2025, 12, 19)),
    idn.Semester(number=2, first_day=date(2026, 1, 5), last_day=date(2026, 5, 29)),
)
IN_SEMESTER1 = "2025-10-06"
IN_SEMESTER2 = "2026-02-10"
_versions = itertools.count(1)


@pytest.fixture(scope="session")
def issuer(tmp_path_factory: pytest.TempPathFactory) -> TestIssuer:
    return TestIssuer(Path(tmp_path_factory.mktemp("grading-keys")))


@pytest.fixture(scope="session")
async def settings(stack: TestStack, issuer: TestIssuer) -> Settings:
    return await stack.settings(SERVICE, database="grading_api", jwks_url=issuer.jwks_url)


@pytest.fixture(scope="session")
async def worker(settings: Settings) -> AsyncIterator[None]:
    async with running_worker(SERVICE, settings):
        yield


@pytest.fixture(scope="session")
async def producer(settings: Settings) -> AsyncIterator[AIOKafkaProducer]:
    started = kafka.producer(settings)
    await started.start()
    yield started
    await started.stop()


@pytest.fixture(scope="session")
async def db(settings: Settings) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(plain_url(settings.database_url))
    yield conn
    await conn.close()


@pytest.fixture(scope="session")
async def app(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """The API without a default caller: every request names who is calling."""
    async with api_client(SERVICE, settings) as client:
        yield client


@dataclass
class School:
    """One school as identity and lessons describe it, with helpers to act in it."""

    settings: Settings
    producer: AIOKafkaProducer
    db: asyncpg.Connection
    issuer: TestIssuer
    client: httpx.AsyncClient
    school_id: UUID = field(default_factory=uuid.uuid4)
    published: list[UUID] = field(default_factory=list)
    #: The staff roles identity has published for each person so far.
    staff_roles: dict[UUID, tuple[idn.Role, ...]] = field(default_factory=dict)

    # --- facts from other services ---

    async def publish(self, service: str, stream: str, *events: IntegrationEvent) -> None:
        for event in events:
            envelope = EventEnvelope(
                event_type=event.event_type,
                schema_version=event.schema_version,
                stream_id=stream,
                stream_version=next(_versions),
                school_id=self.school_id,
                payload=event.model_dump(mode="json"),
            )
            await self.producer.send_and_wait(
                self.settings.topic(service),
                key=stream.encode(),
                value=envelope.model_dump_json().encode(),
            )
            self.published.append(envelope.event_id)

    async def identity(self, stream: str, *events: IntegrationEvent) -> None:
        await self.publish("identity", stream, *events)

    async def settled(self) -> None:
        """Wait until the worker has applied everything published so far."""
        wanted = list(self.published)

        async def applied() -> bool:
            try:
                n = await self.db.fetchval(
                    "SELECT count(DISTINCT event_id) FROM rm.processed_events "
                    "WHERE event_id = ANY($1::uuid[])",
                    wanted,
                )
            except asyncpg.UndefinedTableError:  # the worker has not installed its schema yet
                return False
            return bool(n == len(wanted))

        await eventually(applied, what="identity and lessons facts projected")

    async def register(self) -> None:
        s = self.school_id
        await self.identity(
            f"school-{s}",
            idn.SchoolRegistered(school_id=s, name="Rīgas 1. vidusskola"),
            idn.SchoolYearDefined(school_id=s, school_year=YEAR, semesters=SEMESTERS),
        )

    async def open_class(self, grade_level: int, label: str) -> UUID:
        class_id = uuid.uuid4()
        await self.identity(
            f"school-{self.school_id}",
            idn.ClassOpened(
                school_id=self.school_id,
                class_id=class_id,
                school_year=YEAR,
                grade_level=grade_level,
                label=label,
            ),
        )
        return class_id

    async def subject(self, name: str) -> UUID:
        subject_id = uuid.uuid4()
        await self.publish(
            "lessons",
            f"subject-{subject_id}",
            les.SubjectDefined(
                subject_id=subject_id,
                school_id=self.school_id,
                name_key=f"s-{subject_id.hex[:12]}",
                name=name,
            ),
        )
        return subject_id

    async def enrol(self, class_id: UUID, count: int) -> list[UUID]:
        students = [uuid.uuid4() for _ in range(count)]
        await self.identity(
            f"roll-{self.school_id}-{YEAR}",
            *(
                idn.StudentEnrolled(
                    school_id=self.school_id,
                    student_id=s,
                    class_id=class_id,
                    school_year=YEAR,
                    enrolled_on=date(2025, 9, 1),
                )
                for s in students
            ),
        )
        return students

    async def hire(self, person: UUID, *roles: str) -> None:
        """Identity's staff facts: hired with ``roles``, or ``roles`` added to those held."""
        stream = f"employment-{person}"
        held = self.staff_roles.get(person)
        wanted = tuple(sorted({*(held or ()), *(idn.Role(r) for r in roles)}))
        self.staff_roles[person] = wanted
        if held is None:
            hired = idn.StaffMemberHired(
                school_id=self.school_id, person_id=person, roles=wanted, hired_on=date(2025, 8, 25)
            )
            await self.identity(stream, hired)
        elif wanted != held:
            changed = idn.StaffRolesChanged(
                school_id=self.school_id,
                person_id=person,
                roles=wanted,
                changed_on=date(2025, 9, 1),
            )
            await self.identity(stream, changed)

    async def staff(self, *roles: str) -> dict[str, str]:
        """A new staff member with ``roles``, known to the service, as a caller."""
        person = uuid.uuid4()
        await self.hire(person, *roles)
        await self.settled()
        return self.as_(person, *roles)

    async def assign(self, teacher: UUID, class_id: UUID, subject_id: UUID, **extra: Any) -> UUID:
        """Teaching is assigned to a teacher on the school's staff."""
        await self.hire(teacher, "teacher")
        assignment = uuid.uuid4()
        await self.identity(
            f"class-staffing-{class_id}",
            idn.TeachingAssigned(
                school_id=self.school_id,
                assignment_id=assignment,
                class_id=class_id,
                teacher_id=teacher,
                subject_id=subject_id,
                valid_from=extra.pop("valid_from", date(2025, 9, 1)),
                **extra,
            ),
        )
        return assignment

    async def link(self, guardian: UUID, student: UUID, *, restricted: bool = False) -> None:
        await self.identity(
            f"guardianship-{student}",
            idn.GuardianLinked(
                school_id=self.school_id,
                guardian_id=guardian,
                student_id=student,
                linked_on=date(2025, 9, 1),
                restricted=restricted,
            ),
        )

    # --- callers ---

    def as_(self, person: UUID, *roles: str) -> dict[str, str]:
        return self.issuer.headers(person, self.school_id, list(roles))

    async def call(
        self, method: str, url: str, who: dict[str, str], **kwargs: Any
    ) -> httpx.Response:
        return await self.client.request(method, f"/api/grading{url}", headers=who, **kwargs)


@dataclass
class GradedClass:
    """A class of a school with its subject teacher, ready for grades."""

    school: School
    class_id: UUID
    subject_id: UUID
    teacher: UUID
    students: list[UUID]
    deputy: UUID = field(default_factory=uuid.uuid4)

    @property
    def book(self) -> str:
        return f"/classes/{self.class_id}/subjects/{self.subject_id}"

    @property
    def as_teacher(self) -> dict[str, str]:
        return self.school.as_(self.teacher, "teacher")

    @property
    def as_deputy(self) -> dict[str, str]:
        return self.school.as_(self.deputy, "deputy_director")

    async def grade(
        self, marks: Iterable[tuple[UUID, str]], *, who: dict[str, str] | None = None, **work: Any
    ) -> httpx.Response:
        body = {
            "work": {"title": "Kontroldarbs", "kind": "test", "given_on": IN_SEMESTER1, **work},
            "marks": [{"student_id": str(s), "value": v} for s, v in marks],
        }
        return await self.school.call(
            "POST", f"{self.book}/grades", who or self.as_teacher, json=body
        )

    async def sheet(self, who: dict[str, str] | None = None) -> dict[str, Any]:
        response = await self.school.call("GET", f"{self.book}/sheet", who or self.as_teacher)
        assert response.status_code == 200, response.text
        sheet: dict[str, Any] = response.json()
        return sheet


SchoolFactory = Callable[[], School]


@pytest.fixture
def new_school(
    settings: Settings,
    producer: AIOKafkaProducer,
    db: asyncpg.Connection,
    issuer: TestIssuer,
    app: httpx.AsyncClient,
    worker: None,
) -> SchoolFactory:
    def make() -> School:
        return School(settings, producer, db, issuer, app)

    return make


@pytest.fixture
async def graded_class(new_school: SchoolFactory) -> GradedClass:
    """A grade-7 class of three students with a mathematics teacher assigned and a deputy
    director on the staff, all projected."""
    school = new_school()
    await school.register()
    class_id = await school.open_class(7, "7.a")
    subject_id = await school.subject("Matematika")
    students = await school.enrol(class_id, 3)
    teacher, deputy = uuid.uuid4(), uuid.uuid4()
    await school.assign(teacher, class_id, subject_id)
    await school.hire(deputy, "deputy_director")
    await school.settled()
    return GradedClass(school, class_id, subject_id, teacher, students, deputy)
