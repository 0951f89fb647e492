"""The administration's and the teachers' views through the API, fed on the real stack."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaProducer

from ezurnals.reporting.service import SERVICE
from ezurnals.shared.contracts import attendance as at
from ezurnals.shared.contracts import lessons as ls
from ezurnals.shared.db import Database
from ezurnals.shared.settings import Settings
from ezurnals.shared.testing.auth import TestIssuer
from ezurnals.shared.testing.stack import TestStack, api_client, eventually, running_worker

from .conftest import Bus, School, excuse_id_of

WEEK = {"from": "2025-10-06", "to": "2025-10-10"}


@pytest.fixture(scope="module")
async def settings(stack: TestStack, issuer: TestIssuer) -> Settings:
    return await stack.settings(
        SERVICE,
        database="reporting_views",
        jwks_url=issuer.jwks_url,
        topic_prefix=f"{stack.prefix}views.",
    )


@pytest.fixture(scope="module")
async def school(settings: Settings, producer: AIOKafkaProducer) -> Any:
    """A week of grade 7: one lesson entered on time, one late, one never, one flagged overdue
    by lessons; absences, an excuse request, grades with a correction."""
    s = School(Bus(settings, producer))
    await s.register()
    latvian = await s.subject("latviesu_valoda", "Latviešu valoda", 105)
    on_time = await s.lesson(date(2025, 10, 6), 1, topic="Daļskaitļi", no_homework=True)
    late = await s.lesson(
        date(2025, 10, 7), 1, topic="Procenti", no_homework=True, late=True, minutes_late=30
    )
    never = await s.lesson(date(2025, 10, 8), 1)
    flagged = await s.lesson(date(2025, 10, 9), 2)
    await s.bus.publish(
        ls.LessonEntryOverdue(
            lesson_id=flagged,
            class_id=s.class_id,
            subject_id=s.subject_id,
            teacher_id=s.teacher,
            lesson_date=date(2025, 10, 9),
            deadline=datetime(2025, 10, 9, 13, 0, tzinfo=UTC),
        ),
        stream=f"lesson-{flagged}",
        school_id=s.school_id,
    )
    for lesson, day in ((on_time, date(2025, 10, 6)), (late, date(2025, 10, 7))):
        await s.bus.publish(
            at.AttendanceTaken(
                lesson_id=lesson,
                class_id=s.class_id,
                date=day,
                all_present=False,
                taken_by=s.teacher,
            ),
            stream=f"lesson-attendance-{lesson}",
            school_id=s.school_id,
        )
    await s.absence(s.anna, on_time, date(2025, 10, 6))
    await s.excuse(s.anna, on_time, date(2025, 10, 6))
    await s.absence(s.anna, late, date(2025, 10, 7))
    await s.request_excuse(s.anna, date(2025, 10, 7))
    graded = await s.grade(s.anna, date(2025, 10, 6), 5, lesson_id=on_time)
    await s.correct(s.anna, graded, 5, 7)
    await s.grade(s.anna, date(2025, 10, 7), 8, lesson_id=late)
    await s.grade(s.berta, date(2025, 10, 7), 9, lesson_id=late)
    db = Database(settings.database_url)
    async with running_worker(SERVICE, settings), db.raw() as conn:

        async def projected() -> bool:
            if await conn.fetchval("SELECT to_regclass('rm.excuse_requests')") is None:
                return False
            counts = await conn.fetchrow(
                """SELECT (SELECT count(*) FROM rm.lessons WHERE overdue) AS overdue,
                          (SELECT count(*) FROM rm.attendance_taken) AS taken,
                          (SELECT count(*) FROM rm.excuse_requests) AS requests,
                          (SELECT count(*) FROM rm.absence_excuses) AS excuses,
                          (SELECT count(*) FROM rm.grades WHERE earlier_values <> '{}')
                              AS corrected,
                          (SELECT count(*) FROM rm.grades) AS grades,
                          (SELECT count(*) FROM rm.teaching) AS teaching,
                          (SELECT count(*) FROM rm.entry_deadline_policies) AS policies"""
            )
            return tuple(counts) == (1, 2, 1, 1, 1, 3, 2, 1)

        await eventually(projected, timeout=30, what="the week is projected")
        yield {
            "s": s,
            "latvian": latvian,
            "lessons": (on_time, late, never, flagged),
        }
    await db.dispose()


async def get(
    settings: Settings,
    issuer: TestIssuer,
    s: School,
    who: uuid.UUID,
    roles: tuple[str, ...],
    path: str,
    **params: str,
) -> httpx.Response:
    async with api_client(SERVICE, settings, **issuer.headers(who, s.school_id, roles)) as c:
        return await c.get(f"/api/reporting{path}", params=params)


DIRECTOR = ("director",)


async def test_compliance_counts_each_teachers_days_on_time_late_and_overdue(
    settings: Settings, issuer: TestIssuer, school: dict[str, Any]
) -> None:
    s: School = school["s"]
    r = await get(settings, issuer, s, s.director, DIRECTOR, "/administration/compliance", **WEEK)
    assert r.status_code == 200, r.text
    body = r.json()
    days = {(row["day"], row["teacher_id"]): row for row in body["rows"]}
    assert set(days) == {(f"2025-10-0{d}", str(s.teacher)) for d in (6, 7, 8, 9)}
    states = {
        day: next(k for k in ("on_time", "late", "overdue", "open") if row[k])
        for (day, _), row in days.items()
    }
    assert states == {
        "2025-10-06": "on_time",
        "2025-10-07": "late",
        "2025-10-08": "overdue",
        "2025-10-09": "overdue",
    }
    assert body["totals"] == {"lessons": 4, "on_time": 1, "late": 1, "overdue": 2, "open": 0}
    other = await get(
        settings,
        issuer,
        s,
        s.director,
        DIRECTOR,
        "/administration/compliance",
        teacher_id=str(uuid.uuid4()),
        **WEEK,
    )
    assert other.json()["rows"] == []
    backwards = await get(
        settings,
        issuer,
        s,
        s.director,
        DIRECTOR,
        "/administration/compliance",
        **{"from": "2025-10-10", "to": "2025-10-06"},
    )
    assert backwards.status_code == 422 and backwards.json()["field"] == "from"
    too_long = await get(
        settings,
        issuer,
        s,
        s.director,
        DIRECTOR,
        "/administration/compliance",
        **{"from": "2025-01-01", "to": "2025-10-06"},
    )
    assert too_long.status_code == 422 and too_long.json()["field"] == "to"


async def test_open_lessons_lack_a_topic_or_attendance(
    settings: Settings, issuer: TestIssuer, school: dict[str, Any]
) -> None:
    s: School = school["s"]
    _, _, never, flagged = school["lessons"]
    r = await get(
        settings,
        issuer,
        s,
        s.director,
        ("deputy_director",),
        "/administration/open-lessons",
        **WEEK,
    )
    assert r.status_code == 200, r.text
    found = {row["lesson_id"]: row for row in r.json()}
    assert set(found) == {str(never), str(flagged)}
    assert found[str(never)]["missing"] == ["topic", "attendance"]
    assert found[str(never)]["state"] == "overdue"
    assert found[str(never)]["deadline"].startswith("2025-10-08T13:00")  # 16:00 in Riga


async def test_absence_statistics_and_grade_distribution(
    settings: Settings, issuer: TestIssuer, school: dict[str, Any]
) -> None:
    s: School = school["s"]
    r = await get(
        settings, issuer, s, s.director, ("admin",), "/administration/absences", month="2025-10"
    )
    (klass,) = r.json()["classes"]
    assert klass["class_id"] == str(s.class_id) and klass["label"] == "7.a"
    assert (klass["absences_excused"], klass["absences_unexcused"], klass["students_absent"]) == (
        1,
        1,
        1,
    )
    bad = await get(
        settings, issuer, s, s.director, DIRECTOR, "/administration/absences", month="2025-13"
    )
    assert bad.status_code == 422 and bad.json()["field"].endswith("month")
    r = await get(
        settings, issuer, s, s.director, DIRECTOR, "/administration/grades", school_year="2025/2026"
    )
    (math,) = r.json()
    assert math["subject"] == "Matemātika" and math["counts"] == {"7": 1, "8": 1, "9": 1}
    assert (math["grades"], math["average"]) == (3, "8.00")


async def test_only_the_administration_sees_the_schools_views(
    settings: Settings, issuer: TestIssuer, school: dict[str, Any]
) -> None:
    s: School = school["s"]
    for who, roles in (
        (s.class_teacher, ("teacher", "class_teacher")),
        (s.annas_mother, ("guardian",)),
        (s.anna, ("student",)),
    ):
        for path, params in (
            ("/administration/compliance", WEEK),
            ("/administration/open-lessons", WEEK),
            ("/administration/absences", {"month": "2025-10"}),
        ):
            r = await get(settings, issuer, s, who, roles, path, **params)
            assert r.status_code == 403, (roles, path)
    async with api_client(
        SERVICE, settings, **issuer.headers(s.director, uuid.uuid4(), DIRECTOR)
    ) as c:
        r = await c.get("/api/reporting/administration/absences", params={"month": "2025-10"})
        assert r.status_code == 200 and r.json()["classes"] == []


async def test_the_class_journal_is_a_grid_of_students_and_lessons(
    settings: Settings, issuer: TestIssuer, school: dict[str, Any]
) -> None:
    s: School = school["s"]
    on_time, late, _never, _flagged = school["lessons"]
    path = f"/classes/{s.class_id}/journal"
    params = {"subject_id": str(s.subject_id), **WEEK}
    r = await get(settings, issuer, s, s.teacher, ("teacher",), path, **params)
    assert r.status_code == 200, r.text
    body = r.json()
    assert [le["lesson_id"] for le in body["lessons"]] == [str(x) for x in school["lessons"]]
    assert [le["recorded"] for le in body["lessons"]] == [True, True, False, False]
    rows = {row["student_id"]: row for row in body["students"]}
    anna = rows[str(s.anna)]
    assert anna["marks"] == {
        str(on_time): {
            "code": "n",
            "excuse": "excused",
            "excuse_record": {
                "excuse_id": str(excuse_id_of(s.anna, on_time)),
                "source": "direct",
                "document_type": "doctor_certificate",
                "reference": "Nr. 17",
                "excused_by": str(s.class_teacher),
                "excused_as": "class_teacher",
                "excused_at": "2025-10-06T14:00:00Z",
            },
        },
        str(late): {"code": "n", "excuse": "pending", "excuse_record": None},
    }
    assert [(g["shown"], g["lesson_id"]) for g in anna["grades"]] == [
        ("5|7", str(on_time)),
        ("8", str(late)),
    ]
    assert rows[str(s.berta)]["marks"] == {}
    for who, roles, subject in (
        (uuid.uuid4(), ("teacher",), s.subject_id),
        (s.teacher, ("teacher",), uuid.uuid4()),
        (s.annas_mother, ("guardian",), s.subject_id),
    ):
        refused = await get(settings, issuer, s, who, roles, path, subject_id=str(subject), **WEEK)
        assert refused.status_code == 404 and refused.json()["field"] == "class_id", roles


async def test_the_class_teachers_overview(
    settings: Settings, issuer: TestIssuer, school: dict[str, Any]
) -> None:
    s: School = school["s"]
    path = f"/classes/{s.class_id}/overview"
    r = await get(settings, issuer, s, s.class_teacher, ("teacher", "class_teacher"), path, **WEEK)
    assert r.status_code == 200, r.text
    body = r.json()
    rows = {row["student_id"]: row for row in body["students"]}
    anna, berta = rows[str(s.anna)], rows[str(s.berta)]
    assert (anna["absences"], anna["unexcused"], anna["pending_excuse_requests"]) == (2, 1, 1)
    assert (berta["absences"], berta["pending_excuse_requests"]) == (0, 0)
    assert (
        anna["subjects_without_grades"]
        == berta["subjects_without_grades"]
        == [str(school["latvian"])]
    )
    (pending,) = body["pending_requests"]
    assert pending["student_id"] == str(s.anna) and pending["covers_from"] == "2025-10-07"
    refused = await get(settings, issuer, s, s.teacher, ("teacher",), path, **WEEK)
    assert refused.status_code == 404


async def test_the_deadline_shown_is_the_one_lessons_decided(
    settings: Settings,
    issuer: TestIssuer,
    producer: AIOKafkaProducer,
    school: dict[str, Any],
) -> None:
    """Reporting keeps no deadline of its own: a school whose lessons service set grades 1–12 by
    17:30 from 6.10. has its grade 7 lesson due then (the seed rules said 16:00)."""
    other = School(Bus(settings, producer))
    await other.register()
    await other.bus.publish(
        ls.EntryDeadlinePolicySet(
            school_id=other.school_id,
            effective_from=date(2025, 10, 6),
            deadlines=(ls.GradeBandDeadline(first_grade=1, last_grade=12, deadline=time(17, 30)),),
            consultation_cutoff=time(20, 0),
        ),
        stream=f"deadline-policy-{other.school_id}",
        school_id=other.school_id,
    )
    lesson = await other.lesson(date(2025, 10, 6), 1)
    db = Database(settings.database_url)
    try:
        async with db.raw() as conn:

            async def arrived() -> bool:
                policies = await conn.fetchval(
                    "SELECT count(*) FROM rm.entry_deadline_policies WHERE school_id = $1",
                    other.school_id,
                )
                lessons = await conn.fetchval(
                    "SELECT count(*) FROM rm.lessons WHERE lesson_id = $1", lesson
                )
                return bool(policies == 2 and lessons == 1)

            await eventually(arrived, timeout=30, what="the school's own deadline policy")
    finally:
        await db.dispose()
    r = await get(
        settings, issuer, other, other.director, DIRECTOR, "/administration/open-lessons", **WEEK
    )
    assert r.status_code == 200, r.text
    (row,) = r.json()
    assert row["lesson_id"] == str(lesson)
    assert row["deadline"].startswith("2025-10-06T14:30")  # 17:30 in Riga
