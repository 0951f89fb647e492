"""Monthly statements: issued by the worker when a month closes, re-run, read, and printed."""

from __future__ import annotations

import dataclasses
import io
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from aiokafka import AIOKafkaProducer
from pypdf import PdfReader

from ezurnals.reporting.jobs import MonthlyStatementsJob
from ezurnals.reporting.service import SERVICE
from ezurnals.shared.db import Database
from ezurnals.shared.settings import Settings
from ezurnals.shared.testing.auth import TestIssuer
from ezurnals.shared.testing.stack import TestStack, api_client, eventually, running_worker

from .conftest import Bus, School

#: 1 November 2025, 08:00 in Riga: October has closed.
FIRST_OF_NOVEMBER = datetime(2025, 11, 1, 6, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
async def settings(stack: TestStack, issuer: TestIssuer) -> Settings:
    return await stack.settings(
        SERVICE,
        database="reporting_statements",
        jwks_url=issuer.jwks_url,
        topic_prefix=f"{stack.prefix}statements.",
    )


@pytest.fixture(scope="module")
async def school(
    settings: Settings, producer: AIOKafkaProducer, issuer: TestIssuer
) -> AsyncIterator[dict[str, Any]]:
    """October's facts are projected first; then the job's clock says November has begun."""
    s = School(Bus(settings, producer))
    await s.register()
    await s.define_year(date(2025, 12, 19))
    monday = date(2025, 10, 6)
    first = await s.lesson(monday, 1, topic="Daļskaitļi", no_homework=True)
    second = await s.lesson(date(2025, 10, 7), 1, topic="Procenti", no_homework=True)
    await s.absence(s.anna, first, monday)
    await s.excuse(s.anna, first, monday)
    await s.absence(s.anna, second, date(2025, 10, 7))
    graded = await s.grade(s.anna, monday, 5, lesson_id=first)
    await s.correct(s.anna, graded, 5, 7)
    await s.grade(s.anna, date(2025, 10, 20), 8)
    await s.grade(s.berta, monday, 9)
    await s.grade(s.berta, date(2025, 11, 3), 2)
    clock = [datetime(2025, 10, 20, 6, 0, tzinfo=UTC)]  # mid-month: nothing to issue yet
    job = MonthlyStatementsJob(interval_s=0.2, clock=lambda: clock[0])
    db = Database(settings.database_url)
    async with (
        running_worker(dataclasses.replace(SERVICE, jobs=(job,)), settings),
        db.raw() as conn,
    ):

        async def projected() -> bool:
            if await conn.fetchval("SELECT to_regclass('rm.absence_excuses')") is None:
                return False
            return await conn.fetchval("SELECT count(*) FROM rm.grades") == 4 and bool(
                await conn.fetchval("SELECT count(*) FROM rm.absence_excuses")
            )

        await eventually(projected, timeout=30, what="October is projected")
        assert await conn.fetchval("SELECT count(*) FROM statements") == 0
        clock[0] = FIRST_OF_NOVEMBER

        async def issued() -> bool:
            statements: int = await conn.fetchval("SELECT count(*) FROM statements")
            return statements == 2

        await eventually(issued, what="both statements issued")
        yield {"s": s, "db": db, "graded": graded}
    await db.dispose()


def headers(issuer: TestIssuer, s: School, person: uuid.UUID, *roles: str) -> dict[str, str]:
    return issuer.headers(person, s.school_id, roles)


async def test_the_worker_issued_octobers_statements_once(
    settings: Settings, issuer: TestIssuer, school: dict[str, Any]
) -> None:
    s: School = school["s"]
    async with school["db"].raw() as conn:
        events = await conn.fetch(
            "SELECT stream_id, payload FROM events WHERE event_type = 'StatementIssued'"
        )
    assert sorted(e["stream_id"] for e in events) == sorted(
        f"statement-{x}-2025-10" for x in (s.anna, s.berta)
    )
    annas = next(e["payload"] for e in events if e["payload"]["student_id"] == str(s.anna))
    assert (annas["grades"], annas["absences_excused"], annas["absences_unexcused"]) == (2, 1, 1)
    async with api_client(SERVICE, settings, **headers(issuer, s, s.annas_mother, "guardian")) as c:
        listed = (await c.get(f"/api/reporting/students/{s.anna}/statements")).json()
        assert [(m["month"], m["version"]) for m in listed] == [("2025-10", 1)]
        body = (await c.get(f"/api/reporting/students/{s.anna}/statements/2025-10")).json()
        (math,) = body["statement"]["subjects"]
        assert math["subject"] == "Matemātika" and math["grades"] == ["5|7", "8"]
        assert math["average"] == "7.5"
        other = await c.get(f"/api/reporting/students/{s.berta}/statements/2025-10")
        assert other.status_code == 404 and str(s.berta) not in other.text
        missing = await c.get(f"/api/reporting/students/{s.anna}/statements/2025-09")
        assert missing.status_code == 404 and missing.json()["field"] == "month"
        bad = await c.get(f"/api/reporting/students/{s.anna}/statements/2025-13")
        assert bad.status_code == 422 and bad.json()["field"] == "month"


async def test_a_rerun_issues_only_what_changed(
    settings: Settings, issuer: TestIssuer, school: dict[str, Any]
) -> None:
    s: School = school["s"]
    director = headers(issuer, s, s.director, "director")
    async with api_client(SERVICE, settings, **director) as c:
        again = await c.post("/api/reporting/statements/runs", json={"month": "2025-10"})
        assert again.json() == {"month": "2025-10", "issued": 0, "unchanged": 2}
        await s.correct(s.berta, await s.grade(s.berta, date(2025, 10, 21), 3), 3, 4)

        async def changed() -> bool:
            """The job or this re-run, whichever comes first, issues it again."""
            await c.post(
                "/api/reporting/statements/runs",
                json={"month": "2025-10", "class_id": str(s.class_id)},
            )
            r = await c.get(f"/api/reporting/students/{s.berta}/statements/2025-10")
            return "3|4" in r.json()["statement"]["subjects"][0]["grades"]

        await eventually(changed, timeout=30, what="berta's statement issued again")
        versions = (await c.get(f"/api/reporting/students/{s.berta}/statements")).json()
        assert versions[0]["version"] >= 2 and versions[0]["grades"] == 2
        still = await c.post("/api/reporting/statements/runs", json={"month": "2025-10"})
        assert still.json()["issued"] == 0
        refused = await c.post("/api/reporting/statements/runs", json={"month": "2025-1"})
        assert refused.status_code == 422 and refused.json()["field"] == "month"
        this_month = datetime.now(UTC).astimezone(ZoneInfo("Europe/Riga")).strftime("%Y-%m")
        for month in (this_month, "2031-03", "2021-10"):
            early = await c.post("/api/reporting/statements/runs", json={"month": month})
            assert early.status_code == 422, early.text
            assert early.json()["field"] == "month"
            assert "from 2025-09 to " in early.json()["message"]
    parent = headers(issuer, s, s.bertas_father, "guardian")
    async with api_client(SERVICE, settings, **parent) as c:
        r = await c.post("/api/reporting/statements/runs", json={"month": "2025-10"})
        assert r.status_code == 403


async def test_statement_pdfs_per_student_and_per_class(
    settings: Settings, issuer: TestIssuer, school: dict[str, Any]
) -> None:
    s: School = school["s"]
    names = {
        str(s.anna): "Anna Bērziņa",
        str(s.berta): "Berta Ķēniņa",
        str(s.class_teacher): "Ilze Šķēle",
    }
    async with api_client(SERVICE, settings, **headers(issuer, s, s.annas_mother, "guardian")) as c:
        r = await c.post(
            f"/api/reporting/students/{s.anna}/statements/2025-10/pdf", json={"names": names}
        )
        assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
        text = PdfReader(io.BytesIO(r.content)).pages[0].extract_text()
        for expected in (
            "Sekmju un kavējumu izraksts",
            "2025. gada oktobris",
            "Anna Bērziņa",
            "7.a",
            "Matemātika",
            "5|7, 8",
            "7.5",
            "Ilze Šķēle",
            "attaisnoti 1, neattaisnoti 1",
        ):
            assert expected in text, expected
        assert "Berta" not in text
        refused = await c.post(
            f"/api/reporting/classes/{s.class_id}/statements/2025-10/pdf", json={"names": names}
        )
        assert refused.status_code == 404
        blank = await c.post(
            f"/api/reporting/students/{s.anna}/statements/2025-10/pdf",
            json={"names": {str(s.anna): ""}},
        )
        assert blank.status_code == 422 and blank.json()["field"].startswith("names")
    teacher = headers(issuer, s, s.class_teacher, "teacher", "class_teacher")
    async with api_client(SERVICE, settings, **teacher) as c:
        r = await c.post(
            f"/api/reporting/classes/{s.class_id}/statements/2025-10/pdf", json={"names": names}
        )
        assert r.status_code == 200, r.text
        pages = [p.extract_text() for p in PdfReader(io.BytesIO(r.content)).pages]
        assert len(pages) == 2
        assert "Anna Bērziņa" in pages[0] and "Berta Ķēniņa" in pages[1]
        assert "9" in pages[1] and "2, 9" not in pages[1]
        unnamed = await c.post(f"/api/reporting/students/{s.anna}/statements/2025-10/pdf", json={})
        assert (
            f"[{str(s.anna)[:8]}]" in PdfReader(io.BytesIO(unnamed.content)).pages[0].extract_text()
        )
