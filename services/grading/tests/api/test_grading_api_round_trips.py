"""A grade-book command reads what it decides on in one statement on one pooled connection, and
answers every refusal exactly as it did when it asked one query at a time."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

import asyncpg
import httpx

from ezurnals.grading.service import SERVICE
from ezurnals.shared.contracts import identity as idn
from ezurnals.shared.contracts import lessons as les
from ezurnals.shared.http.app import create_app
from ezurnals.shared.settings import Settings
from ezurnals.shared.testing.projections import asyncpg_lookup
from ezurnals.shared.testing.stack import api_client

if TYPE_CHECKING:
    from .conftest import GradedClass, SchoolFactory

#: What the token check reads (cached for a second): not the command's own work.
_REVOCATIONS = ("revoked_sessions", "revoked_people", "signed_out_everywhere")


def _work(student: uuid.UUID, **work: Any) -> dict[str, Any]:
    return {
        "work": {"title": "Kontroldarbs", "kind": "test", "given_on": "2025-10-06", **work},
        "marks": [{"student_id": str(student), "value": "8"}],
    }


def _refused(error: str, message: str, field: str | None = None, **details: Any) -> dict[str, Any]:
    return {"error": error, "message": message, "field": field, "details": details}


async def test_refusals_answer_as_they_always_did(
    graded_class: GradedClass, new_school: SchoolFactory
) -> None:
    c = graded_class
    school = c.school
    anna = c.students[0]
    forbidden = _refused("forbidden", "you may not grade this class in this subject")
    refused = await c.grade([(anna, "8")], who=c.as_deputy)  # sees the book, does not teach it
    assert (refused.status_code, refused.json()) == (403, forbidden)
    # who does not see the book is told what a made-up class would tell them
    no_class = _refused("not_found", "no such class", "class_id")
    callers = {
        "another teacher": school.as_(uuid.uuid4(), "teacher"),
        "a guardian": school.as_(uuid.uuid4(), "guardian"),
        "the student": school.as_(anna, "student"),
        "a token without roles": school.as_(c.teacher),
    }
    for who, headers in callers.items():
        refused = await c.grade([(anna, "8")], who=headers)
        assert (refused.status_code, refused.json()) == (404, no_class), who

    elsewhere = new_school().as_(c.teacher, "teacher")
    refused = await c.grade([(anna, "8")], who=elsewhere)
    assert (refused.status_code, refused.json()) == (
        404,
        _refused("not_found", "no such class", "class_id"),
    )
    unknown_subject = f"/classes/{c.class_id}/subjects/{uuid.uuid4()}/grades"
    refused = await school.call("POST", unknown_subject, c.as_teacher, json=_work(anna))
    assert (refused.status_code, refused.json()) == (
        404,
        _refused("not_found", "no such subject", "subject_id"),
    )

    # a lesson of another subject of the class, and a lesson unknown altogether
    physics = await school.subject("Fizika")
    lesson = uuid.uuid4()
    await school.publish(
        "lessons",
        f"lesson-{lesson}",
        les.LessonScheduled(
            lesson_id=lesson,
            school_id=school.school_id,
            timetable_id=uuid.uuid4(),
            slot_id=uuid.uuid4(),
            class_id=c.class_id,
            subject_id=physics,
            teacher_id=c.teacher,
            lesson_date=date(2025, 10, 7),
            starts_at="08:30",
            ends_at="09:10",
            period=1,
            grade_level=7,
        ),
    )
    await school.settled()
    no_lesson = _refused(
        "rule_violated", "no such lesson of this class and subject", "work.lesson_id"
    )
    for lesson_id in (lesson, uuid.uuid4()):
        body = _work(anna, lesson_id=str(lesson_id))
        refused = await school.call("POST", f"{c.book}/grades", c.as_teacher, json=body)
        assert (refused.status_code, refused.json()) == (422, no_lesson)
    refused = await c.grade([(anna, "8")], given_on=None)
    assert (refused.status_code, refused.json()) == (
        422,
        _refused("rule_violated", "say when the work was given", "work.given_on"),
    )

    # book commands other than recording grades
    stranger = school.as_(uuid.uuid4(), "teacher")
    finalize = await school.call("POST", f"{c.book}/periods/semester1/finalize", stranger)
    assert (finalize.status_code, finalize.json()) == (404, no_class)
    unlock = await school.call(
        "POST", f"{c.book}/periods/semester1/unlock", c.as_teacher, json={"reason": "kļūda"}
    )
    assert (unlock.status_code, unlock.json()) == (
        403,
        _refused("forbidden", "you may not unlock a finalised period"),
    )
    nowhere = await school.call(
        "POST",
        f"/classes/{uuid.uuid4()}/subjects/{c.subject_id}/periods/semester1/finalize",
        c.as_deputy,
    )
    assert (nowhere.status_code, nowhere.json()) == (
        404,
        _refused("not_found", "no such class", "class_id"),
    )


async def test_a_class_of_a_year_without_a_calendar_cannot_be_graded_yet(
    new_school: SchoolFactory,
) -> None:
    school = new_school()
    await school.register()
    class_id = uuid.uuid4()
    await school.identity(
        f"school-{school.school_id}",
        idn.ClassOpened(
            school_id=school.school_id,
            class_id=class_id,
            school_year="2026/2027",
            grade_level=5,
            label="5.c",
        ),
    )
    subject_id = await school.subject("Matemātika")
    [student] = await school.enrol(class_id, 1)
    teacher = uuid.uuid4()
    await school.assign(teacher, class_id, subject_id)
    await school.settled()
    url = f"/classes/{class_id}/subjects/{subject_id}/grades"
    refused = await school.call("POST", url, school.as_(teacher, "teacher"), json=_work(student))
    assert (refused.status_code, refused.json()) == (
        422,
        _refused("rule_violated", "the school calendar of 2026/2027 is not known yet", "given_on"),
    )


@dataclass
class _Counted:
    """Every connection the API checks out, with the statements it runs on each."""

    checkouts: list[list[str]] = field(default_factory=list)

    def commands(self) -> list[list[str]]:
        """The checkouts that did the commands' work (not the token check's)."""
        return [
            statements
            for statements in self.checkouts
            if not (statements and all(any(t in s for t in _REVOCATIONS) for s in statements))
        ]


@asynccontextmanager
async def _counting_api(settings: Settings) -> AsyncIterator[tuple[httpx.AsyncClient, _Counted]]:
    app = create_app(SERVICE, settings)
    counted = _Counted()
    async with app.router.lifespan_context(app):
        db = app.state.runtime.db
        pooled = db.raw
        #: The statements of the checkout each connection is in, by connection.
        holding: dict[int, list[str]] = {}

        def logger(key: int) -> Callable[[Any], None]:
            def log(query: Any) -> None:
                holding[key].append(query.query)

            return log

        @asynccontextmanager
        async def raw() -> AsyncIterator[asyncpg.Connection]:
            async with pooled() as conn:
                inner = getattr(conn, "_con", conn)
                key = id(inner)
                if key not in holding:
                    inner.add_query_logger(logger(key))
                statements: list[str] = []
                holding[key] = statements
                counted.checkouts.append(statements)
                try:
                    yield conn
                finally:
                    # asyncpg calls its query loggers soon after a statement, not during it
                    await asyncio.sleep(0)

        db.raw = raw
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            yield client, counted


def _book_commands(c: GradedClass) -> list[tuple[str, str, dict[str, str], Any]]:
    """One command of each kind on the class's book: grades, a correction, period grades,
    finalising and unlocking."""
    anna = c.students[0]
    base = f"/api/grading{c.book}"
    grade_id = uuid.uuid4()
    recorded = _work(anna)
    recorded["marks"][0]["grade_id"] = str(grade_id)
    return [
        ("POST", f"{base}/grades", c.as_teacher, recorded),
        (
            "POST",
            f"{base}/grades/{grade_id}/corrections",
            c.as_teacher,
            {"value": "9", "reason": "pārrēķināts"},
        ),
        (
            "PUT",
            f"{base}/periods/semester1/grades",
            c.as_teacher,
            {"entries": [{"student_id": str(s), "value": "8"} for s in c.students]},
        ),
        ("POST", f"{base}/periods/semester1/finalize", c.as_deputy, None),
        ("POST", f"{base}/periods/semester1/unlock", c.as_deputy, {"reason": "kļūda"}),
    ]


async def test_a_grade_book_command_takes_one_connection_and_one_read_of_its_facts(
    graded_class: GradedClass, settings: Settings
) -> None:
    async with _counting_api(settings) as (client, counted):
        for method, url, who, body in _book_commands(graded_class):
            counted.checkouts.clear()
            response = await client.request(method, url, headers=who, json=body)
            assert response.status_code in (200, 201), (url, response.text)
            [statements] = counted.commands()
            facts = [s for s in statements if "rm." in s]
            assert len(facts) == 1, (url, facts)


async def test_a_grade_book_command_is_two_statements_once_the_process_knows_its_book(
    graded_class: GradedClass, settings: Settings
) -> None:
    """The facts bring the school's policy and the book's newer events along, and the append
    updates the views in the same statement: no BEGIN and COMMIT, no read of a stream alone.
    Only the first command on a class this process has not seen reads the book by itself."""
    async with _counting_api(settings) as (client, counted):
        for i, (method, url, who, body) in enumerate(_book_commands(graded_class)):
            counted.checkouts.clear()
            response = await client.request(method, url, headers=who, json=body)
            assert response.status_code in (200, 201), (url, response.text)
            [statements] = counted.commands()
            statements = [s for s in statements if not asyncpg_lookup(s)]
            assert "rm." in statements[0] and "INSERT INTO events" in statements[-1], statements
            assert len(statements) == (3 if i == 0 else 2), (url, statements)


async def test_api_processes_decide_on_what_the_others_appended(
    graded_class: GradedClass, settings: Settings
) -> None:
    """Two API processes on one database: each catches its kept grade book up with the other's
    grades, and reads the policy the other just changed."""
    c = graded_class
    anna, berta = c.students[:2]
    grades = f"/api/grading{c.book}/grades"

    async def grade(api: httpx.AsyncClient, student: uuid.UUID, value: str) -> Any:
        body = {**_work(student), "marks": [{"student_id": str(student), "value": value}]}
        response = await api.post(grades, headers=c.as_teacher, json=body)
        assert response.status_code == 201, response.text
        return response.json()["grades"][0]

    async with api_client(SERVICE, settings) as one, api_client(SERVICE, settings) as other:
        await grade(one, anna, "8")
        await grade(one, anna, "7")  # the book is kept by the first process now
        berta_s = await grade(other, berta, "6")
        corrected = await one.post(
            f"{grades}/{berta_s['grade_id']}/corrections",
            headers=c.as_teacher,
            json={"value": "7", "reason": "pārrēķināts"},
        )
        assert corrected.status_code == 200, corrected.text
        assert corrected.json()["old_value"] == "6"
        scale = {"kind": "pass_fail", "band": {"first": 1, "last": 12}}
        defined = await other.put(
            f"/api/grading/scales/{uuid.uuid4()}",
            headers=c.as_deputy,
            json={**scale, "subject_id": str(c.subject_id)},
        )
        assert defined.status_code == 200, defined.text
        assert (await grade(one, anna, "i"))["value"] == "i"


async def test_a_policy_command_or_read_takes_one_connection(
    graded_class: GradedClass, settings: Settings
) -> None:
    c = graded_class
    url = "/api/grading/settings/semester-grades"
    async with _counting_api(settings) as (client, counted):
        counted.checkouts.clear()
        changed = await client.put(url, headers=c.as_deputy, json={"used": False})
        assert changed.status_code == 200, changed.text
        [statements] = counted.commands()
        assert any("INSERT" in s for s in statements), statements
        counted.checkouts.clear()
        read = await client.get("/api/grading/settings", headers=c.as_teacher)
        assert read.json() == {"semester_grades_used": False}
        assert len(counted.commands()) == 1, counted.checkouts


async def test_the_grade_sheet_is_one_statement_on_one_connection(
    graded_class: GradedClass, settings: Settings
) -> None:
    """The sheet comes from the grade and policy views the events keep, read with the caller's
    roles and the book's facts: no grade book or policy replayed from its stream, no second
    checkout."""
    c = graded_class
    graded = await c.grade([(c.students[0], "8")])
    assert graded.status_code == 201, graded.text
    async with _counting_api(settings) as (client, counted):
        for _ in range(2):  # the first read of a process also creates the access log's table
            counted.checkouts.clear()
            response = await client.get(f"/api/grading{c.book}/sheet", headers=c.as_teacher)
            assert response.status_code == 200, response.text
        reads = [
            [s for s in statements if not asyncpg_lookup(s)]
            for statements in counted.commands()
            if not any("access_audit" in s for s in statements)
        ]
        assert len(reads) == 1 and len(reads[0]) == 1, reads
        assert "grade_entries" in reads[0][0] and "grade_scales" in reads[0][0], reads
        assert "FROM events" not in reads[0][0], reads


async def test_a_students_grades_and_the_missing_period_grades_take_one_connection(
    graded_class: GradedClass, settings: Settings
) -> None:
    """The caller's roles are read on the read's own connection, not on a checkout of their own."""
    c = graded_class
    reads = [
        (f"/api/grading/students/{c.students[0]}/grades", c.as_teacher),
        ("/api/grading/missing-period-grades?period=semester1&school_year=2025/2026", c.as_deputy),
    ]
    async with _counting_api(settings) as (client, counted):
        for i, (url, who) in enumerate([*reads, *reads]):  # the first also create the audit table
            counted.checkouts.clear()
            response = await client.get(url, headers=who)
            assert response.status_code == 200, (url, response.text)
            checkouts = [
                statements
                for statements in counted.commands()
                if not any("access_audit" in s for s in statements)
            ]
            assert i < len(reads) or len(checkouts) == 1, (url, checkouts)
