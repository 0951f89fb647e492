"""Two schools on the real stack for the security tests, seen by every service but identity.

School A and school B are published as identity's facts on topics of this folder's own; the
lessons API defines their subjects and timetables and schedules a week of lessons, and its relay
carries those lessons to attendance, grading and reporting, whose workers project everything
(including the shared ``AccessRevocations``). Callers hold tokens from a ``TestIssuer`` that
every service trusts.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from ezurnals.attendance.domain.lesson_attendance import absence_id_for
from ezurnals.attendance.service import SERVICE as ATTENDANCE
from ezurnals.grading.service import SERVICE as GRADING
from ezurnals.identity.keys import SigningKeys
from ezurnals.identity.service import SERVICE as IDENTITY
from ezurnals.lessons.service import SERVICE as LESSONS
from ezurnals.reporting.service import SERVICE as REPORTING
from ezurnals.shared.contracts import identity as idn
from ezurnals.shared.contracts.base import EventEnvelope, IntegrationEvent
from ezurnals.shared.contracts.school_year import planned_year_of
from ezurnals.shared.http.app import create_app
from ezurnals.shared.messaging import kafka
from ezurnals.shared.service import ServiceDefinition
from ezurnals.shared.settings import Settings
from ezurnals.shared.testing.auth import TestIssuer
from ezurnals.shared.testing.stack import TestStack, api_client, eventually, running_worker

YEAR = "2026/2027"
SEMESTERS = (
    idn.Semester(number=1, first_day=date(2026, 9, 1), last_day=date(2026, 12, 22)),
    idn.Semester(number=2, first_day=date(2027, 1, 4), last_day=date(2027, 5, 28)),
)
#: The week whose lessons are scheduled (Monday to Friday).
WEEK = (date(2026, 11, 23), date(2026, 11, 27))
SERVICES: dict[str, ServiceDefinition] = {
    "lessons": LESSONS,
    "attendance": ATTENDANCE,
    "grading": GRADING,
    "reporting": REPORTING,
}
_versions = itertools.count(1)


def _ids(n: int) -> tuple[uuid.UUID, ...]:
    return tuple(uuid.uuid4() for _ in range(n))


@dataclass
class School:
    """One school's ids: who is who, and the lessons the lessons API scheduled."""

    school_id: uuid.UUID = field(default_factory=uuid.uuid4)
    #: The class the matrix is about, and a class of the same school the "other" teacher teaches.
    class_id: uuid.UUID = field(default_factory=uuid.uuid4)
    other_class_id: uuid.UUID = field(default_factory=uuid.uuid4)
    subject_id: uuid.UUID = field(default_factory=uuid.uuid4)
    teacher: uuid.UUID = field(default_factory=uuid.uuid4)
    other_teacher: uuid.UUID = field(default_factory=uuid.uuid4)
    class_teacher: uuid.UUID = field(default_factory=uuid.uuid4)
    deputy: uuid.UUID = field(default_factory=uuid.uuid4)
    director: uuid.UUID = field(default_factory=uuid.uuid4)
    admin: uuid.UUID = field(default_factory=uuid.uuid4)
    leaver: uuid.UUID = field(default_factory=uuid.uuid4)
    #: student, other family's student (same class), student of the other class
    student: uuid.UUID = field(default_factory=uuid.uuid4)
    other_student: uuid.UUID = field(default_factory=uuid.uuid4)
    guardian: uuid.UUID = field(default_factory=uuid.uuid4)
    other_guardian: uuid.UUID = field(default_factory=uuid.uuid4)
    restricted_guardian: uuid.UUID = field(default_factory=uuid.uuid4)
    lesson_id: uuid.UUID | None = None
    other_lesson_id: uuid.UUID | None = None
    #: The student's absence from the class's Tuesday lesson, for the direct excuse.
    absence_id: uuid.UUID | None = None

    def facts(self) -> list[tuple[str, IntegrationEvent]]:
        s = self.school_id
        staff = {
            self.teacher: (idn.Role.TEACHER,),
            self.other_teacher: (idn.Role.TEACHER,),
            self.class_teacher: (idn.Role.TEACHER, idn.Role.CLASS_TEACHER),
            self.deputy: (idn.Role.DEPUTY_DIRECTOR,),
            self.director: (idn.Role.DIRECTOR,),
            self.admin: (idn.Role.ADMIN,),
            self.leaver: (idn.Role.TEACHER,),
        }
        out: list[tuple[str, IntegrationEvent]] = [
            (f"school-{s}", idn.SchoolRegistered(school_id=s, name="Skola")),
            (
                f"school-{s}",
                idn.SchoolYearDefined(school_id=s, school_year=YEAR, semesters=SEMESTERS),
            ),
            *(
                (
                    f"school-{s}",
                    idn.ClassOpened(
                        school_id=s, class_id=c, school_year=YEAR, grade_level=7, label=label
                    ),
                )
                for c, label in ((self.class_id, "7.a"), (self.other_class_id, "7.b"))
            ),
            *(
                (
                    f"employment-{p}",
                    idn.StaffMemberHired(
                        school_id=s, person_id=p, roles=roles, hired_on=date(2026, 8, 25)
                    ),
                )
                for p, roles in staff.items()
            ),
            *(
                (
                    f"roll-{s}",
                    idn.StudentEnrolled(
                        school_id=s,
                        student_id=student,
                        class_id=self.class_id,
                        school_year=YEAR,
                        enrolled_on=date(2026, 9, 1),
                    ),
                )
                for student in (self.student, self.other_student)
            ),
            *(
                (
                    f"guardianship-{student}",
                    idn.GuardianLinked(
                        school_id=s,
                        guardian_id=guardian,
                        student_id=student,
                        linked_on=date(2026, 9, 1),
                        restricted=restricted,
                    ),
                )
                for guardian, student, restricted in (
                    (self.guardian, self.student, False),
                    (self.restricted_guardian, self.student, True),
                    (self.other_guardian, self.other_student, False),
                )
            ),
            (
                f"class-staffing-{self.class_id}",
                idn.ClassTeacherAssigned(
                    school_id=s,
                    class_id=self.class_id,
                    teacher_id=self.class_teacher,
                    valid_from=date(2026, 9, 1),
                ),
            ),
            *(
                (
                    f"class-staffing-{c}",
                    idn.TeachingAssigned(
                        school_id=s,
                        assignment_id=uuid.uuid4(),
                        class_id=c,
                        teacher_id=t,
                        subject_id=self.subject_id,
                        valid_from=date(2026, 9, 1),
                    ),
                )
                for c, t in (
                    (self.class_id, self.teacher),
                    (self.class_id, self.leaver),
                    (self.other_class_id, self.other_teacher),
                )
            ),
        ]
        return out


@dataclass
class World:
    """Two schools, the services' in-process clients, and tokens for anyone."""

    issuer: TestIssuer
    settings: dict[str, Settings]
    clients: dict[str, httpx.AsyncClient]
    a: School
    b: School

    def token(self, person: uuid.UUID, *roles: str, school: School | None = None, **kw: Any) -> str:
        return self.issuer.token(person, (school or self.a).school_id, roles, **kw)

    def headers(self, person: uuid.UUID, *roles: str, **kw: Any) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(person, *roles, **kw)}"}

    async def call(
        self,
        service: str,
        method: str,
        path: str,
        headers: dict[str, str],
        body: Any = None,
    ) -> httpx.Response:
        kwargs: dict[str, Any] = {"headers": headers}
        if body is not None:
            kwargs["json"] = body
        return await self.clients[service].request(method, f"/api/{service}{path}", **kwargs)


async def publish(settings: Settings, service: str, facts: list[tuple[str, IntegrationEvent]]):  # type: ignore[no-untyped-def]
    """Send ``facts`` as ``service``'s envelopes; returns their event ids."""
    producer = kafka.producer(settings)
    await producer.start()
    sent = []
    try:
        for stream, event in facts:
            envelope = EventEnvelope(
                event_type=event.event_type,
                schema_version=event.schema_version,
                stream_id=stream,
                stream_version=next(_versions),
                school_id=getattr(event, "school_id", None),
                payload=event.model_dump(mode="json"),
            )
            await producer.send_and_wait(
                settings.topic(service),
                key=stream.encode(),
                value=envelope.model_dump_json().encode(),
            )
            sent.append(envelope.event_id)
    finally:
        await producer.stop()
    return sent


async def applied(
    settings: Settings, client: httpx.AsyncClient, event_ids: list[uuid.UUID]
) -> bool:
    """Whether the service's worker has applied every one of ``event_ids``."""
    runtime = client._transport.app.state.runtime  # type: ignore[attr-defined]
    async with runtime.db.raw() as conn:
        try:
            n = await conn.fetchval(
                f"SELECT count(DISTINCT event_id) FROM {settings.read_model_schema}"
                ".processed_events WHERE event_id = ANY($1::uuid[])",
                event_ids,
            )
        except Exception:  # the worker has not created its read models yet
            return False
    return bool(n == len(event_ids))


async def _schedule(world: World, school: School) -> None:
    """The school's subject, a timetable per class and the week's lessons, via the lessons API."""
    admin = world.headers(school.admin, "admin", school=school)

    async def ok(method: str, path: str, body: Any) -> Any:
        answer = await world.call("lessons", method, path, admin, body)
        assert answer.status_code < 300, (path, answer.status_code, answer.text)
        return answer.json()

    await ok(
        "POST",
        "/subjects",
        {
            "subject_id": str(school.subject_id),
            "name_key": "matematika",
            "name": "Matemātika",
            "curriculum_hours": {"7": 175},
        },
    )
    for class_id, teacher in (
        (school.class_id, school.teacher),
        (school.other_class_id, school.other_teacher),
    ):
        timetable = (await ok("POST", "/timetables", {"class_id": str(class_id)}))["timetable_id"]
        for weekday in range(1, 6):
            await ok(
                "POST",
                f"/timetables/{timetable}/slots",
                {
                    "effective_from": WEEK[0].isoformat(),
                    "slot": {
                        "weekday": weekday,
                        "period": 1,
                        "starts_at": time(8, 30).isoformat(),
                        "ends_at": time(9, 10).isoformat(),
                        "subject_id": str(school.subject_id),
                        "teacher_id": str(teacher),
                    },
                },
            )
        await ok(
            "POST",
            f"/timetables/{timetable}/schedule",
            {"first_day": WEEK[0].isoformat(), "last_day": WEEK[1].isoformat()},
        )
    for class_id in (school.class_id, school.other_class_id):
        found = await world.call(
            "lessons",
            "GET",
            f"/lessons?class_id={class_id}&first_day={WEEK[0]}&last_day={WEEK[0]}",
            admin,
        )
        assert found.status_code == 200, found.text
        [lesson] = found.json()
        if class_id == school.class_id:
            school.lesson_id = uuid.UUID(lesson["lesson_id"])
        else:
            school.other_lesson_id = uuid.UUID(lesson["lesson_id"])


@pytest.fixture(scope="session")
async def world(stack: TestStack, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[World]:
    issuer = TestIssuer(Path(tmp_path_factory.mktemp("security-keys")))
    prefix = f"{stack.prefix}security."
    settings = {
        name: await stack.settings(
            definition,
            database=f"security_{name}",
            jwks_url=issuer.jwks_url,
            topic_prefix=prefix,
        )
        for name, definition in SERVICES.items()
    }
    any_settings = settings["lessons"]
    async with AsyncExitStack() as running:
        for name, definition in SERVICES.items():
            await running.enter_async_context(running_worker(definition, settings[name]))
        clients = {
            name: await running.enter_async_context(api_client(definition, settings[name]))
            for name, definition in SERVICES.items()
        }
        world = World(issuer, settings, clients, School(), School())
        identity_ids = await publish(any_settings, "identity", world.a.facts() + world.b.facts())
        for name in SERVICES:
            await eventually(
                lambda name=name: applied(settings[name], clients[name], identity_ids),  # type: ignore[misc]
                timeout=60,
                what=f"{name} projected both schools",
            )
        for school in (world.a, world.b):
            await _schedule(world, school)
        await _lessons_projected(world)
        for school in (world.a, world.b):
            await _absent(world, school)
        yield world


async def _absent(world: World, school: School) -> None:
    """The teacher marks the student absent from the class's Tuesday lesson."""
    admin = world.headers(school.admin, "admin", school=school)
    tuesday = WEEK[0] + timedelta(days=1)
    found = await world.call(
        "lessons",
        "GET",
        f"/lessons?class_id={school.class_id}&first_day={tuesday}&last_day={tuesday}",
        admin,
    )
    assert found.status_code == 200, found.text
    [lesson] = found.json()
    lesson_id = uuid.UUID(lesson["lesson_id"])
    teacher = world.headers(school.teacher, "teacher", school=school)
    path = f"/lessons/{lesson_id}/attendance"
    marks = {"marks": [{"student_id": str(school.student)}]}

    async def taken() -> bool:
        answer = await world.call("attendance", "POST", path, teacher, marks)
        assert answer.status_code in (201, 404), answer.text  # 404: not projected yet
        return answer.status_code == 201

    await eventually(taken, timeout=60, what="the student is marked absent")
    school.absence_id = absence_id_for(lesson_id, school.student)


async def _lessons_projected(world: World) -> None:
    """Attendance knows the scheduled lessons once it answers their registers."""
    for school in (world.a, world.b):
        admin = world.headers(school.admin, "admin", school=school)

        async def known(school: School = school, admin: dict[str, str] = admin) -> bool:
            answer = await world.call(
                "attendance", "GET", f"/lessons/{school.lesson_id}/attendance", admin
            )
            return answer.status_code == 200

        await eventually(known, timeout=60, what="attendance knows the lessons")


Caller = Callable[[World], dict[str, str]]


# --- identity: its own school, built through its API, tokens signed with its own key ---

IDENTITY_BOOTSTRAP = "security-operator-secret"
PASSWORD = "sniega-kalni-un-ezeri-2026"


def school_year_of(day: date) -> str:
    return planned_year_of(day)


class Clock:
    """Identity's clock: real time unless a test sets it (to activate an account long ago)."""

    def __init__(self) -> None:
        self.fixed: datetime | None = None

    def __call__(self) -> datetime:
        return self.fixed or datetime.now(UTC)


@dataclass
class IdentitySchool:
    """Who is who in one school that identity keeps."""

    school_id: uuid.UUID
    admin: uuid.UUID
    people: dict[str, uuid.UUID] = field(default_factory=dict)
    classes: dict[str, uuid.UUID] = field(default_factory=dict)

    def __getattr__(self, name: str) -> uuid.UUID:
        try:
            people: dict[str, uuid.UUID] = self.__dict__["people"]
            return people[name]
        except KeyError:
            raise AttributeError(name) from None


@dataclass
class IdentityWorld:
    settings: Settings
    client: httpx.AsyncClient
    keys: SigningKeys
    clock: Clock
    a: IdentitySchool
    b: IdentitySchool

    def token(
        self,
        person: uuid.UUID,
        *roles: str,
        school: IdentitySchool | None = None,
        password_expired: bool = False,
        ttl_s: int = 600,
    ) -> str:
        """A token as identity's sign-in issues it, signed with identity's current key."""
        return self.keys.sign(
            person_id=person,
            school_id=(school or self.a).school_id,
            roles=list(roles),
            session_id=uuid.uuid4(),
            issued_at=datetime.now(UTC).timestamp(),
            ttl_s=ttl_s,
            password_expired=password_expired,
        )

    def headers(self, person: uuid.UUID, *roles: str, **kw: Any) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(person, *roles, **kw)}"}

    async def call(
        self, method: str, path: str, headers: dict[str, str] | None = None, body: Any = None
    ) -> httpx.Response:
        kwargs: dict[str, Any] = {"headers": headers or {}}
        if body is not None:
            kwargs["json"] = body
        return await self.client.request(method, f"/api/identity{path}", **kwargs)

    async def ok(self, method: str, path: str, headers: dict[str, str], body: Any = None) -> Any:
        answer = await self.call(method, path, headers, body)
        assert answer.status_code < 300, (method, path, answer.status_code, answer.text)
        return answer.json()


def _person(first: str, last: str) -> dict[str, str]:
    return {"first_name": first, "last_name": last}


#: Staff of each identity school: name → (first name, last name, roles).
IDENTITY_STAFF = {
    "director": ("Dace", "Rozīte", ["director"]),
    "class_teacher": ("Pēteris", "Zariņš", ["teacher", "class_teacher"]),
    "other_class_teacher": ("Ilze", "Vītola", ["teacher", "class_teacher"]),
    "teacher": ("Jānis", "Ozols", ["teacher"]),
    "other_teacher": ("Maija", "Liepa", ["teacher"]),
    "leaver": ("Oskars", "Krūmiņš", ["teacher"]),
}


async def _identity_school(world: IdentityWorld, name: str) -> IdentitySchool:
    """Registered by the operator, then built by its admin: two classes with their class
    teachers and teachers, two families in class "a" (one child with a restricted guardian)."""
    registered = await world.ok(
        "POST",
        "/schools",
        {"X-Bootstrap-Token": IDENTITY_BOOTSTRAP},
        {"name": name, "admin": _person("Anna", "Bērziņa")},
    )
    school = IdentitySchool(
        uuid.UUID(registered["school_id"]), uuid.UUID(registered["admin"]["person_id"])
    )
    admin = world.headers(school.admin, "admin", school=school)
    today = datetime.now(UTC).date()
    year = school_year_of(today)
    start = int(year[:4])
    await world.ok(
        "POST",
        "/school-years",
        admin,
        {
            "school_year": year,
            "semesters": [
                {"number": 1, "first_day": f"{start}-09-01", "last_day": f"{start}-12-22"},
                {"number": 2, "first_day": f"{start + 1}-01-05", "last_day": f"{start + 1}-05-29"},
            ],
        },
    )
    for label in ("a", "b"):
        opened = await world.ok(
            "POST",
            "/classes",
            admin,
            {"school_year": year, "grade_level": 7, "label": f"7.{label}"},
        )
        school.classes[label] = uuid.UUID(opened["class_id"])
    for key, (first, last, roles) in IDENTITY_STAFF.items():
        hired = await world.ok(
            "POST",
            "/staff",
            admin,
            {"person": _person(first, last), "roles": roles, "hired_on": f"{start}-08-25"},
        )
        school.people[key] = uuid.UUID(hired["person_id"])
    since = f"{start}-09-01"
    for label, teacher in (("a", "class_teacher"), ("b", "other_class_teacher")):
        await world.ok(
            "PUT",
            f"/classes/{school.classes[label]}/class-teacher",
            admin,
            {"teacher_id": str(school.people[teacher]), "valid_from": since},
        )
    subject = uuid.uuid4()
    for label, teacher in (("a", "teacher"), ("a", "leaver"), ("b", "other_teacher")):
        await world.ok(
            "POST",
            f"/classes/{school.classes[label]}/teaching",
            admin,
            {
                "teacher_id": str(school.people[teacher]),
                "subject_id": str(subject),
                "valid_from": since,
            },
        )
    for key, first in (("student", "Līga"), ("other_student", "Roberts")):
        enrolled = await world.ok(
            "POST",
            "/students",
            admin,
            {
                "person": _person(first, "Kalniņa" if key == "student" else "Siliņš"),
                "class_id": str(school.classes["a"]),
                "enrolled_on": since,
            },
        )
        school.people[key] = uuid.UUID(enrolled["person_id"])
    for key, child, first, restricted in (
        ("guardian", "student", "Gita", False),
        ("restricted_guardian", "student", "Raimonds", True),
        ("other_guardian", "other_student", "Sandra", False),
    ):
        linked = await world.ok(
            "POST",
            f"/students/{school.people[child]}/guardians",
            admin,
            {"person": _person(first, "Vecāks"), "linked_on": since, "restricted": restricted},
        )
        school.people[key] = uuid.UUID(linked["guardian_id"])
    return school


@pytest.fixture(scope="session")
async def identity_world(
    stack: TestStack, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[IdentityWorld]:
    """Identity's API and worker on topics of their own, with schools A and B."""
    keys_dir = Path(tmp_path_factory.mktemp("security-identity-keys"))
    settings = await stack.settings(
        IDENTITY, database="security_identity", topic_prefix=f"{stack.prefix}security-identity."
    )
    app = create_app(IDENTITY, settings)
    clock = Clock()
    async with AsyncExitStack() as running:
        # Identity reads its configuration once, when the app starts; the environment is put
        # back at once so that later tests (and the processes they start) never see it.
        with pytest.MonkeyPatch.context() as env:
            env.setenv("EZURNALS_SIGNING_KEYS_DIR", str(keys_dir))
            env.setenv("EZURNALS_BOOTSTRAP_TOKEN", IDENTITY_BOOTSTRAP)
            env.delenv("EZURNALS_DATA_DIR", raising=False)
            await running.enter_async_context(running_worker(IDENTITY, settings))
            await running.enter_async_context(app.router.lifespan_context(app))
        app.state.clock = clock
        client = await running.enter_async_context(
            httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")
        )
        world = IdentityWorld(settings, client, SigningKeys(keys_dir), clock, None, None)  # type: ignore[arg-type]
        world.a = await _identity_school(world, "Cēsu 1. pamatskola")
        world.b = await _identity_school(world, "Valmieras 2. vidusskola")
        yield world
