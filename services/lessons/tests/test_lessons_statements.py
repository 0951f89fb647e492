"""Statements per command: each of the service's commands, on the real stack, runs no more
statements than it did before the command pipeline (the figures were measured on the code before
it and are the ceiling)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import date, time
from typing import Any

import pytest

from ezurnals.lessons.jobs import raise_overdue
from ezurnals.shared.testing.auth import TestIssuer
from ezurnals.shared.testing.stack import TestStack
from ezurnals.shared.testing.statements import counting

from .conftest import Api, School, lessons_api, lessons_settings, project_school, riga

#: Statements each command ran before the pipeline, with an Idempotency-Key (the stored answer
#: rides on the append), as the sequence below makes them; where a rule added since needs a read,
#: the figure says so.
CEILING = {
    "define_subject": 3,
    "open_timetable": 3,
    "define_slot": 4,
    "schedule_lessons": 7,
    "set_deadline_policy": 3,
    "record_lesson": 4,
    "correct_lesson": 3,
    "substitute_teacher": 4,
    "cancel_lesson": 3,
    # + the school's calendars: a note must lie in the current school year; + whether its
    # participants are the school's people (issue 16)
    "record_consultation": 5,
    "define_briefing_type": 3,
    # + the class's school year, read before access (a date outside it is the date's fault, not
    # a permission's) and again by the handler deciding (issue 16)
    "conduct_briefing": 11,
    "acknowledge_briefing": 2,
    "raise_overdue": 5,
}


@pytest.fixture(scope="module")
async def api(stack: TestStack, issuer: TestIssuer, school: School) -> AsyncIterator[Api]:
    settings = await lessons_settings(stack, issuer, "lessons_statements")
    await project_school(settings, school)
    async with lessons_api(settings, issuer, school) as api:
        api.at(riga(date(2026, 3, 2), time(7, 0)))
        yield api


async def test_no_command_runs_more_statements_than_before_the_pipeline(api: Api) -> None:
    s = api.school
    ran: dict[str, int] = {}

    async def command(name: str, method: str, url: str, who: dict[str, str], **kw: Any) -> Any:
        headers = {**who, "Idempotency-Key": str(uuid.uuid4())}
        async with counting(api.runtime.db) as counted:
            response = await api.client.request(method, url, headers=headers, **kw)
        assert response.status_code == 201, (name, response.text)
        ran[name] = len(counted.of_command())
        return response.json()

    subject = {
        "subject_id": str(s.maths),
        "name_key": "matematika",
        "name": "Matemātika",
        "curriculum_hours": {"5": 175},
    }
    await command("define_subject", "POST", "/subjects", api.admin, json=subject)
    opened = await command(
        "open_timetable", "POST", "/timetables", api.admin, json={"class_id": str(s.class5)}
    )
    timetable = opened["timetable_id"]
    slot = {
        "weekday": 1,
        "period": 1,
        "starts_at": "08:30:00",
        "ends_at": "09:10:00",
        "subject_id": str(s.maths),
        "teacher_id": str(s.teacher),
    }
    await command(
        "define_slot",
        "POST",
        f"/timetables/{timetable}/slots",
        api.admin,
        json={"effective_from": "2026-03-01", "slot": slot},
    )
    await command(
        "schedule_lessons",
        "POST",
        f"/timetables/{timetable}/schedule",
        api.admin,
        json={"first_day": "2026-03-02", "last_day": "2026-03-23"},
    )
    bands = [
        {"first_grade": 1, "last_grade": 6, "deadline": "15:00"},
        {"first_grade": 7, "last_grade": 12, "deadline": "16:00"},
    ]
    await command(
        "set_deadline_policy",
        "POST",
        "/deadline-policy",
        api.admin,
        json={"effective_from": "2026-03-03", "deadlines": bands, "consultation_cutoff": "20:00"},
    )
    listed = await api.client.get(
        "/lessons",
        params={"class_id": str(s.class5), "first_day": "2026-03-02", "last_day": "2026-03-23"},
        headers=api.admin,
    )
    first, second, third = (row["lesson_id"] for row in listed.json())
    api.at(riga(date(2026, 3, 2), time(10, 0)))
    entry = {"topic": "Daļskaitļi", "no_homework": True}
    await command("record_lesson", "POST", f"/lessons/{first}/record", api.teacher, json=entry)
    await command(
        "correct_lesson",
        "POST",
        f"/lessons/{first}/corrections",
        api.teacher,
        json={**entry, "topic": "Decimāldaļas", "reason": "pārrakstījos"},
    )
    await command(
        "substitute_teacher",
        "POST",
        f"/lessons/{second}/substitution",
        api.admin,
        json={"substitute_teacher_id": str(s.substitute)},
    )
    await command(
        "cancel_lesson",
        "POST",
        f"/lessons/{third}/cancellation",
        api.admin,
        json={"reason": "ekskursija"},
    )
    note = {
        "kind": "parent_conversation",
        "participant_ids": [str(s.students[0])],
        "summary": "Sarunājām par mājasdarbiem",
        "held_on": "2026-03-02",
    }
    await command("record_consultation", "POST", "/consultations", api.teacher, json=note)
    kind = await command(
        "define_briefing_type",
        "POST",
        "/briefing-types",
        api.admin,
        json={"name_key": "ugunsdrosiba", "name": "Ugunsdrošība"},
    )
    briefing = await command(
        "conduct_briefing",
        "POST",
        "/briefings",
        api.class_teacher,
        json={
            "briefing_type_id": kind["briefing_type_id"],
            "class_id": str(s.class5),
            "conducted_on": "2026-03-02",
            "topic": "Evakuācija",
        },
    )
    await command(
        "acknowledge_briefing",
        "POST",
        f"/briefings/{briefing['briefing_id']}/acknowledgements",
        api.class_teacher,
        json={"student_id": str(s.students[0]), "how": "paper"},
    )
    async with counting(api.runtime.db) as counted:
        raised = await raise_overdue(api.runtime, riga(date(2026, 3, 16), time(23, 0)))
    assert raised == 1, "the second lesson, substituted but unrecorded, is overdue that night"
    ran["raise_overdue"] = len(counted.of_command())
    assert ran.keys() == CEILING.keys()
    grown = {name: (count, CEILING[name]) for name, count in ran.items() if count > CEILING[name]}
    assert grown == {}, "statements (now, before)"
