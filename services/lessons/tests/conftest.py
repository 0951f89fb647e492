"""A small school fed to the lessons service as identity's events, and an API whose clock the
test sets (``app.state.clock``)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import httpx
import pytest

from ezurnals.lessons.service import SERVICE
from ezurnals.shared.contracts import identity as idn
from ezurnals.shared.contracts.base import EventEnvelope
from ezurnals.shared.http.app import create_app
from ezurnals.shared.messaging import kafka
from ezurnals.shared.service import Runtime
from ezurnals.shared.settings import Settings
from ezurnals.shared.testing.auth import TestIssuer
from ezurnals.shared.testing.stack import TestStack, eventually, running_worker

RIGA = ZoneInfo("Europe/Riga")


def riga(day: date, at: time) -> datetime:
    return datetime.combine(day, at, tzinfo=RIGA)


@dataclass
class School:
    """Ids of one school's people and classes; names exist only where a form prints them."""

    school_id: uuid.UUID = field(default_factory=uuid.uuid4)
    class5: uuid.UUID = field(default_factory=uuid.uuid4)
    class8: uuid.UUID = field(default_factory=uuid.uuid4)
    teacher: uuid.UUID = field(default_factory=uuid.uuid4)
    other_teacher: uuid.UUID = field(default_factory=uuid.uuid4)
    substitute: uuid.UUID = field(default_factory=uuid.uuid4)
    class_teacher: uuid.UUID = field(default_factory=uuid.uuid4)
    admin: uuid.UUID = field(default_factory=uuid.uuid4)
    deputy: uuid.UUID = field(default_factory=uuid.uuid4)
    students: tuple[uuid.UUID, ...] = field(
        default_factory=lambda: (uuid.uuid4(), uuid.uuid4(), uuid.uuid4())
    )
    #: The subject id identity's teaching assignments name (the lessons service defines it).
    maths: uuid.UUID = field(default_factory=uuid.uuid4)

    def events(self) -> list[tuple[str, idn.IdentityEvent]]:
        s = self.school_id
        year = "2025/2026"
        staff = {
            self.teacher: (idn.Role.TEACHER,),
            self.other_teacher: (idn.Role.TEACHER,),
            self.substitute: (idn.Role.TEACHER,),
            self.class_teacher: (idn.Role.TEACHER, idn.Role.CLASS_TEACHER),
            self.admin: (idn.Role.ADMIN,),
            self.deputy: (idn.Role.DEPUTY_DIRECTOR,),
        }
        out: list[tuple[str, idn.IdentityEvent]] = [
            (
                f"school-{s}",
                idn.SchoolRegistered(school_id=s, name="Skola", time_zone="Europe/Riga"),
            ),
            (
                f"school-{s}",
                idn.SchoolYearDefined(
                    school_id=s,
                    school_year=year,
                    semesters=(
                        idn.Semester(
                            number=1, first_day=date(2025, 9, 1), last_day=date(2025, 12, 19)
                        ),
                        idn.Semester(
                            number=2, first_day=date(2026, 1, 5), last_day=date(2026, 6, 19)
                        ),
                    ),
                    holidays=(idn.Holiday(first_day=date(2026, 3, 9), last_day=date(2026, 3, 13)),),
                ),
            ),
            (
                f"school-{s}",
                idn.ClassOpened(
                    school_id=s, class_id=self.class5, school_year=year, grade_level=5, label="5.a"
                ),
            ),
            (
                f"school-{s}",
                idn.ClassOpened(
                    school_id=s, class_id=self.class8, school_year=year, grade_level=8, label="8.b"
                ),
            ),
        ]
        for person, roles in staff.items():
            out.append(
                (
                    f"employment-{person}",
                    idn.StaffMemberHired(
                        school_id=s, person_id=person, roles=roles, hired_on=date(2025, 8, 1)
                    ),
                )
            )
        for student in self.students:
            out.append(
                (
                    f"roll-{s}-{year}",
                    idn.StudentEnrolled(
                        school_id=s,
                        student_id=student,
                        class_id=self.class5,
                        school_year=year,
                        enrolled_on=date(2025, 9, 1),
                    ),
                )
            )
        staffing = f"class-staffing-{self.class5}"
        out += [
            (
                staffing,
                idn.ClassTeacherAssigned(
                    school_id=s,
                    class_id=self.class5,
                    teacher_id=self.class_teacher,
                    valid_from=date(2025, 9, 1),
                ),
            ),
            (
                staffing,
                idn.TeachingAssigned(
                    school_id=s,
                    assignment_id=uuid.uuid4(),
                    class_id=self.class5,
                    teacher_id=self.teacher,
                    subject_id=self.maths,
                    valid_from=date(2025, 9, 1),
                ),
            ),
            (
                staffing,
                idn.TeachingAssigned(
                    school_id=s,
                    assignment_id=uuid.uuid4(),
                    class_id=self.class5,
                    teacher_id=self.substitute,
                    subject_id=self.maths,
                    valid_from=date(2026, 3, 16),
                    valid_to=date(2026, 3, 20),
                    substitute=True,
                ),
            ),
            (
                f"class-staffing-{self.class8}",
                idn.TeachingAssigned(
                    school_id=s,
                    assignment_id=uuid.uuid4(),
                    class_id=self.class8,
                    teacher_id=self.teacher,
                    subject_id=self.maths,
                    valid_from=date(2025, 9, 1),
                ),
            ),
        ]
        return out


async def publish_identity(
    settings: Settings, events: Iterable[tuple[str, idn.IdentityEvent]]
) -> None:
    versions: dict[str, int] = {}
    producer = kafka.producer(settings)
    await producer.start()
    try:
        for stream, event in events:
            versions[stream] = versions.get(stream, 0) + 1
            envelope = EventEnvelope(
                event_type=event.event_type,
                schema_version=event.schema_version,
                stream_id=stream,
                stream_version=versions[stream],
                school_id=event.school_id,
                payload=event.model_dump(mode="json"),
            )
            await producer.send_and_wait(
                settings.topic("identity"),
                key=stream.encode(),
                value=envelope.model_dump_json().encode(),
            )
    finally:
        await producer.stop()


#: What the school's identity events leave in each table of the projection.
PROJECTED = {
    "schools": 1,
    "school_years": 1,
    "classes": 2,
    "staff": 6,
    "enrolments": 3,
    "class_teachers": 1,
    "teaching": 3,
}


async def project_school(settings: Settings, school: School) -> None:
    """Publish the school's identity events and let the worker project them."""
    await publish_identity(settings, school.events())
    runtime = Runtime.create(settings)
    try:
        async with running_worker(SERVICE, settings):

            async def projected() -> bool:
                counts = []
                async with runtime.db.raw() as conn:
                    for table in PROJECTED:
                        try:
                            counts.append(
                                await conn.fetchval(
                                    f"SELECT count(*) FROM rm.{table} WHERE school_id = $1",
                                    school.school_id,
                                )
                            )
                        except asyncpg.UndefinedTableError:
                            return False
                return counts == [PROJECTED[t] for t in PROJECTED]

            await eventually(projected, timeout=30, what="identity facts projected")
    finally:
        await runtime.close()


@dataclass
class Api:
    """The lessons API in-process; ``as_`` gives a caller's headers, ``at`` sets the clock."""

    client: httpx.AsyncClient
    app: Any
    issuer: TestIssuer
    school: School

    def as_(
        self, person: uuid.UUID, *roles: str, school: uuid.UUID | None = None
    ) -> dict[str, str]:
        return self.issuer.headers(person, school or self.school.school_id, list(roles))

    def at(self, instant: datetime) -> None:
        self.app.state.clock = lambda: instant

    @property
    def runtime(self) -> Runtime:
        runtime: Runtime = self.app.state.runtime
        return runtime

    @property
    def admin(self) -> dict[str, str]:
        return self.as_(self.school.admin, "admin")

    @property
    def teacher(self) -> dict[str, str]:
        return self.as_(self.school.teacher, "teacher")

    @property
    def deputy(self) -> dict[str, str]:
        return self.as_(self.school.deputy, "deputy_director")

    @property
    def class_teacher(self) -> dict[str, str]:
        return self.as_(self.school.class_teacher, "teacher", "class_teacher")


@asynccontextmanager
async def lessons_api(settings: Settings, issuer: TestIssuer, school: School) -> AsyncIterator[Api]:
    app = create_app(SERVICE, settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test/api/lessons") as c:
            yield Api(c, app, issuer, school)


@pytest.fixture(scope="module")
def issuer(tmp_path_factory: pytest.TempPathFactory) -> TestIssuer:
    return TestIssuer(Path(tmp_path_factory.mktemp("keys")))


@pytest.fixture(scope="module")
def school() -> School:
    return School()


async def lessons_settings(stack: TestStack, issuer: TestIssuer, name: str) -> Settings:
    """A database and topics of the module's own: its workers form their own consumer group, so
    a worker stopped by an earlier module never holds partitions this one waits for."""
    return await stack.settings(
        SERVICE, database=name, jwks_url=issuer.jwks_url, topic_prefix=f"{stack.prefix}{name}."
    )
