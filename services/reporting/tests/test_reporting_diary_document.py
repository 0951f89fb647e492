"""A rich diary week, fed through the projections as the other services publish it, read as
families and staff see it: every kind of lesson, mark, excuse and grade, written out by hand."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import AsyncIterator
from datetime import date, time
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaProducer

from ezurnals.reporting.service import SERVICE
from ezurnals.shared.contracts import attendance as at
from ezurnals.shared.contracts import identity as idn
from ezurnals.shared.contracts import lessons as ls
from ezurnals.shared.settings import Settings
from ezurnals.shared.testing.auth import TestIssuer
from ezurnals.shared.testing.stack import TestStack, api_client, eventually, running_worker

from .conftest import Bus, School

WEEK = "2025-W43"
MON, TUE, WED, THU, FRI = (date(2025, 10, d) for d in range(20, 25))
NEXT_MONDAY = date(2025, 10, 27)
#: Quotes, a backslash, control characters, non-ASCII and a character outside the BMP: what
#: JSON must escape and what it must pass through.
TRICKY = 'Uzdevumi "1.–5." lpp. 34\\35\n\tun\x01 ā 📚'


@pytest.fixture(scope="module")
async def settings(stack: TestStack, issuer: TestIssuer) -> Settings:
    return await stack.settings(SERVICE, database="reporting_diary_doc", jwks_url=issuer.jwks_url)


@pytest.fixture(scope="module")
async def worker(settings: Settings) -> AsyncIterator[None]:
    async with running_worker(SERVICE, settings):
        yield


# --- the week ----------------------------------------------------------------------------------


@dataclasses.dataclass
class Week:
    s: School
    #: The same school seen from the class Anna moves to on Wednesday, whose lessons are of a
    #: subject the read models never heard of (its name is null).
    b: School
    lessons: dict[str, uuid.UUID]


async def lesson_event(s: School, lesson_id: uuid.UUID, event: ls.LessonsEvent) -> None:
    await s.bus.publish(event, stream=f"lesson-{lesson_id}", school_id=s.school_id)


async def late(s: School, student: uuid.UUID, lesson_id: uuid.UUID, day: date) -> None:
    await s.bus.publish(
        at.AbsenceRecorded(
            absence_id=uuid.uuid5(lesson_id, str(student)),
            student_id=student,
            lesson_id=lesson_id,
            class_id=s.class_id,
            date=day,
            code="nk",
            counts_as_absence=False,
            is_late=True,
            excused_by_code=False,
            minutes_late=10,
            recorded_by=s.teacher,
            revision=1,
        ),
        stream=f"lesson-attendance-{lesson_id}",
        school_id=s.school_id,
    )


@pytest.fixture(scope="module")
async def week(settings: Settings, producer: AIOKafkaProducer, worker: None) -> Week:
    """Anna's week 43: recorded, unrecorded, cancelled, substituted and corrected lessons,
    homework with links, marks in every excuse state, corrected grades, grades outside the week's
    lessons, and a move to another class on Wednesday. Berta stays in the first class."""
    s = School(Bus(settings, producer))
    await s.register()
    b = dataclasses.replace(s, class_id=uuid.uuid4(), subject_id=uuid.uuid4())
    await s.identity(
        idn.ClassOpened(
            school_id=s.school_id,
            class_id=b.class_id,
            school_year="2025/2026",
            grade_level=7,
            label="7.b",
        ),
        f"school-{s.school_id}",
    )
    await s.identity(
        idn.StudentMoved(
            school_id=s.school_id,
            student_id=s.anna,
            from_class_id=s.class_id,
            to_class_id=b.class_id,
            school_year="2025/2026",
            moved_on=WED,
        ),
        f"roll-{s.school_id}-2025/2026",
    )
    homework = ls.Homework(
        text=TRICKY,
        links=("https://example.org/a?b=1&c=2", "https://example.org/\u0101"),
        due_date=WED,
    )
    le = {
        "recorded": await s.lesson(MON, 1, topic="Daļskaitļi", homework=homework),
        "substituted": await s.lesson(MON, 2, room="204", topic="Procenti", no_homework=True),
        "cancelled": await s.lesson(MON, 3),
        "corrected": await s.lesson(TUE, 1, topic="Daļskaitļi II", no_homework=True),
        "pending": await s.lesson(TUE, 2, topic="Procenti II", no_homework=True),
        "rejected": await s.lesson(TUE, 3),
        "after_move": await s.lesson(WED, 1, topic="Cits", no_homework=True),
        "b_excused": await b.lesson(
            WED, 2, topic="Vienādojumi", homework=ls.Homework(text="Lasīt", due_date=FRI)
        ),
        "b_fraction": await b.lesson(
            THU, 3, starts_at=time(9, 30, 0, 500000), ends_at=time(10, 10, 0, 123456)
        ),
        "b_plain": await b.lesson(FRI, 1, topic="Nevienādības", no_homework=True),
        "b_next_week": await b.lesson(NEXT_MONDAY, 1, topic="Nākamā", no_homework=True),
    }
    await lesson_event(
        s,
        le["substituted"],
        ls.LessonSubstituted(
            lesson_id=le["substituted"],
            lesson_date=MON,
            substitute_teacher_id=uuid.uuid4(),
            replaced_teacher_id=s.teacher,
        ),
    )
    await lesson_event(
        s,
        le["cancelled"],
        ls.LessonCancelled(lesson_id=le["cancelled"], lesson_date=MON, reason="x"),
    )
    await lesson_event(
        s,
        le["corrected"],
        ls.LessonRecordCorrected(
            lesson_id=le["corrected"],
            topic="Daļskaitļi (labots)",
            homework=ls.Homework(text="Uzdevumi 6–9", links=(), due_date=THU),
            corrected_by=s.teacher,
            reason="kļūda",
        ),
    )
    await s.absence(s.anna, le["recorded"], MON)
    await s.excuse(s.anna, le["recorded"], MON)
    await late(s, s.anna, le["substituted"], MON)
    await s.absence(s.anna, le["corrected"], TUE, code="s", excused_by_code=True)
    await s.absence(s.anna, le["pending"], TUE)
    await s.request_excuse(s.anna, lesson_ids=(le["pending"],))
    await s.absence(s.anna, le["rejected"], TUE)
    await s.request_excuse(s.anna, lesson_ids=(le["rejected"],), rejected=True)
    await b.absence(s.anna, le["b_excused"], WED)
    await b.excuse(s.anna, le["b_excused"], WED)
    await s.request_excuse(s.anna, day=WED)
    await s.absence(s.berta, le["after_move"], WED)

    corrected = await s.grade(s.anna, MON, 5, lesson_id=le["recorded"])
    await s.correct(s.anna, corrected, 5, 6)
    await s.correct(s.anna, corrected, 6, 8)
    await s.grade(s.anna, MON, 9, lesson_id=le["recorded"], title="Atbilde stundā")
    await s.grade(s.berta, MON, 4, lesson_id=le["recorded"])
    await s.grade(s.anna, TUE, 7, title="Referāts")
    await s.grade(s.anna, WED, 6, lesson_id=le["after_move"])
    await s.grade(s.anna, NEXT_MONDAY, 3, title="Nākamnedēļ")
    await s.grade(s.anna, date(2025, 11, 4), 10, title="Novembrī")
    await b.grade(s.anna, WED, 7, lesson_id=le["b_excused"], title="Mājasdarbs")
    await b.grade(s.anna, THU, 8, lesson_id=le["b_next_week"], title="Tests")

    async with api_client(SERVICE, settings, **_headers(settings, s.annas_mother, s)) as c:

        async def projected() -> bool:
            r = await c.get(f"/api/reporting/students/{s.anna}/diary", params={"week": WEEK})
            november = await c.get(
                f"/api/reporting/students/{s.anna}/diary", params={"week": "2025-W45"}
            )
            if r.status_code != 200 or november.status_code != 200:
                return False
            return summary(r.json(), le) == EXPECTED and len(november.json()["other_grades"]) == 1

        await eventually(projected, timeout=60, what="the week is projected")
    return Week(s, b, le)


_ISSUERS: dict[str, TestIssuer] = {}


@pytest.fixture(scope="module", autouse=True)
def _register_issuer(settings: Settings, issuer: TestIssuer) -> None:
    _ISSUERS[settings.database_url] = issuer


def _headers(
    settings: Settings, person: uuid.UUID, s: School, role: str = "guardian"
) -> dict[str, str]:
    return _ISSUERS[settings.database_url].headers(person, s.school_id, [role])


#: Anna's week 43 written out by hand, per lesson in diary order: its name in the fixture,
#: (recorded, cancelled, substituted, corrected, homework, no_homework), the grades shown and the
#: mark's (code, excuse, document); then the other grades shown.
EXPECTED: Any = (
    (
        ("recorded", (True, False, False, False, True, False), ["9", "5|6|8"],
         ("n", "excused", "doctor_certificate")),
        ("substituted", (True, False, True, False, False, True), [], ("nk", "unexcused", None)),
        ("cancelled", (False, True, False, False, False, False), [], None),
        ("corrected", (True, False, False, True, True, False), [], ("s", "excused", None)),
        ("pending", (True, False, False, False, False, True), [], ("n", "pending", None)),
        ("rejected", (False, False, False, False, False, False), [], ("n", "rejected", None)),
        ("b_excused", (True, False, False, False, True, False), ["7"],
         ("n", "excused", "doctor_certificate")),
        ("b_fraction", (False, False, False, False, False, False), [], None),
        ("b_plain", (True, False, False, False, False, True), [], None),
    ),
    ["7", "6", "8"],
)  # fmt: skip


def summary(body: dict[str, Any], lessons: dict[str, uuid.UUID]) -> Any:
    names = {str(v): k for k, v in lessons.items()}
    return (
        tuple(
            (
                names.get(le["lesson_id"], le["lesson_id"]),
                (
                    le["recorded"],
                    le["cancelled"],
                    le["substitute_teacher_id"] is not None,
                    le["corrected"],
                    le["homework"] is not None,
                    le["no_homework"],
                ),
                [g["shown"] for g in le["grades"]],
                le["mark"]
                and (le["mark"]["code"], le["mark"]["excuse"], le["mark"]["document_type"]),
            )
            for le in body["lessons"]
        ),
        [g["shown"] for g in body["other_grades"]],
    )


async def read(
    settings: Settings, student: uuid.UUID, headers: dict[str, str], week: str
) -> httpx.Response:
    async with api_client(SERVICE, settings, **headers) as c:
        return await c.get(f"/api/reporting/students/{student}/diary", params={"week": week})


# --- the tests ---------------------------------------------------------------------------------


async def test_the_rich_week_reads_as_written_by_hand(settings: Settings, week: Week) -> None:
    s = week.s
    r = await read(settings, s.anna, _headers(settings, s.annas_mother, s), WEEK)
    body = r.json()
    assert summary(body, week.lessons) == EXPECTED
    first = body["lessons"][0]
    assert first["homework"] == {
        "text": TRICKY,
        "links": ["https://example.org/a?b=1&c=2", "https://example.org/\u0101"],
        "due_date": "2025-10-22",
    }
    assert [g["earlier_values"] for g in first["grades"]] == [[], ["5", "6"]]
    assert [g["corrected"] for g in first["grades"]] == [False, True]
    assert first["grades"][1]["subject"] == "Matemātika" and first["grades"][1]["value"] == "8"
    corrected = body["lessons"][3]
    assert corrected["topic"] == "Daļskaitļi (labots)" and corrected["homework"]["links"] == []
    substituted = body["lessons"][1]
    assert substituted["room"] == "204" and substituted["mark"]["minutes_late"] == 10
    assert substituted["mark"]["is_late"] and not substituted["mark"]["counts_as_absence"]
    fraction = body["lessons"][7]
    assert (fraction["starts_at"], fraction["ends_at"]) == ("09:30:00.500000", "10:10:00.123456")
    assert fraction["subject"] is None and fraction["subject_id"] == str(week.b.subject_id)
    assert body["lessons"][0]["starts_at"] == "08:00:00"
    november = (
        await read(settings, s.anna, _headers(settings, s.annas_mother, s), "2025-W45")
    ).json()
    assert november["lessons"] == [] and [g["work_title"] for g in november["other_grades"]] == [
        "Novembrī"
    ]
    empty = (await read(settings, s.anna, _headers(settings, s.annas_mother, s), "2025-W46")).json()
    assert (empty["lessons"], empty["other_grades"]) == ([], [])


async def test_another_familys_child_or_an_unknown_student_is_a_404_that_leaks_nothing(
    settings: Settings, week: Week
) -> None:
    s = week.s
    for student, headers in (
        (s.berta, _headers(settings, s.annas_mother, s)),
        (s.anna, _headers(settings, s.bertas_father, s)),
        (uuid.uuid4(), _headers(settings, s.director, s, "director")),
    ):
        r = await read(settings, student, headers, WEEK)
        assert r.status_code == 404 and r.json()["field"] == "student_id", r.text
        assert not any(str(lesson) in r.text for lesson in week.lessons.values())
        assert "Daļskaitļi" not in r.text and "lessons" not in r.text
