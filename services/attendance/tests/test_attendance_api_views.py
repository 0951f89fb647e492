"""What families, class teachers and the administration read, and who may read it."""

from __future__ import annotations

import csv
import datetime as dt
import io
import uuid
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .conftest import World


async def mark(
    world: World, day: dt.date, period: int, *absent: uuid.UUID, late: uuid.UUID | None = None
) -> None:
    world.now = world.at(day, 13, 0)
    marks: list[dict[str, str | int]] = [{"student_id": str(s)} for s in absent]
    if late is not None:
        marks.append({"student_id": str(late), "minutes_late": 5})
    body = {"marks": marks} if marks else {"all_present": True}
    headers = world.substitute if (day, period) == (world.TUE, 2) else world.teacher
    taken = await world.client.post(
        f"/api/attendance/lessons/{world.lesson(day, period)}/attendance",
        json=body,
        headers=headers,
    )
    assert taken.status_code == 201, taken.text


async def test_views_of_a_class_a_student_and_the_school_day(world: World) -> None:
    await mark(world, world.MON, 1, world.anna, world.berzins, late=world.cirulis)
    await mark(world, world.MON, 2, world.anna)
    await mark(world, world.MON, 3, world.anna, world.berzins)
    await mark(world, world.TUE, 1, world.anna, world.berzins)
    world.now = world.at(world.TUE, 14, 0)

    month = await world.client.get(
        f"/api/attendance/students/{world.anna}/absences", headers=world.guardian
    )
    assert month.status_code == 200
    assert month.json()["months"] == [
        {
            "month": "2025-10",
            "excused_hours": 0,
            "unexcused_hours": 4,
            "late_arrivals": 0,
            "late_minutes": 0,
            "absent_hours": 4,
        }
    ]
    late = await world.client.get(
        f"/api/attendance/students/{world.cirulis}/absences",
        headers=world.headers(world.cirulis, "student"),
    )
    assert late.json()["months"][0]["late_arrivals"] == 1

    listed = await world.client.get(
        f"/api/attendance/classes/{world.class_5a}/unexcused-absences", headers=world.class_teacher
    )
    assert listed.status_code == 200
    per_student: dict[str, int] = {}
    for row in listed.json():
        per_student[row["student_id"]] = per_student.get(row["student_id"], 0) + 1
    assert per_student == {str(world.anna): 4, str(world.berzins): 3}

    report = await world.client.get(
        "/api/attendance/reports/daily.csv", params={"date": "2025-10-06"}, headers=world.deputy
    )
    assert report.status_code == 200 and report.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(report.text)))
    assert rows == [
        {
            "date": "2025-10-06",
            "class": "5.a",
            "enrolled": "3",
            "present": "2",
            "absent": "1",
            "lessons_taken": "3",
        },
        {
            "date": "2025-10-06",
            "class": "6.b",
            "enrolled": "1",
            "present": "1",
            "absent": "0",
            "lessons_taken": "0",
        },
    ]


async def test_who_may_read_what(world: World) -> None:
    klass = f"/api/attendance/classes/{world.class_5a}/unexcused-absences"
    assert (await world.client.get(klass, headers=world.deputy)).status_code == 200
    elsewhere = world.issuer.headers(world.dace, uuid.uuid4(), ["deputy_director"])
    nowhere = await world.client.get(
        f"/api/attendance/classes/{uuid.uuid4()}/unexcused-absences", headers=world.deputy
    )
    # a class the caller does not see reads exactly like a class that is not there
    for stranger in (world.other_teacher, world.teacher, world.guardian, elsewhere):
        refused = await world.client.get(klass, headers=stranger)
        assert (refused.status_code, refused.json()) == (404, nowhere.json()), refused.text

    student = f"/api/attendance/students/{world.anna}/absences"
    for allowed in (
        world.guardian,
        world.class_teacher,
        world.deputy,
        world.headers(world.anna, "student"),
    ):
        assert (await world.client.get(student, headers=allowed)).status_code == 200
    for denied in (
        world.restricted_guardian,
        world.other_teacher,
        world.headers(world.berzins, "student"),
        elsewhere,
    ):
        assert (await world.client.get(student, headers=denied)).status_code == 404

    report = "/api/attendance/reports/daily.csv"
    for denied in (world.class_teacher, world.guardian, world.teacher):
        assert (await world.client.get(report, headers=denied)).status_code == 403
    lesson = f"/api/attendance/lessons/{world.lesson(world.MON, 1)}/attendance"
    assert (await world.client.get(lesson, headers=world.other_teacher)).status_code == 404
    assert (await world.client.get(lesson, headers=world.guardian)).status_code == 404
