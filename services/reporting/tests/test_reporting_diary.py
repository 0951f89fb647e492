"""The diary through the API, fed by other services' events on the real stack."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaProducer

from ezurnals.reporting.api import diary as diary_api
from ezurnals.reporting.api.common import reads
from ezurnals.reporting.api.diary import DiaryOut
from ezurnals.reporting.queries import Reads
from ezurnals.reporting.service import SERVICE
from ezurnals.shared.contracts import attendance as at
from ezurnals.shared.contracts import identity as idn
from ezurnals.shared.contracts import lessons as ls
from ezurnals.shared.db import Database
from ezurnals.shared.messaging.projection import schema_name
from ezurnals.shared.messaging.rebuild import rebuild
from ezurnals.shared.settings import Settings
from ezurnals.shared.testing.auth import TestIssuer
from ezurnals.shared.testing.stack import TestStack, api_client, eventually, running_worker

from .conftest import Bus, School, excuse_id_of

MONDAY = date(2025, 10, 6)
WEEK = "2025-W41"


@pytest.fixture(scope="module")
async def settings(stack: TestStack, issuer: TestIssuer) -> Settings:
    """Own topics too, so the rebuild replays exactly what the live projection saw."""
    return await stack.settings(
        SERVICE,
        database="reporting_diary",
        jwks_url=issuer.jwks_url,
        topic_prefix=f"{stack.prefix}diary.",
    )


@pytest.fixture(scope="module")
async def worker(settings: Settings) -> AsyncIterator[None]:
    async with running_worker(SERVICE, settings):
        yield


@pytest.fixture(scope="module")
async def school(settings: Settings, producer: AIOKafkaProducer, worker: None) -> dict[str, Any]:
    """A week of lessons with grades, absences and excuses, projected by the worker."""
    s = School(Bus(settings, producer))
    await s.register()
    homework = ls.Homework(text="Uzdevumi 1.–5. lpp. 34", due_date=date(2025, 10, 8))
    first = await s.lesson(MONDAY, 1, topic="Daļskaitļi", homework=homework)
    second = await s.lesson(
        date(2025, 10, 7), 2, topic="Procenti", no_homework=True, late=True, minutes_late=30
    )
    unrecorded = await s.lesson(date(2025, 10, 8), 1)
    next_week = await s.lesson(date(2025, 10, 13), 1, topic="Cits", no_homework=True)
    await s.absence(s.anna, first, MONDAY)
    await s.excuse(s.anna, first, MONDAY)
    await s.absence(s.anna, second, date(2025, 10, 7))
    await s.request_excuse(s.anna, date(2025, 10, 7))
    await s.absence(s.anna, unrecorded, date(2025, 10, 8))
    graded = await s.grade(s.anna, MONDAY, 5, lesson_id=first)
    await s.correct(s.anna, graded, 5, 7)
    await s.grade(s.berta, MONDAY, 9, lesson_id=first)
    async with api_client(
        SERVICE, settings, **issuer_headers(settings, s.annas_mother, s.school_id, "guardian")
    ) as c:

        async def projected() -> bool:
            r = await c.get(f"/api/reporting/students/{s.anna}/diary", params={"week": WEEK})
            body = r.json() if r.status_code == 200 else {}
            lessons = body.get("lessons", [])
            return (
                len(lessons) == 3
                and all(le["mark"] for le in lessons)
                and bool(lessons[0]["grades"] and lessons[0]["grades"][0]["corrected"])
                and lessons[1]["mark"]["excuse"] == "pending"
            )

        await eventually(projected, timeout=30, what="the diary is projected")
    return {"s": s, "first": first, "second": second, "next_week": next_week}


_ISSUERS: dict[str, TestIssuer] = {}


def issuer_headers(
    settings: Settings, person: uuid.UUID, school: uuid.UUID, *roles: str
) -> dict[str, str]:
    return _ISSUERS[settings.database_url].headers(person, school, roles)


@pytest.fixture(scope="module", autouse=True)
def _register_issuer(settings: Settings, issuer: TestIssuer) -> None:
    _ISSUERS[settings.database_url] = issuer


async def diary(
    settings: Settings, student: uuid.UUID, headers: dict[str, str], **params: str
) -> httpx.Response:
    async with api_client(SERVICE, settings, **headers) as c:
        return await c.get(
            f"/api/reporting/students/{student}/diary", params=params or {"week": WEEK}
        )


async def test_a_guardian_reads_the_childs_week(settings: Settings, school: dict[str, Any]) -> None:
    s: School = school["s"]
    r = await diary(
        settings, s.anna, issuer_headers(settings, s.annas_mother, s.school_id, "guardian")
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["first_day"], body["last_day"]) == ("2025-10-06", "2025-10-12")
    first, second, third = body["lessons"]
    assert first["subject"] == "Matemātika" and first["starts_at"] == "08:00:00"
    assert first["teacher_id"] == str(s.teacher)
    assert first["topic"] == "Daļskaitļi"
    assert first["homework"]["text"] == "Uzdevumi 1.–5. lpp. 34" and not first["no_homework"]
    assert [g["shown"] for g in first["grades"]] == ["5|7"]
    assert first["grades"][0]["corrected"] and first["grades"][0]["value"] == "7"
    assert first["mark"]["code"] == "n" and first["mark"]["excuse"] == "excused"
    assert first["mark"]["document_type"] == "doctor_certificate"
    # who excused it, when, as what and against which document (rule 4)
    assert first["mark"]["excuse_record"] == {
        "excuse_id": str(excuse_id_of(s.anna, uuid.UUID(first["lesson_id"]))),
        "source": "direct",
        "document_type": "doctor_certificate",
        "reference": "Nr. 17",
        "excused_by": str(s.class_teacher),
        "excused_as": "class_teacher",
        "excused_at": "2025-10-06T14:00:00Z",
    }
    assert second["mark"]["excuse_record"] is None
    assert second["topic"] == "Procenti" and second["no_homework"] and second["homework"] is None
    assert second["mark"]["excuse"] == "pending"
    assert not third["recorded"] and third["topic"] is None
    assert third["mark"]["excuse"] == "unexcused"
    assert school["next_week"] not in {le["lesson_id"] for le in body["lessons"]}


async def test_reading_a_diary_is_recorded_in_the_access_audit(
    settings: Settings, school: dict[str, Any]
) -> None:
    s: School = school["s"]
    r = await diary(
        settings, s.anna, issuer_headers(settings, s.annas_mother, s.school_id, "guardian")
    )
    assert r.status_code == 200, r.text
    db = Database(settings.database_url)
    try:
        async with db.raw() as conn:
            rows = await conn.fetch(
                "SELECT actor_id, what FROM access_audit WHERE subject_id = $1", s.anna
            )
            published = await conn.fetchval(
                "SELECT count(*) FROM events WHERE event_type = 'PersonalDataReads'"
                " AND payload->'reads' @> jsonb_build_array(jsonb_build_object("
                "'reader_id', $1::text, 'subject_ids', jsonb_build_array($2::text)))",
                str(s.annas_mother),
                str(s.anna),
            )
    finally:
        await db.dispose()
    assert (s.annas_mother, "diary") in {(row["actor_id"], row["what"]) for row in rows}
    assert published >= 1


async def test_only_the_family_and_the_staff_of_the_class_read_a_diary(
    settings: Settings, school: dict[str, Any]
) -> None:
    s: School = school["s"]

    def h(person: uuid.UUID, *roles: str, school_id: uuid.UUID | None = None) -> dict[str, str]:
        return issuer_headers(settings, person, school_id or s.school_id, *roles)

    allowed = {
        "the student": (s.anna, h(s.anna, "student")),
        "the subject teacher": (s.anna, h(s.teacher, "teacher")),
        "the class teacher": (s.anna, h(s.class_teacher, "teacher", "class_teacher")),
        "the director": (s.anna, h(s.director, "director")),
        "another parent for their own child": (s.berta, h(s.bertas_father, "guardian")),
    }
    for who, (student, headers) in allowed.items():
        assert (await diary(settings, student, headers)).status_code == 200, who
    refused = {
        "a parent for another child": (s.berta, h(s.annas_mother, "guardian")),
        "a parent under a court restriction": (s.anna, h(s.restricted_father, "guardian")),
        "a student for a classmate": (s.berta, h(s.anna, "student")),
        "a teacher of another class": (s.anna, h(uuid.uuid4(), "teacher", "class_teacher")),
        "another school's director": (s.anna, h(s.director, "director", school_id=uuid.uuid4())),
        "an unknown student": (uuid.uuid4(), h(s.director, "director")),
    }
    for who, (student, headers) in refused.items():
        r = await diary(settings, student, headers)
        assert r.status_code == 404, who
        assert r.json()["field"] == "student_id" and str(student) not in r.text, who


async def decide_mothers_access(s: School, *, keeps: bool, on: date) -> None:
    """Anna, of age, decides whether her mother keeps access to her school data."""
    await s.identity(
        idn.GuardianAccessDecided(
            school_id=s.school_id,
            guardian_id=s.annas_mother,
            student_id=s.anna,
            keeps_access=keeps,
            decided_on=on,
        ),
        f"guardianship-{s.anna}",
    )


async def test_an_adult_students_decision_ends_a_guardians_access(
    settings: Settings, producer: AIOKafkaProducer, school: dict[str, Any]
) -> None:
    s: School = school["s"]
    mother = issuer_headers(settings, s.annas_mother, s.school_id, "guardian")
    await decide_mothers_access(s, keeps=False, on=date(2025, 11, 1))

    async def refused() -> bool:
        return (await diary(settings, s.anna, mother)).status_code == 404

    await eventually(refused, what="the guardian lost access")
    await decide_mothers_access(s, keeps=True, on=date(2025, 11, 2))

    async def allowed() -> bool:
        return (await diary(settings, s.anna, mother)).status_code == 200

    await eventually(allowed, what="the guardian has access again")


async def test_bad_week_is_a_422_naming_the_field(
    settings: Settings, school: dict[str, Any]
) -> None:
    s: School = school["s"]
    headers = issuer_headers(settings, s.director, s.school_id, "director")
    for week in ("2025-41", "2025-W54", "2025-W53"):
        r = await diary(settings, s.anna, headers, week=week)
        assert r.status_code == 422 and r.json()["field"] == "week", week
    r = await diary(settings, s.anna, headers, on="2025-10-09")
    assert r.status_code == 200 and r.json()["week"] == WEEK


async def test_an_older_mark_revision_arriving_late_changes_nothing(
    settings: Settings, school: dict[str, Any]
) -> None:
    s: School = school["s"]
    lesson = school["second"]
    headers = issuer_headers(settings, s.director, s.school_id, "director")
    await s.bus.publish(
        at.AbsenceCorrected(
            absence_id=uuid.uuid5(lesson, str(s.anna)),
            student_id=s.anna,
            lesson_id=lesson,
            class_id=s.class_id,
            date=date(2025, 10, 7),
            old_code="n",
            new_code=None,
            corrected_by=s.teacher,
            revision=2,
        ),
        stream=f"lesson-attendance-{lesson}",
        school_id=s.school_id,
    )
    stale = await s.absence(s.anna, lesson, date(2025, 10, 7), revision=1)

    async def present() -> bool:
        lessons = (await diary(settings, s.anna, headers)).json()["lessons"]
        return lessons[1]["mark"] is None

    await eventually(present, what="the corrected mark is gone")
    await s.bus.resend(stale, "attendance")
    db = Database(settings.database_url)
    async with db.raw() as conn:

        async def applied() -> bool:
            n = await conn.fetchval(
                "SELECT count(*) FROM rm.processed_events WHERE event_id = $1", stale.event_id
            )
            return bool(n)

        await eventually(applied, what="the stale revision was consumed")
    await db.dispose()
    lessons = (await diary(settings, s.anna, headers)).json()["lessons"]
    assert lessons[1]["mark"] is None


async def test_a_rebuilt_projection_equals_the_live_one(
    settings: Settings, school: dict[str, Any]
) -> None:
    db = Database(settings.database_url)
    try:
        await rebuild(
            db, settings, SERVICE.all_projections(settings), target_schema="rm_check", swap=False
        )
        async with db.raw() as conn:
            tables = [
                r["table_name"]
                for r in await conn.fetch(
                    "SELECT table_name FROM information_schema.tables WHERE table_schema = 'rm' "
                    "AND table_name <> 'processed_events'"
                )
            ]
            assert {"lessons", "grades", "attendance_marks", "enrolments"} <= set(tables)
            for table in tables:
                live = await conn.fetch(f"SELECT * FROM rm.{table}")
                fresh = await conn.fetch(f"SELECT * FROM rm_check.{table}")
                key = repr
                assert sorted(map(tuple, live), key=key) == sorted(map(tuple, fresh), key=key), (
                    table
                )
            for table in (
                "lessons",
                "grades",
                "attendance_marks",
                "enrolments",
                "guardianships",
                "absence_excuses",
                "excuse_requests",
                "subjects",
                "teaching",
            ):
                assert await conn.fetchval(f"SELECT count(*) FROM rm_check.{table}"), table
    finally:
        await db.dispose()


async def test_the_answer_is_the_documented_models_json_byte_for_byte(
    settings: Settings, school: dict[str, Any]
) -> None:
    """The diary is serialised from its rows, not through ``DiaryOut``: it must still be exactly
    what FastAPI would have sent for the model (fields, order, formats, content type)."""
    s: School = school["s"]
    readers = (
        (s.anna, issuer_headers(settings, s.annas_mother, s.school_id, "guardian")),
        (s.anna, issuer_headers(settings, s.class_teacher, s.school_id, "class_teacher")),
        (s.berta, issuer_headers(settings, s.director, s.school_id, "director")),
    )
    for student, headers in readers:
        for params in ({"week": WEEK}, {"week": "2025-W42"}, {"week": "2025-W40"}):
            r = await diary(settings, student, headers, **params)
            assert r.status_code == 200, r.text
            assert r.headers["content-type"] == "application/json"
            model = DiaryOut.model_validate_json(r.content)
            assert r.content == model.model_dump_json().encode(), params
    body = (await diary(settings, s.anna, readers[0][1])).json()
    assert [g["shown"] for g in body["lessons"][0]["grades"]] == ["5|7"]
    assert body["other_grades"] == []


async def test_a_diary_read_is_one_query(
    settings: Settings, school: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Access check and the whole week in one round trip, for families and staff alike, and for
    a refusal too (it reads what it refuses, but no more often). Counted are the statements on
    the read models: a fresh connection also runs asyncpg's own type introspection, once."""
    s: School = school["s"]
    statements: list[str] = []
    read_models = f"{schema_name(settings.read_model_schema)}."

    @asynccontextmanager
    async def counted(request: Any) -> AsyncIterator[Reads]:
        async with reads(request) as db:
            with db.conn.query_logger(lambda record: statements.append(record.query)):
                yield db

    monkeypatch.setattr(diary_api, "reads", counted)
    cases = (
        (s.anna, issuer_headers(settings, s.annas_mother, s.school_id, "guardian"), 200),
        (s.anna, issuer_headers(settings, s.teacher, s.school_id, "teacher"), 200),
        (s.berta, issuer_headers(settings, s.annas_mother, s.school_id, "guardian"), 404),
    )
    for student, headers, status in cases:
        statements.clear()
        r = await diary(settings, student, headers)
        assert r.status_code == status, r.text
        assert len([q for q in statements if read_models in q]) == 1, statements


async def test_a_week_kept_in_memory_shows_each_change_once_it_is_projected(
    settings: Settings, school: dict[str, Any]
) -> None:
    """One API process throughout: its kept answer must give way to a new grade of the student,
    a new lesson of the class and the end of the guardian's access."""
    s: School = school["s"]
    mother = issuer_headers(settings, s.annas_mother, s.school_id, "guardian")
    next_week, tuesday = "2025-W42", date(2025, 10, 14)
    async with api_client(SERVICE, settings, **mother) as c:
        kept = c._transport.app.state.diary_cache  # type: ignore[attr-defined]

        async def read() -> httpx.Response:
            return await c.get(
                f"/api/reporting/students/{s.anna}/diary", params={"week": next_week}
            )

        async def listening() -> bool:
            return bool(kept.live)

        await eventually(listening, what="the cache listens for changes")
        before = await read()
        again = await read()
        assert before.status_code == 200 and again.content == before.content
        assert kept.hits >= 1 and len(kept) == 1
        metrics = (await c.get("/metrics")).text
        assert 'ezurnals_diary_cache_reads_total{result="hit"}' in metrics
        assert "ezurnals_diary_cache_weeks 1.0" in metrics

        graded = await s.grade(s.anna, tuesday, 9)
        lesson = await s.lesson(tuesday, 3, topic="Jauna tēma", no_homework=True)

        async def shows_both() -> bool:
            body = (await read()).json()
            lessons = {le["lesson_id"] for le in body["lessons"]}
            return str(lesson) in lessons and str(graded) in {
                g["grade_id"] for g in body["other_grades"]
            }

        await eventually(shows_both, what="the new grade and lesson are read")
        await decide_mothers_access(s, keeps=False, on=date(2025, 11, 3))

        async def refused() -> bool:
            return (await read()).status_code == 404

        await eventually(refused, what="the guardian lost access")
