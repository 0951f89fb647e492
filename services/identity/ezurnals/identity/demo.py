"""``ezurnals up --demo``: a demo school registered through identity's own HTTP API.

Bootstrapping needs the operator's secret: EZURNALS_BOOTSTRAP_TOKEN, or the file
``identity-bootstrap-token`` that the identity API writes into its data dir when no token is
configured (EZURNALS_DATA_DIR, else ``.ezurnals``).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.table import Table

from ezurnals.identity.config import IdentityConfig
from ezurnals.shared.contracts.school_year import first_year, planned_year_of

DEMO_PASSWORD = "Rudens-lapas-2026"
SUBJECTS = ("Matemātika", "Latviešu valoda", "Angļu valoda", "Dabaszinības", "Vēsture")
TEACHERS = (
    ("Ilze", "Bērziņa"),
    ("Jānis", "Kalniņš"),
    ("Līga", "Ozoliņa"),
    ("Pēteris", "Zariņš"),
    ("Gunta", "Ābele"),
    ("Edgars", "Dzenis"),
    ("Māra", "Siliņa"),
    ("Oskars", "Kalējs"),
    ("Dace", "Krūmiņa"),
    ("Ēriks", "Liepiņš"),
    ("Sandra", "Vītola"),
    ("Kārlis", "Šķēle"),
)
FAMILIES = (
    ("Emīls", "Pērkons", "Inese", "Pērkone"),
    ("Zane", "Bite", "Ģirts", "Bitis"),
    ("Roberts", "Lapiņš", "Rūta", "Lapiņa"),
    ("Anna", "Egle", "Aivars", "Eglis"),
    ("Laura", "Strazdiņa", "Valdis", "Strazdiņš"),
    ("Markuss", "Vanags", "Ieva", "Vanaga"),
)


def subject_id(name: str) -> uuid.UUID:
    """A stable id per subject name, so other services' demos can refer to the same subject."""
    return uuid.uuid5(uuid.NAMESPACE_URL, f"ezurnals-demo-subject:{name}")


def bootstrap_secret() -> str:
    """The same secret the identity API checks: configured, or the one file in the data dir."""
    config = IdentityConfig()
    if config.data_dir is None and not config.bootstrap_token:
        config = config.model_copy(update={"data_dir": Path(".ezurnals")})
    secret = config.operator_secret()
    if secret is None:
        raise RuntimeError("set EZURNALS_BOOTSTRAP_TOKEN or EZURNALS_DATA_DIR")
    return secret


class _Client:
    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http

    async def call(self, method: str, path: str, token: str | None = None, **kw: Any) -> Any:
        headers = dict(kw.pop("headers", {}))
        if token:
            headers["Authorization"] = f"Bearer {token}"
        response = await self.http.request(method, f"/api/identity{path}", headers=headers, **kw)
        if response.status_code >= 300:
            raise RuntimeError(f"{method} {path}: {response.status_code} {response.text}")
        return response.json()

    async def account(self, code: str, username: str) -> str:
        await self.call("POST", "/activate", json={"code": code, "password": DEMO_PASSWORD})
        signed = await self.call(
            "POST", "/sign-in", json={"username": username, "password": DEMO_PASSWORD}
        )
        token: str = signed["access_token"]
        return token


def _person(first: str, last: str) -> dict[str, str]:
    return {"first_name": first, "last_name": last}


async def seed(urls: dict[str, str], console: Console) -> None:
    today = datetime.now(UTC).date()
    year = planned_year_of(today)
    start = first_year(year)
    async with httpx.AsyncClient(base_url=urls["identity"], timeout=60.0) as http:
        api = _Client(http)
        school = await api.call(
            "POST",
            "/schools",
            json={"name": "Demo vidusskola", "admin": _person("Agnese", "Kļaviņa")},
            headers={"X-Bootstrap-Token": bootstrap_secret()},
        )
        admin = school["admin"]
        token = await api.account(admin["access_code"], admin["username"])
        logins = [("school admin", "Agnese Kļaviņa", admin["username"])]
        await api.call(
            "POST",
            "/school-years",
            token,
            json={
                "school_year": year,
                "semesters": [
                    {"number": 1, "first_day": f"{start}-09-01", "last_day": f"{start}-12-19"},
                    {
                        "number": 2,
                        "first_day": f"{start + 1}-01-05",
                        "last_day": f"{start + 1}-05-29",
                    },
                ],
                "grade_end_dates": [
                    {"grade_level": 9, "last_day": f"{start + 1}-06-12"},
                    {"grade_level": 12, "last_day": f"{start + 1}-06-19"},
                ],
                "holidays": [
                    {"first_day": f"{start}-10-19", "last_day": f"{start}-10-23", "name": "rudens"},
                    {
                        "first_day": f"{start}-12-22",
                        "last_day": f"{start + 1}-01-02",
                        "name": "ziemas",
                    },
                ],
            },
        )
        hired_on = f"{start}-08-25"
        for role, first, last in (
            ("director", "Valdis", "Rozītis"),
            ("deputy_director", "Inga", "Saulīte"),
        ):
            hired = await api.call(
                "POST",
                "/staff",
                token,
                json={"person": _person(first, last), "roles": [role], "hired_on": hired_on},
            )
            code = await api.call("POST", f"/people/{hired['person_id']}/access-code", token)
            await api.account(code["codes"][0]["code"], hired["username"])
            logins.append((role.replace("_", " "), f"{first} {last}", hired["username"]))
        for grade in range(1, 13):
            klass = await api.call(
                "POST",
                "/classes",
                token,
                json={"school_year": year, "grade_level": grade, "label": f"{grade}.a"},
            )
            first, last = TEACHERS[grade - 1]
            teacher = await api.call(
                "POST",
                "/staff",
                token,
                json={
                    "person": _person(first, last),
                    "roles": ["teacher", "class_teacher"],
                    "hired_on": hired_on,
                },
            )
            await api.call(
                "PUT",
                f"/classes/{klass['class_id']}/class-teacher",
                token,
                json={"teacher_id": teacher["person_id"], "valid_from": f"{start}-09-01"},
            )
            await api.call(
                "POST",
                f"/classes/{klass['class_id']}/teaching",
                token,
                json={
                    "teacher_id": teacher["person_id"],
                    "subject_id": str(subject_id(SUBJECTS[grade % len(SUBJECTS)])),
                    "valid_from": f"{start}-09-01",
                },
            )
            student_first, student_last, parent_first, parent_last = FAMILIES[grade % len(FAMILIES)]
            student = await api.call(
                "POST",
                "/students",
                token,
                json={
                    "person": _person(student_first, student_last),
                    "class_id": klass["class_id"],
                    "enrolled_on": f"{start}-09-01",
                },
            )
            await api.call(
                "POST",
                f"/students/{student['person_id']}/guardians",
                token,
                json={"person": _person(parent_first, parent_last), "linked_on": f"{start}-09-01"},
            )
            if grade == 5:
                code = await api.call("POST", f"/people/{teacher['person_id']}/access-code", token)
                teacher_token = await api.account(code["codes"][0]["code"], teacher["username"])
                logins.append(("class teacher (5.a)", f"{first} {last}", teacher["username"]))
                family = await api.call(
                    "POST", f"/classes/{klass['class_id']}/access-codes", teacher_token
                )
                for issued in family["codes"]:
                    await api.account(issued["code"], issued["username"])
                    role = "student" if issued["person_id"] == student["person_id"] else "guardian"
                    logins.append((f"{role} (5.a)", "", issued["username"]))
        teacher = await api.call(
            "POST",
            "/staff",
            token,
            json={"person": _person("Rihards", "Ēcis"), "roles": ["teacher"], "hired_on": hired_on},
        )
        code = await api.call("POST", f"/people/{teacher['person_id']}/access-code", token)
        await api.account(code["codes"][0]["code"], teacher["username"])
        logins.append(("subject teacher", "Rihards Ēcis", teacher["username"]))

    table = Table(
        title=f"Demo vidusskola ({year}) — sign in at {urls['identity']}/api/identity/sign-in"
    )
    for column in ("role", "name", "username", "password"):
        table.add_column(column)
    for role, name, username in logins:
        table.add_row(role, name, username, DEMO_PASSWORD)
    console.print(table)
