"""The whole system over real HTTP for a real browser: identity, lessons, attendance, grading
and reporting (API and worker each, on the session's PostgreSQL and Kafka), the web app in
front of them, and a school seeded through the APIs the way a school would set itself up."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from fastapi import FastAPI

from ezurnals.shared.http.app import create_app
from ezurnals.shared.runtime.infra import free_port
from ezurnals.shared.service import load_service
from ezurnals.shared.testing.stack import TestStack, eventually, running_worker, serving
from ezurnals.web import create_app as create_web_app

SERVICES = ("identity", "lessons", "attendance", "grading", "reporting")
BOOTSTRAP = "web-e2e-operator-secret"
PASSWORD = "kalnu-ezers-rudens-2026"
RIGA = ZoneInfo("Europe/Riga")


@dataclass
class System:
    urls: dict[str, str]
    web: str
    #: The services' running apps: a test may set ``apps["identity"].state.clock`` (restoring it).
    apps: dict[str, FastAPI] = field(default_factory=dict)


@pytest.fixture(scope="module")
async def system(
    stack: TestStack, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[System]:
    with pytest.MonkeyPatch.context() as env:
        env.setenv("EZURNALS_SIGNING_KEYS_DIR", str(tmp_path_factory.mktemp("signing-keys")))
        env.setenv("EZURNALS_BOOTSTRAP_TOKEN", BOOTSTRAP)
        env.delenv("EZURNALS_DATA_DIR", raising=False)
        ports = {name: free_port() for name in (*SERVICES, "web")}
        jwks = f"http://127.0.0.1:{ports['identity']}/api/identity/.well-known/jwks.json"
        async with contextlib.AsyncExitStack() as running:
            urls: dict[str, str] = {}
            apps: dict[str, FastAPI] = {}
            for name in SERVICES:
                definition = load_service(name)
                # Topics (and so consumer groups) of this module's own: groups shared with the
                # session's earlier modules can stall in a rebalance on the broker.
                settings = await stack.settings(
                    definition,
                    database=f"web_{name}",
                    jwks_url=jwks,
                    topic_prefix=f"{stack.prefix}web.",
                )
                app = apps[name] = create_app(definition, settings)
                urls[name] = await running.enter_async_context(serving(app, ports[name]))
                await running.enter_async_context(running_worker(definition, settings))
            web = await running.enter_async_context(serving(create_web_app(urls), ports["web"]))
            yield System(urls, web, apps)


def lesson_day_for(now: datetime) -> date:
    """The last weekday before today: a lesson that has started (attendance can be taken) and
    whose entry deadline has passed, so the run does not depend on the hour."""
    day = now.date() - timedelta(days=1)
    while day.weekday() >= 5:
        day -= timedelta(days=1)
    return day


@dataclass
class Person:
    person_id: str
    username: str
    first_name: str
    last_name: str

    @property
    def name(self) -> str:
        return f"{self.last_name} {self.first_name}"


def nobody() -> Person:
    return Person("", "", "", "")


@dataclass
class World:
    """What the seed made: who signs in, which lesson, which day; and the APIs to check with."""

    urls: dict[str, str]
    web: str
    day: date
    subject_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    class_id: str = ""
    lesson_id: str = ""
    admin: Person = field(default_factory=nobody)
    teacher: Person = field(default_factory=nobody)
    class_teacher: Person = field(default_factory=nobody)
    guardian: Person = field(default_factory=nobody)
    students: list[Person] = field(default_factory=list)
    tokens: dict[str, str] = field(default_factory=dict)

    async def call(
        self, method: str, service: str, path: str, token: str | None = None, **kw: Any
    ) -> httpx.Response:
        headers = dict(kw.pop("headers", {}))
        if token:
            headers["Authorization"] = f"Bearer {token}"
        async with httpx.AsyncClient(base_url=self.urls[service], timeout=30) as client:
            return await client.request(method, f"/api/{service}{path}", headers=headers, **kw)

    async def ok(
        self, method: str, service: str, path: str, token: str | None = None, **kw: Any
    ) -> Any:
        response = await self.call(method, service, path, token, **kw)
        assert response.status_code < 300, (method, path, response.status_code, response.text)
        return response.json()


async def _account(world: World, person_id: str, admin: str, first: str, last: str) -> Person:
    issued = await world.ok("POST", "identity", f"/people/{person_id}/access-code", admin)
    code = issued["codes"][0]
    await world.ok(
        "POST", "identity", "/activate", json={"code": code["code"], "password": PASSWORD}
    )
    return Person(person_id, code["username"], first, last)


async def _sign_in(world: World, person: Person) -> str:
    signed = await world.ok(
        "POST", "identity", "/sign-in", json={"username": person.username, "password": PASSWORD}
    )
    token: str = signed["access_token"]
    return token


@pytest.fixture(scope="module")
async def world(system: System) -> World:
    day = lesson_day_for(datetime.now(RIGA))
    start = day.year if day.month >= 7 else day.year - 1
    year = f"{start}/{start + 1}"
    since = f"{start}-07-01"
    world = World(system.urls, system.web, day)

    registered = await world.ok(
        "POST",
        "identity",
        "/schools",
        json={"name": "Cēsu pamatskola", "admin": {"first_name": "Agnese", "last_name": "Kļaviņa"}},
        headers={"X-Bootstrap-Token": BOOTSTRAP},
    )
    admin = registered["admin"]
    await world.ok(
        "POST", "identity", "/activate", json={"code": admin["access_code"], "password": PASSWORD}
    )
    world.admin = Person(admin["person_id"], admin["username"], "Agnese", "Kļaviņa")
    admin_token = await _sign_in(world, world.admin)
    world.tokens["admin"] = admin_token
    await world.ok(
        "POST",
        "identity",
        "/school-years",
        admin_token,
        json={
            "school_year": year,
            "semesters": [
                {"number": 1, "first_day": since, "last_day": f"{start}-12-31"},
                {"number": 2, "first_day": f"{start + 1}-01-01", "last_day": f"{start + 1}-08-31"},
            ],
        },
    )
    opened = await world.ok(
        "POST",
        "identity",
        "/classes",
        admin_token,
        json={"school_year": year, "grade_level": 5, "label": "5.a"},
    )
    world.class_id = opened["class_id"]

    async def staff(first: str, last: str, roles: list[str]) -> Person:
        hired = await world.ok(
            "POST",
            "identity",
            "/staff",
            admin_token,
            json={
                "person": {"first_name": first, "last_name": last},
                "roles": roles,
                "hired_on": since,
            },
        )
        return await _account(world, hired["person_id"], admin_token, first, last)

    world.teacher = await staff("Jānis", "Kalniņš", ["teacher"])
    world.class_teacher = await staff("Līga", "Ozoliņa", ["teacher", "class_teacher"])
    await world.ok(
        "PUT",
        "identity",
        f"/classes/{world.class_id}/class-teacher",
        admin_token,
        json={"teacher_id": world.class_teacher.person_id, "valid_from": since},
    )
    await world.ok(
        "POST",
        "identity",
        f"/classes/{world.class_id}/teaching",
        admin_token,
        json={
            "teacher_id": world.teacher.person_id,
            "subject_id": world.subject_id,
            "valid_from": since,
        },
    )
    for first, last in (("Emīls", "Pērkons"), ("Zane", "Bite"), ("Roberts", "Lapiņš")):
        enrolled = await world.ok(
            "POST",
            "identity",
            "/students",
            admin_token,
            json={
                "person": {"first_name": first, "last_name": last},
                "class_id": world.class_id,
                "enrolled_on": since,
            },
        )
        world.students.append(Person(enrolled["person_id"], "", first, last))
    linked = await world.ok(
        "POST",
        "identity",
        f"/students/{world.students[0].person_id}/guardians",
        admin_token,
        json={"person": {"first_name": "Inese", "last_name": "Pērkone"}, "linked_on": since},
    )
    world.guardian = await _account(world, linked["guardian_id"], admin_token, "Inese", "Pērkone")

    # The lessons service learns the school from identity's events: retry until it has.
    async def created(path: str, body: dict[str, Any], what: str, count: int | None = None) -> Any:
        async def attempt() -> Any:
            response = await world.call("POST", "lessons", path, admin_token, json=body)
            if response.status_code != 201:
                return None
            answer = response.json()
            return answer if count is None or answer["lessons"] == count else None

        return await eventually(attempt, timeout=60, interval=0.3, what=what)

    subject = {"subject_id": world.subject_id, "name_key": "matematika", "name": "Matemātika"}
    await created("/subjects", subject, "lessons knows the school")
    opened = await created("/timetables", {"class_id": world.class_id}, "lessons knows 5.a")
    timetable = f"/timetables/{opened['timetable_id']}"
    slot = {
        "weekday": day.isoweekday(),
        "period": 1,
        "starts_at": "08:30:00",
        "ends_at": "09:10:00",
        "subject_id": world.subject_id,
        "teacher_id": world.teacher.person_id,
        "room": "12",
    }
    await created(
        f"{timetable}/slots", {"effective_from": since, "slot": slot}, "lessons knows the teacher"
    )
    await created(
        f"{timetable}/schedule",
        {"first_day": str(day), "last_day": str(day)},
        "the lesson is scheduled",
        count=1,
    )
    [lesson] = await world.ok(
        "GET",
        "lessons",
        "/lessons",
        admin_token,
        params={"class_id": world.class_id, "first_day": str(day), "last_day": str(day)},
    )
    world.lesson_id = lesson["lesson_id"]

    for role, person in (
        ("teacher", world.teacher),
        ("class_teacher", world.class_teacher),
        ("guardian", world.guardian),
    ):
        world.tokens[role] = await _sign_in(world, person)
    # Everything the browser will need has reached the other services before it starts.
    ready = (
        ("attendance", f"/lessons/{world.lesson_id}/attendance", "teacher"),
        ("attendance", f"/classes/{world.class_id}/unexcused-absences", "class_teacher"),
        ("attendance", f"/students/{world.students[0].person_id}/absences", "guardian"),
        ("reporting", f"/students/{world.students[0].person_id}/diary", "guardian"),
        ("grading", f"/classes/{world.class_id}/subjects/{world.subject_id}/sheet", "teacher"),
        ("grading", f"/students/{world.students[0].person_id}/grades", "guardian"),
    )
    for service, path, role in ready:

        async def answered(service: str = service, path: str = path, role: str = role) -> bool:
            response = await world.call("GET", service, path, world.tokens[role], params={})
            return response.status_code == 200

        await eventually(answered, timeout=60, interval=0.3, what=f"{service} {path} as {role}")

    async def grading_knows_the_lesson() -> bool:
        """A grade nobody could give: refused for its value once the lesson is known, for the
        lesson before; either way nothing is recorded."""
        response = await world.call(
            "POST",
            "grading",
            f"/classes/{world.class_id}/subjects/{world.subject_id}/grades",
            world.tokens["teacher"],
            json={
                "work": {"title": "-", "kind": "oral", "lesson_id": world.lesson_id},
                "marks": [{"student_id": world.students[0].person_id, "value": "not-a-grade"}],
            },
        )
        assert response.status_code in (404, 422), response.text
        field: str | None = response.json().get("field")
        return field != "work.lesson_id"

    await eventually(grading_knows_the_lesson, timeout=60, interval=0.3, what="grading's lesson")
    return world
