"""Who reads which grades: families their own children, teachers their subjects, the
administration everything; and the "missing period grades" view."""

from __future__ import annotations

import uuid
from datetime import date
from typing import TYPE_CHECKING, Any

from ezurnals.shared.contracts import identity as idn

if TYPE_CHECKING:
    from .conftest import GradedClass


async def _grades_of(c: GradedClass, student: uuid.UUID, who: dict[str, str]) -> Any:
    return await c.school.call("GET", f"/students/{student}/grades", who)


async def _corrected_grade(c: GradedClass, student: uuid.UUID) -> str:
    recorded = await c.grade([(student, "4")])
    grade_id: str = recorded.json()["grades"][0]["grade_id"]
    fixed = await c.school.call(
        "POST", f"{c.book}/grades/{grade_id}/corrections", c.as_teacher,
        json={"value": "6", "reason": "pārlabots"},
    )  # fmt: skip
    assert fixed.status_code == 200
    return grade_id


async def test_families_see_their_own_children_only_and_that_a_grade_was_corrected(
    graded_class: GradedClass,
) -> None:
    c = graded_class
    anna, berta, _ = c.students
    parent, restricted_parent = uuid.uuid4(), uuid.uuid4()
    await c.school.link(parent, anna)
    await c.school.link(restricted_parent, anna, restricted=True)
    await c.school.settled()
    grade_id = await _corrected_grade(c, anna)
    await c.grade([(berta, "9")])

    seen = await _grades_of(c, anna, c.school.as_(parent, "guardian"))
    assert seen.status_code == 200, seen.text
    [grade] = seen.json()["grades"]
    assert grade["grade_id"] == grade_id and grade["value"] == "6" and grade["corrected"] is True
    assert "history" not in grade
    assert (await _grades_of(c, anna, c.school.as_(anna, "student"))).status_code == 200

    for who, student in (
        (c.school.as_(parent, "guardian"), berta),
        (c.school.as_(restricted_parent, "guardian"), anna),
        (c.school.as_(berta, "student"), anna),
        (c.school.as_(uuid.uuid4(), "guardian"), anna),
    ):
        refused = await _grades_of(c, student, who)
        assert refused.status_code == 404, refused.text


async def test_a_restriction_recorded_later_hides_the_grades(graded_class: GradedClass) -> None:
    c = graded_class
    anna = c.students[0]
    parent = uuid.uuid4()
    await c.school.link(parent, anna)
    await c.school.settled()
    await c.grade([(anna, "8")])
    assert (await _grades_of(c, anna, c.school.as_(parent, "guardian"))).status_code == 200
    await c.school.identity(
        f"guardianship-{anna}",
        idn.GuardianshipRestricted(
            school_id=c.school.school_id,
            guardian_id=parent,
            student_id=anna,
            restricted_on=date(2025, 11, 1),
        ),
    )
    await c.school.settled()
    assert (await _grades_of(c, anna, c.school.as_(parent, "guardian"))).status_code == 404


async def test_the_administration_sees_the_history_and_teachers_only_their_subjects(
    graded_class: GradedClass, new_school: Any
) -> None:
    c = graded_class
    anna = c.students[0]
    await _corrected_grade(c, anna)
    physics = await c.school.subject("Fizika")
    physicist = uuid.uuid4()
    await c.school.assign(physicist, c.class_id, physics)
    await c.school.settled()
    physics_book = f"/classes/{c.class_id}/subjects/{physics}/grades"
    physics_grade = await c.school.call(
        "POST", physics_book, c.school.as_(physicist, "teacher"),
        json={"work": {"title": "Laboratorijas darbs", "kind": "practical",
                       "given_on": "2025-10-07"},
              "marks": [{"student_id": str(anna), "value": "9"}]},
    )  # fmt: skip
    assert physics_grade.status_code == 201

    admin = (await _grades_of(c, anna, c.as_deputy)).json()
    assert sorted(g["value"] for g in admin["grades"]) == ["6", "9"]
    [history] = [g["history"] for g in admin["grades"] if g["value"] == "6"]
    assert history[0]["reason"] == "pārlabots" and history[0]["corrected_by"] == str(c.teacher)
    mine = (await _grades_of(c, anna, c.school.as_(physicist, "teacher"))).json()
    assert [g["value"] for g in mine["grades"]] == ["9"]
    stranger = await _grades_of(c, anna, c.school.as_(uuid.uuid4(), "teacher"))
    assert stranger.status_code == 404
    elsewhere = new_school().as_(c.deputy, "deputy_director")
    assert (await _grades_of(c, anna, elsewhere)).status_code == 404
    assert (await c.school.call("GET", f"{c.book}/sheet", c.school.as_(anna, "student"))
            ).status_code == 404  # fmt: skip


async def test_families_see_period_grades_once_they_are_final(graded_class: GradedClass) -> None:
    c = graded_class
    anna = c.students[0]
    await c.grade([(s, "7") for s in c.students])
    entries = {"entries": [{"student_id": str(s)} for s in c.students]}
    await c.school.call("PUT", f"{c.book}/periods/semester1/grades", c.as_teacher, json=entries)
    as_anna = c.school.as_(anna, "student")
    assert (await _grades_of(c, anna, as_anna)).json()["period_grades"] == []
    draft = (await _grades_of(c, anna, c.as_teacher)).json()["period_grades"]
    assert [(p["value"], p["final"]) for p in draft] == [("7", False)]
    await c.school.call("POST", f"{c.book}/periods/semester1/finalize", c.as_teacher)
    final = (await _grades_of(c, anna, as_anna)).json()["period_grades"]
    assert [(p["period"], p["value"], p["final"]) for p in final] == [("semester1", "7", True)]


async def test_missing_period_grades_per_class_and_teacher(graded_class: GradedClass) -> None:
    c = graded_class
    anna, berta, cits = c.students
    other_class = await c.school.open_class(7, "7.b")
    other_students = await c.school.enrol(other_class, 2)
    other_teacher = uuid.uuid4()
    await c.school.assign(other_teacher, other_class, c.subject_id)
    await c.school.settled()
    deadline = {"school_year": "2025/2026", "period": "semester1", "due_on": "2025-12-22"}
    assert (await c.school.call("PUT", "/deadlines", c.as_deputy, json=deadline)).status_code == 200
    await c.school.call(
        "PUT", f"{c.book}/periods/semester1/grades", c.as_teacher,
        json={"entries": [{"student_id": str(anna), "value": "7"}]},
    )  # fmt: skip
    query = {"period": "semester1", "school_year": "2025/2026"}

    async def missing(who: dict[str, str], **extra: str) -> Any:
        return await c.school.call("GET", "/missing-period-grades", who, params={**query, **extra})

    overview = (await missing(c.as_deputy)).json()
    by_class = {m["class_label"]: m for m in overview}
    assert set(by_class) == {"7.a", "7.b"}
    assert by_class["7.a"]["student_ids"] == sorted([str(berta), str(cits)])
    assert by_class["7.a"]["teacher_ids"] == [str(c.teacher)]
    assert by_class["7.a"]["due_on"] == "2025-12-22" and by_class["7.a"]["overdue"] is True
    assert by_class["7.b"]["student_ids"] == sorted(str(s) for s in other_students)
    own = (await missing(c.as_teacher)).json()
    assert [m["class_label"] for m in own] == ["7.a"]
    by_teacher = (await missing(c.as_deputy, teacher_id=str(other_teacher))).json()
    assert [m["class_label"] for m in by_teacher] == ["7.b"]
    by_class_filter = (await missing(c.as_deputy, class_id=str(other_class))).json()
    assert [m["class_label"] for m in by_class_filter] == ["7.b"]
    assert (await missing(c.as_teacher, teacher_id=str(other_teacher))).status_code == 403
    assert (await missing(c.school.as_(uuid.uuid4(), "guardian"))).status_code == 403
    bad = await missing(c.as_deputy, school_year="2025")
    assert bad.status_code == 422 and bad.json()["field"] == "query.school_year"
    # "2025/26" is read as "2025/2026", the one spelling of the grade books, sheet and events
    assert (await missing(c.as_deputy, school_year="2025/26")).json() == overview
    assert (await c.sheet(c.as_deputy))["school_year"] == "2025/2026"
    years = await c.school.db.fetch(
        "SELECT DISTINCT payload->>'school_year' AS year, schema_version FROM events "
        "WHERE event_type IN ('PeriodGradeSet', 'PeriodGradeDeadlineSet')"
    )
    assert {(r["year"], r["schema_version"]) for r in years} == {("2025/2026", 2)}
