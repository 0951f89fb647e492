"""Recording and correcting grades through the API: scales, rosters, assignments, history."""

from __future__ import annotations

import uuid
from datetime import date
from typing import TYPE_CHECKING, Any

from ezurnals.shared.contracts import identity as idn
from ezurnals.shared.contracts import lessons as les

if TYPE_CHECKING:
    from .conftest import GradedClass, SchoolFactory

IN_SEMESTER2 = "2026-02-10"


async def test_a_teacher_grades_the_whole_class_at_once(graded_class: GradedClass) -> None:
    c = graded_class
    anna, berta, cits = c.students
    response = await c.grade([(anna, "7"), (berta, "nv"), (cits, "10")], summative=True)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["term"] == "semester1"
    assert [(g["student_id"], g["value"], g["points"]) for g in body["grades"]] == [
        (str(anna), "7", 7),
        (str(berta), "nv", None),
        (str(cits), "10", 10),
    ]
    sheet = await c.sheet()
    values = {row["student_id"]: [g["value"] for g in row["grades"]] for row in sheet["students"]}
    assert values == {str(anna): ["7"], str(berta): ["nv"], str(cits): ["10"]}


async def test_the_term_follows_the_school_calendar(graded_class: GradedClass) -> None:
    c = graded_class
    response = await c.grade([(c.students[0], "6")], given_on=IN_SEMESTER2)
    assert response.status_code == 201 and response.json()["term"] == "semester2"
    holiday = await c.grade([(c.students[0], "6")], given_on="2025-12-29")
    assert holiday.status_code == 422 and holiday.json()["field"] == "given_on"


async def test_a_value_outside_the_scale_is_refused_listing_the_allowed(
    graded_class: GradedClass,
) -> None:
    c = graded_class
    response = await c.grade([(c.students[0], "7"), (c.students[1], "11")])
    assert response.status_code == 422
    body = response.json()
    assert body["field"] == "value"
    assert body["details"]["allowed"] == [*(str(p) for p in range(1, 11)), "nv"]
    assert body["details"]["student_id"] == str(c.students[1])
    assert all(row["grades"] == [] for row in (await c.sheet())["students"])


async def test_a_student_not_enrolled_in_the_class_cannot_be_graded(
    graded_class: GradedClass,
) -> None:
    c = graded_class
    stranger = uuid.uuid4()
    response = await c.grade([(c.students[0], "8"), (stranger, "8")])
    assert response.status_code == 422
    assert response.json()["field"] == "student_id"
    assert response.json()["details"]["students"] == [str(stranger)]


async def test_only_the_assigned_teacher_records_grades(graded_class: GradedClass) -> None:
    c = graded_class
    other_teacher = c.school.as_(uuid.uuid4(), "teacher")
    refused = await c.grade([(c.students[0], "8")], who=other_teacher)
    assert refused.status_code == 404  # a book the teacher does not see
    assert (await c.grade([(c.students[0], "8")], who=c.as_deputy)).status_code == 403
    guardian = c.school.as_(uuid.uuid4(), "guardian")
    assert (await c.grade([(c.students[0], "8")], who=guardian)).status_code == 404
    # the same teacher sees the class but not its physics book: told there is no such subject
    physics = await c.school.subject("Fizika")
    await c.school.settled()
    response = await c.school.call(
        "POST",
        f"/classes/{c.class_id}/subjects/{physics}/grades",
        c.as_teacher,
        json={
            "work": {"title": "Tests", "kind": "test", "given_on": "2025-10-06"},
            "marks": [{"student_id": str(c.students[0]), "value": "8"}],
        },
    )
    assert response.status_code == 404
    assert (response.json()["message"], response.json()["field"]) == (
        "no such subject",
        "subject_id",
    )


async def test_another_schools_class_is_not_found(
    graded_class: GradedClass, new_school: SchoolFactory
) -> None:
    c = graded_class
    elsewhere = new_school()
    same_person_elsewhere = elsewhere.as_(c.teacher, "teacher")
    response = await c.grade([(c.students[0], "8")], who=same_person_elsewhere)
    assert response.status_code == 404 and response.json()["field"] == "class_id"
    sheet = await c.school.call("GET", f"{c.book}/sheet", same_person_elsewhere)
    assert sheet.status_code == 404


async def test_an_ended_assignment_no_longer_allows_grading(
    new_school: SchoolFactory, graded_class: GradedClass
) -> None:
    graded = graded_class
    school = new_school()
    await school.register()
    class_id = await school.open_class(8, "8.b")
    subject_id = await school.subject("Vēsture")
    students = await school.enrol(class_id, 1)
    teacher = uuid.uuid4()
    assignment = await school.assign(teacher, class_id, subject_id)
    await school.identity(
        f"class-staffing-{class_id}",
        idn.TeachingUnassigned(
            school_id=school.school_id,
            assignment_id=assignment,
            class_id=class_id,
            teacher_id=teacher,
            subject_id=subject_id,
            last_day=date(2025, 9, 30),
        ),
    )
    await school.settled()
    c = type(graded)(school, class_id, subject_id, teacher, students)
    assert (await c.grade([(students[0], "8")])).status_code == 404  # no longer seen


async def test_a_grade_for_a_lesson_takes_the_lessons_date(graded_class: GradedClass) -> None:
    c = graded_class
    lesson_id = uuid.uuid4()
    await c.school.publish(
        "lessons",
        f"lesson-{lesson_id}",
        les.LessonScheduled(
            lesson_id=lesson_id,
            school_id=c.school.school_id,
            timetable_id=uuid.uuid4(),
            slot_id=uuid.uuid4(),
            class_id=c.class_id,
            subject_id=c.subject_id,
            teacher_id=c.teacher,
            lesson_date=date(2026, 3, 3),
            starts_at="08:30",
            ends_at="09:10",
            period=1,
            grade_level=7,
        ),
    )
    await c.school.settled()
    body: dict[str, Any] = {
        "work": {"title": "Mutiska atbilde", "kind": "oral", "lesson_id": str(lesson_id)},
        "marks": [{"student_id": str(c.students[0]), "value": "9"}],
    }
    response = await c.school.call("POST", f"{c.book}/grades", c.as_teacher, json=body)
    assert response.status_code == 201, response.text
    assert response.json()["given_on"] == "2026-03-03"
    assert response.json()["term"] == "semester2"
    unknown = {**body, "work": {**body["work"], "lesson_id": str(uuid.uuid4())}}
    refused = await c.school.call("POST", f"{c.book}/grades", c.as_teacher, json=unknown)
    assert refused.status_code == 422 and refused.json()["field"] == "work.lesson_id"
    undated = {**body, "work": {"title": "Tests", "kind": "test"}}
    refused = await c.school.call("POST", f"{c.book}/grades", c.as_teacher, json=undated)
    assert refused.status_code == 422 and refused.json()["field"] == "work.given_on"


async def test_a_correction_keeps_who_when_old_new_and_why(graded_class: GradedClass) -> None:
    c = graded_class
    anna = c.students[0]
    recorded = await c.grade([(anna, "5")])
    grade_id = recorded.json()["grades"][0]["grade_id"]
    url = f"{c.book}/grades/{grade_id}/corrections"
    no_reason = await c.school.call("POST", url, c.as_teacher, json={"value": "7", "reason": " "})
    assert no_reason.status_code == 422 and no_reason.json()["field"] == "reason"
    off_scale = await c.school.call("POST", url, c.as_teacher, json={"value": "A", "reason": "x"})
    assert off_scale.status_code == 422 and "allowed" in off_scale.json()["details"]
    stranger = c.school.as_(uuid.uuid4(), "teacher")
    denied = await c.school.call("POST", url, stranger, json={"value": "7", "reason": "kļūda"})
    assert denied.status_code == 404  # a book the stranger does not see
    fixed = await c.school.call(
        "POST", url, c.as_teacher, json={"value": "7", "reason": "pārrakstīšanās kļūda"}
    )
    assert fixed.status_code == 200, fixed.text
    assert fixed.json() == {
        "grade_id": grade_id,
        "old_value": "5",
        "new_value": "7",
        "reason": "pārrakstīšanās kļūda",
    }
    missing = await c.school.call(
        "POST", f"{c.book}/grades/{uuid.uuid4()}/corrections", c.as_teacher,
        json={"value": "7", "reason": "x"},
    )  # fmt: skip
    assert missing.status_code == 404
    admin_view = await c.sheet(c.as_deputy)
    [grade] = next(r for r in admin_view["students"] if r["student_id"] == str(anna))["grades"]
    assert grade["value"] == "7" and grade["corrected"] is True
    [entry] = grade["history"]
    assert (entry["old_value"], entry["new_value"], entry["corrected_by"]) == (
        "5",
        "7",
        str(c.teacher),
    )
    assert entry["reason"] == "pārrakstīšanās kļūda" and entry["corrected_at"]


async def test_a_retried_command_records_the_grades_once(graded_class: GradedClass) -> None:
    c = graded_class
    key = {**c.as_teacher, "Idempotency-Key": str(uuid.uuid4())}
    first = await c.grade([(c.students[0], "8")], who=key)
    again = await c.grade([(c.students[0], "8")], who=key)
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    rows = (await c.sheet())["students"]
    assert [len(r["grades"]) for r in rows if r["student_id"] == str(c.students[0])] == [1]
