"""`ezurnals seed` against a real `ezurnals up`: a small school created and two school days
simulated through the APIs, then read back as a guardian, a teacher and the administration."""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from rich.console import Console

from ezurnals.tools.seed import (
    RIGA,
    SchoolRun,
    SeedOptions,
    SeedResult,
    current_school_year,
    load_urls,
    operator_secret,
    print_summary,
    run_seed,
)
from ezurnals.tools.seeding.client import PASSWORD
from ezurnals.tools.seeding.plan import SchoolYear, plan_school
from ezurnals.tools.testing import running_up

pytestmark = pytest.mark.slow

STUDENTS = 40
SEED = 20260901


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A fresh `ezurnals up` (embedded PostgreSQL and Kafka), stopped cleanly afterwards."""
    root = tmp_path_factory.mktemp("seed")
    with running_up(root / "data", root / "up.log"):
        yield root / "data"


@pytest.fixture(scope="module")
async def seeded(data_dir: Path) -> SeedResult:
    now = datetime.now(RIGA)
    options = SeedOptions(
        schools=1,
        year=SchoolYear.of(current_school_year(now.date())),
        days=2,
        seed=SEED,
        max_students=STUDENTS,
    )
    console = Console(file=io.StringIO(), width=120)
    return await run_seed(load_urls(data_dir, None), options, operator_secret(data_dir), console)


async def eventually(check: Any, what: str, timeout: float = 45.0) -> Any:
    """The reporting and attendance read models follow the events a moment later."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        found = await check()
        if found:
            return found
        assert asyncio.get_running_loop().time() < deadline, what
        await asyncio.sleep(0.5)


class Caller:
    def __init__(self, urls: dict[str, str], http: httpx.AsyncClient) -> None:
        self.urls, self.http = urls, http

    async def sign_in(self, username: str) -> dict[str, str]:
        signed = await self.http.post(
            f"{self.urls['identity']}/api/identity/sign-in",
            json={"username": username, "password": PASSWORD},
        )
        assert signed.status_code == 200, signed.text
        return {"Authorization": f"Bearer {signed.json()['access_token']}"}

    async def get(self, service: str, path: str, who: dict[str, str], **params: Any) -> Any:
        response = await self.http.get(
            f"{self.urls[service]}/api/{service}{path}", headers=who, params=params
        )
        assert response.status_code == 200, response.text
        return response.json()


def first_school(result: SeedResult) -> SchoolRun:
    [run] = result.schools
    return run


async def test_the_school_is_created_and_its_days_simulated_without_errors(
    seeded: SeedResult,
) -> None:
    stats, counts = seeded.stats, seeded.stats.counts
    assert stats.errors == 0, stats.messages
    assert len(seeded.days) == 2
    assert counts["schools"] == 1 and counts["classes"] == 12
    assert counts["students"] == STUDENTS
    assert counts["guardians"] >= STUDENTS * 0.9
    assert counts["lessons recorded"] > 0 and counts["grades"] > 0
    assert counts["lessons recorded"] + counts["lessons left open"] <= counts["lessons scheduled"]
    assert counts["attendance taken"] == counts["lessons recorded"]
    assert counts["period grades"] > 0
    summary = Console(file=io.StringIO(), width=200)
    print_summary(seeded, summary)
    text = summary.file.getvalue()  # type: ignore[attr-defined]
    assert "commands sent" in text and "errors" in text


async def test_a_guardian_reads_the_childs_diary_with_a_recorded_lesson(
    data_dir: Path, seeded: SeedResult
) -> None:
    run = first_school(seeded)
    urls = load_urls(data_dir, None)
    async with httpx.AsyncClient(timeout=30) as http:
        api = Caller(urls, http)
        admin = await api.sign_in(run.usernames["admin"])
        family = next(f for f in run.plan.families if f.guardians[0] in run.ids)
        guardian, child = family.guardians[0], family.children[0]
        if guardian not in run.sessions:
            code = await http.post(
                f"{urls['identity']}/api/identity/people/{run.ids[guardian]}/access-code",
                headers=admin,
            )
            assert code.status_code == 201, code.text
            activated = await http.post(
                f"{urls['identity']}/api/identity/activate",
                json={"code": code.json()["codes"][0]["code"], "password": PASSWORD},
            )
            assert activated.status_code == 200, activated.text
        parent = await api.sign_in(run.usernames[guardian])
        day = seeded.days[-1]

        async def recorded_lessons() -> list[dict[str, Any]]:
            diary = await api.get(
                "reporting", f"/students/{run.ids[child]}/diary", parent, on=day.isoformat()
            )
            return [x for x in diary["lessons"] if x["recorded"] and x["topic"]]

        lessons = await eventually(recorded_lessons, "a recorded lesson in the diary")
        names = {s.name for s in run.plan.subjects.values()}
        assert all(x["topic"].split(": ")[0] in names for x in lessons)

        stranger = next(s for s in run.plan.students if s not in family.children and s in run.ids)
        other = await http.get(
            f"{urls['reporting']}/api/reporting/students/{run.ids[stranger]}/diary",
            headers=parent,
        )
        assert other.status_code == 404


async def test_attendance_grades_and_excuses_are_there(data_dir: Path, seeded: SeedResult) -> None:
    run = first_school(seeded)
    urls = load_urls(data_dir, None)
    counts = seeded.stats.counts
    async with httpx.AsyncClient(timeout=30) as http:
        api = Caller(urls, http)
        admin = await api.sign_in(run.usernames["admin"])
        taken = 0
        for lesson_id in sorted(run.lessons.values())[:40]:
            lesson = await api.get("lessons", f"/lessons/{lesson_id}", admin)
            if not lesson["recorded"]:
                continue

            async def attendance(lesson_id: str = lesson_id) -> Any:
                found = await api.get("attendance", f"/lessons/{lesson_id}/attendance", admin)
                return found if found["taken"] else None

            taken += bool(await eventually(attendance, f"attendance of {lesson_id}"))
        assert taken > 0

        school_class = next(c for c in run.plan.classes if c.students)
        subject_key = next(k for (c, k, _) in run.book if c == school_class.key)
        teacher = await api.sign_in(run.usernames[school_class.teaching[subject_key]])
        sheet = await api.get(
            "grading",
            f"/classes/{run.class_ids[school_class.key]}/subjects/{run.subject_ids[subject_key]}/sheet",
            teacher,
        )
        given = [g for row in sheet["students"] for g in row["grades"]]
        assert given, json.dumps(sheet)[:500]

        requests = await api.get("attendance", "/excuse-requests", admin)
        decided = counts["excuses accepted"] + counts["excuses rejected"]
        assert len(requests) == counts["excuse requests"] == decided
        assert {r["status"] for r in requests} <= {"accepted", "rejected"}


def test_the_same_seed_names_the_same_people_as_the_run(seeded: SeedResult) -> None:
    run = first_school(seeded)
    again = plan_school(SEED, 0, seeded.year, STUDENTS)
    assert [(p.first_name, p.last_name) for p in again.people.values()] == [
        (p.first_name, p.last_name) for p in run.plan.people.values()
    ]
