"""Taking a lesson's attendance in one action (rule 2): who may, what is refused, late entries
and corrections with their history."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import TYPE_CHECKING, Any

import httpx

from ezurnals.attendance.domain import absence_id_for
from ezurnals.shared.contracts.lessons import EntryDeadlinePolicySet, GradeBandDeadline
from ezurnals.shared.testing.stack import eventually

if TYPE_CHECKING:
    from .conftest import World


async def take(
    world: World, lesson: uuid.UUID, headers: dict[str, str], **body: Any
) -> httpx.Response:
    return await world.client.post(
        f"/api/attendance/lessons/{lesson}/attendance", json=body, headers=headers
    )


async def test_the_teacher_marks_the_absent_and_late_in_one_action(world: World) -> None:
    lesson = world.lesson(world.MON, 1)
    world.now = world.at(world.MON, 8, 40)
    marks = [
        {"student_id": str(world.anna)},
        {"student_id": str(world.berzins), "minutes_late": 10},
    ]

    taken = await take(world, lesson, world.teacher, marks=marks)

    assert taken.status_code == 201, taken.text
    assert taken.json() == {
        "lesson_id": str(lesson),
        "all_present": False,
        "marks": 2,
        "late_entry": False,
        "late_entry_minutes": 0,
    }
    read = await world.client.get(
        f"/api/attendance/lessons/{lesson}/attendance", headers=world.class_teacher
    )
    assert read.status_code == 200
    codes = {m["student_id"]: (m["code"], m["minutes_late"]) for m in read.json()["marks"]}
    assert codes == {str(world.anna): ("n", None), str(world.berzins): ("nk", 10)}
    again = await take(world, lesson, world.teacher, all_present=True)
    assert again.status_code == 409


async def test_all_present_is_an_explicit_entry_and_nothing_at_all_is_refused(world: World) -> None:
    lesson = world.lesson(world.MON, 2)
    world.now = world.at(world.MON, 9, 35)
    nothing = await take(world, lesson, world.teacher)
    assert nothing.status_code == 422 and nothing.json()["field"] == "all_present"

    present = await take(world, lesson, world.teacher, all_present=True)

    assert present.status_code == 201, present.text
    read = await world.client.get(
        f"/api/attendance/lessons/{lesson}/attendance", headers=world.teacher
    )
    assert read.json()["taken"] is True and read.json()["all_present"] is True


async def test_a_mark_for_a_student_not_in_the_class_is_a_422(world: World) -> None:
    world.now = world.at(world.TUE, 8, 40)
    refused = await take(
        world, world.lesson(world.TUE, 1), world.teacher, marks=[{"student_id": str(world.otto)}]
    )
    assert refused.status_code == 422
    assert refused.json()["field"] == "marks[0].student_id"
    unknown_code = await take(
        world,
        world.lesson(world.TUE, 1),
        world.teacher,
        marks=[{"student_id": str(world.anna), "code": "zz"}],
    )
    assert unknown_code.status_code == 422 and unknown_code.json()["field"] == "marks[0].code"


async def test_only_the_lessons_teacher_or_its_substitute_takes_attendance(world: World) -> None:
    world.now = world.at(world.TUE, 9, 40)
    substituted = world.lesson(world.TUE, 2)
    # the class teacher and the deputy see the lesson but do not give it: 403; a teacher of
    # another lesson and a guardian do not see it: the same 404 as a lesson that is not there
    for seer in (world.class_teacher, world.deputy):
        refused = await take(world, substituted, seer, all_present=True)
        assert refused.status_code == 403, refused.text
    for stranger in (world.other_teacher, world.guardian):
        refused = await take(world, substituted, stranger, all_present=True)
        assert refused.status_code == 404, refused.text
        assert refused.json()["message"] == "no such lesson", refused.text
    assert (await take(world, substituted, world.substitute, all_present=True)).status_code == 201
    not_hers = await take(world, world.lesson(world.TUE, 3), world.substitute, all_present=True)
    assert not_hers.status_code == 404


async def test_another_schools_lesson_and_a_cancelled_one(world: World) -> None:
    outsider = world.issuer.headers(world.talis, uuid.uuid4(), ["teacher"])
    elsewhere = await take(world, world.lesson(world.WED, 1), outsider, all_present=True)
    assert elsewhere.status_code == 404
    world.now = world.at(world.THU, 12, 0)
    cancelled = await take(world, world.lesson(world.THU, 3), world.teacher, all_present=True)
    assert cancelled.status_code == 409


async def test_attendance_before_the_lesson_starts_is_refused(world: World) -> None:
    world.now = world.at(world.WED, 8, 0)
    early = await take(world, world.lesson(world.WED, 1), world.teacher, all_present=True)
    assert early.status_code == 422 and early.json()["field"] == "lesson_id"


async def test_after_the_grade_bands_deadline_the_entry_is_accepted_and_marked_late(
    world: World,
) -> None:
    """Grade 5 enters by 15:00 in Riga; 15:20 is twenty minutes late."""
    world.now = world.at(world.WED, 15, 20)
    late = await take(world, world.lesson(world.WED, 2), world.teacher, all_present=True)
    assert late.status_code == 201
    assert late.json()["late_entry"] is True and late.json()["late_entry_minutes"] == 20
    world.now = world.at(world.WED, 14, 59)
    on_time = await take(world, world.lesson(world.WED, 3), world.teacher, all_present=True)
    assert on_time.json()["late_entry"] is False


async def test_a_correction_keeps_the_history_and_reaches_the_students_absences(
    world: World,
) -> None:
    lesson = world.lesson(world.THU, 1)
    world.now = world.at(world.THU, 8, 45)
    await take(world, lesson, world.teacher, marks=[{"student_id": str(world.anna)}])
    url = f"/api/attendance/lessons/{lesson}/attendance/corrections"
    outsider = await world.client.post(
        url, headers=world.teacher, json={"student_id": str(world.otto), "code": "n"}
    )
    assert outsider.status_code == 422 and outsider.json()["field"] == "student_id"
    not_teacher = await world.client.post(
        url, headers=world.class_teacher, json={"student_id": str(world.anna), "present": True}
    )
    assert not_teacher.status_code == 403

    fixed = await world.client.post(
        url,
        headers=world.teacher,
        json={"student_id": str(world.anna), "present": True, "reason": "came in late, was there"},
    )

    assert fixed.status_code == 200 and fixed.json()["changed"] is True
    read = (
        await world.client.get(
            f"/api/attendance/lessons/{lesson}/attendance", headers=world.teacher
        )
    ).json()
    assert read["marks"] == [] and read["all_present"] is True
    assert [(c["old_code"], c["new_code"]) for c in read["corrections"]] == [("n", None)]
    same = await world.client.post(
        url, headers=world.teacher, json={"student_id": str(world.anna), "present": True}
    )
    assert same.json()["changed"] is False
    absences = await world.client.get(
        f"/api/attendance/students/{world.anna}/absences", headers=world.deputy
    )
    removed = absence_id_for(lesson, world.anna)
    unexcused = await world.client.get(
        f"/api/attendance/classes/{world.class_5a}/unexcused-absences", headers=world.deputy
    )
    assert str(removed) not in {row["absence_id"] for row in unexcused.json()}
    assert absences.status_code == 200


async def test_minutes_late_are_bounded_by_the_lessons_length(world: Any) -> None:
    lesson = world.lessons_6b[world.MON]  # 08:30–08:59, a 29-minute lesson
    teacher = world.other_teacher
    world.now = world.at(world.MON, 9, 0)

    endless = await take(
        world, lesson, teacher, marks=[{"student_id": str(world.otto), "minutes_late": 10**12}]
    )

    assert endless.status_code == 422, endless.text
    assert endless.json()["field"] == "marks[0].minutes_late"
    assert "between 1 and 29" in endless.json()["message"]
    whole = await take(
        world, lesson, teacher, marks=[{"student_id": str(world.otto), "minutes_late": 29}]
    )
    assert whole.status_code == 201, whole.text
    corrected = await world.client.post(
        f"/api/attendance/lessons/{lesson}/attendance/corrections",
        headers=teacher,
        json={"student_id": str(world.otto), "code": "nk", "minutes_late": 30},
    )
    assert corrected.status_code == 422, corrected.text
    assert corrected.json()["field"] == "minutes_late"
    assert "between 1 and 29" in corrected.json()["message"]


async def test_the_deadline_is_the_one_lessons_decided(world: Any) -> None:
    """Attendance keeps no deadline of its own: a school's policy set in lessons (grades 1–12 by
    17:30 from a Friday on) decides the late entry, where the seed rules said 15:00."""
    fri = world.THU + dt.timedelta(days=1)
    policy = EntryDeadlinePolicySet(
        school_id=world.school,
        effective_from=fri,
        deadlines=(GradeBandDeadline(first_grade=1, last_grade=12, deadline=dt.time(17, 30)),),
        consultation_cutoff=dt.time(20, 0),
    )
    first, second = uuid.uuid4(), uuid.uuid4()
    await world.publish(
        "lessons",
        [
            (policy.event_type, f"deadline-policy-{world.school}", policy.model_dump(mode="json")),
            world._scheduled(first, world.class_5a, 5, fri, 1),
            world._scheduled(second, world.class_5a, 5, fri, 2),
        ],
    )

    async def arrived() -> bool:
        policies = await world.fetchval(
            "SELECT count(*) FROM rm.entry_deadline_policies WHERE school_id = $1", world.school
        )
        lessons = await world.fetchval(
            "SELECT count(*) FROM rm.lessons WHERE lesson_id = ANY($1::uuid[])",
            [first, second],
        )
        return bool(policies == 2 and lessons == 2)

    await eventually(arrived, timeout=30, what="lessons' new deadline policy projected")
    world.now = world.at(fri, 16, 0)
    in_time = await take(world, first, world.teacher, all_present=True)
    assert in_time.status_code == 201, in_time.text
    assert in_time.json()["late_entry"] is False
    world.now = world.at(fri, 17, 45)
    late = await take(world, second, world.teacher, all_present=True)
    assert late.json()["late_entry"] is True and late.json()["late_entry_minutes"] == 15
