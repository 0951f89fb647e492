"""Identity API fixtures: a fresh database per module, the app with a settable clock, and a
school built through the API (bootstrap → admin activation → sign-in)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from ezurnals.identity.service import SERVICE
from ezurnals.shared.http.app import create_app
from ezurnals.shared.settings import Settings
from ezurnals.shared.testing.stack import TestStack

BOOTSTRAP = "test-operator-secret"
PASSWORD = "kalnu-ezers-rudens-2026"


def school_year_of(day: date) -> str:
    start = day.year if day.month >= 7 else day.year - 1
    return f"{start}/{start + 1}"


TODAY = datetime.now(UTC).date()
YEAR = school_year_of(TODAY)
YEAR_START = int(YEAR[:4])


@pytest.fixture(scope="module")
def identity_env(tmp_path_factory: pytest.TempPathFactory) -> Any:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("EZURNALS_SIGNING_KEYS_DIR", str(tmp_path_factory.mktemp("signing-keys")))
        mp.setenv("EZURNALS_BOOTSTRAP_TOKEN", BOOTSTRAP)
        mp.delenv("EZURNALS_DATA_DIR", raising=False)
        yield mp


@pytest.fixture(scope="module")
async def settings(stack: TestStack, request: pytest.FixtureRequest, identity_env: Any) -> Settings:
    name = request.module.__name__.rsplit(".", 1)[-1].removeprefix("test_identity_api_")
    return await stack.settings(SERVICE, database=f"identity_{name}")


class Clock:
    """The app's clock: real time unless a test sets it."""

    def __init__(self) -> None:
        self.fixed: datetime | None = None

    def __call__(self) -> datetime:
        return self.fixed or datetime.now(UTC)


@dataclass
class Api:
    app: FastAPI
    client: httpx.AsyncClient
    clock: Clock

    async def call(
        self, method: str, path: str, token: str | None = None, **kwargs: Any
    ) -> httpx.Response:
        headers = dict(kwargs.pop("headers", {}))
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return await self.client.request(method, f"/api/identity{path}", headers=headers, **kwargs)

    async def ok(self, method: str, path: str, token: str | None = None, **kw: Any) -> Any:
        response = await self.call(method, path, token, **kw)
        assert response.status_code < 300, (method, path, response.status_code, response.text)
        return response.json()


@asynccontextmanager
async def identity_api(settings: Settings) -> AsyncIterator[Api]:
    app = create_app(SERVICE, settings)
    clock = Clock()
    async with app.router.lifespan_context(app):
        app.state.clock = clock
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            yield Api(app, client, clock)


@pytest.fixture(scope="module")
async def api(settings: Settings) -> AsyncIterator[Api]:
    async with identity_api(settings) as running:
        yield running


def person(first: str, last: str, **extra: Any) -> dict[str, Any]:
    return {"first_name": first, "last_name": last, **extra}


@dataclass
class SchoolHandle:
    """A school built through the API, with its admin signed in."""

    api: Api
    school_id: str
    admin_id: str
    admin_token: str
    classes: dict[str, str] = field(default_factory=dict)

    async def activate(self, code: str, password: str = PASSWORD) -> Any:
        return await self.api.ok("POST", "/activate", json={"code": code, "password": password})

    async def sign_in(self, username: str, password: str = PASSWORD) -> dict[str, Any]:
        result: dict[str, Any] = await self.api.ok(
            "POST", "/sign-in", json={"username": username, "password": password}
        )
        return result

    async def staff(self, first: str, last: str, roles: list[str]) -> tuple[str, str]:
        """Hire, issue a code, activate, sign in: (person_id, access token)."""
        hired = await self.api.ok(
            "POST",
            "/staff",
            self.admin_token,
            json={"person": person(first, last), "roles": roles, "hired_on": f"{YEAR_START}-08-25"},
        )
        codes = await self.api.ok(
            "POST", f"/people/{hired['person_id']}/access-code", self.admin_token
        )
        await self.activate(codes["codes"][0]["code"])
        signed = await self.sign_in(hired["username"])
        return hired["person_id"], signed["access_token"]

    async def class_teacher(self, label: str, first: str, last: str) -> tuple[str, str]:
        """A class teacher hired, signed in and assigned to the class: (person_id, token)."""
        teacher, token = await self.staff(first, last, ["teacher", "class_teacher"])
        await self.api.ok(
            "PUT",
            f"/classes/{self.classes[label]}/class-teacher",
            self.admin_token,
            json={"teacher_id": teacher, "valid_from": f"{YEAR_START}-09-01"},
        )
        return teacher, token

    async def signed_in(self, person_id: str) -> str:
        """Issue the person a code, activate it and sign in: their access token."""
        issued = await self.api.ok("POST", f"/people/{person_id}/access-code", self.admin_token)
        await self.activate(issued["codes"][0]["code"])
        token: str = (await self.sign_in(issued["codes"][0]["username"]))["access_token"]
        return token

    async def student(self, first: str, last: str, class_label: str, **data: Any) -> str:
        enrolled = await self.api.ok(
            "POST",
            "/students",
            self.admin_token,
            json={
                "person": person(first, last, **data),
                "class_id": self.classes[class_label],
                "enrolled_on": f"{YEAR_START}-09-01",
            },
        )
        student_id: str = enrolled["person_id"]
        return student_id

    async def guardian(self, student_id: str, first: str, last: str, **kw: Any) -> str:
        linked = await self.api.ok(
            "POST",
            f"/students/{student_id}/guardians",
            self.admin_token,
            json={"person": person(first, last), "linked_on": f"{YEAR_START}-09-01", **kw},
        )
        guardian_id: str = linked["guardian_id"]
        return guardian_id


async def new_school(api: Api, name: str, labels: tuple[str, ...] = ("1.a", "2.a")) -> SchoolHandle:
    registered = await api.ok(
        "POST",
        "/schools",
        json={"name": name, "admin": person("Anna", "Bērziņa")},
        headers={"X-Bootstrap-Token": BOOTSTRAP},
    )
    admin = registered["admin"]
    await api.ok("POST", "/activate", json={"code": admin["access_code"], "password": PASSWORD})
    signed = await api.ok(
        "POST", "/sign-in", json={"username": admin["username"], "password": PASSWORD}
    )
    school = SchoolHandle(api, registered["school_id"], admin["person_id"], signed["access_token"])
    await api.ok(
        "POST",
        "/school-years",
        school.admin_token,
        json={
            "school_year": YEAR,
            "semesters": [
                {
                    "number": 1,
                    "first_day": f"{YEAR_START}-09-01",
                    "last_day": f"{YEAR_START}-12-22",
                },
                {
                    "number": 2,
                    "first_day": f"{YEAR_START + 1}-01-05",
                    "last_day": f"{YEAR_START + 1}-05-29",
                },
            ],
            "grade_end_dates": [{"grade_level": 12, "last_day": f"{YEAR_START + 1}-06-19"}],
            "holidays": [
                {
                    "first_day": f"{YEAR_START}-10-19",
                    "last_day": f"{YEAR_START}-10-23",
                    "name": "rudens",
                }
            ],
        },
    )
    for label in labels:
        opened = await api.ok(
            "POST",
            "/classes",
            school.admin_token,
            json={"school_year": YEAR, "grade_level": int(label.split(".")[0]), "label": label},
        )
        school.classes[label] = opened["class_id"]
    return school


class Kit:
    """What tests need beside the fixtures (test modules cannot import conftest)."""

    YEAR = YEAR
    YEAR_START = YEAR_START
    TODAY = TODAY
    PASSWORD = PASSWORD
    BOOTSTRAP = BOOTSTRAP
    person = staticmethod(person)
    new_school = staticmethod(new_school)
    identity_api = staticmethod(identity_api)

    @staticmethod
    def new_id() -> str:
        return str(uuid.uuid4())


@pytest.fixture(scope="module")
def kit() -> type[Kit]:
    return Kit
