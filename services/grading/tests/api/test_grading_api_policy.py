"""The school's grading policy through the API: scales per band or subject, and deadlines."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .conftest import GradedClass, SchoolFactory

PERCENT_TABLE = [
    {"min_percent": p, "points": n}
    for p, n in ((0, 1), (10, 2), (20, 3), (33, 4), (45, 5), (55, 6), (65, 7), (75, 8), (85, 9),
                 (95, 10))
]  # fmt: skip


async def _define(c: GradedClass, who: dict[str, str], **scale: Any) -> Any:
    return await c.school.call("PUT", f"/scales/{uuid.uuid4()}", who, json=scale)


async def test_a_subject_on_a_percent_scale_converts_with_the_schools_table(
    graded_class: GradedClass,
) -> None:
    c = graded_class
    admin = await c.school.staff("admin")
    defined = await _define(
        c, admin, kind="percent", band={"first": 7, "last": 9},
        subject_id=str(c.subject_id), percent_table=PERCENT_TABLE,
    )  # fmt: skip
    assert defined.status_code == 200, defined.text
    assert defined.json()["allowed"] == ["0%…100%", "nv"]
    response = await c.grade([(c.students[0], "85 %"), (c.students[1], "nv")])
    assert response.status_code == 201, response.text
    [anna, berta] = response.json()["grades"]
    assert (anna["value"], anna["points"], anna["scale"]) == ("85%", 9, "percent")
    assert (berta["value"], berta["points"]) == ("nv", None)
    over = await c.grade([(c.students[0], "101%")])
    assert over.status_code == 422 and over.json()["details"]["allowed"] == ["0%…100%", "nv"]


async def test_grades_one_to_three_use_learning_levels_by_default(
    new_school: SchoolFactory,
) -> None:
    school = new_school()
    await school.register()
    class_id = await school.open_class(2, "2.a")
    subject_id = await school.subject("Latviešu valoda")
    students = await school.enrol(class_id, 1)
    teacher = uuid.uuid4()
    await school.assign(teacher, class_id, subject_id)
    await school.settled()
    body: dict[str, Any] = {
        "work": {"title": "Diktāts", "kind": "classwork", "given_on": "2025-10-06"},
        "marks": [{"student_id": str(students[0]), "value": "7"}],
    }
    url = f"/classes/{class_id}/subjects/{subject_id}/grades"
    refused = await school.call("POST", url, school.as_(teacher, "teacher"), json=body)
    assert refused.status_code == 422
    assert refused.json()["details"]["allowed"] == ["S", "T", "A", "P", "nv"]
    body["marks"][0]["value"] = "a"
    accepted = await school.call("POST", url, school.as_(teacher, "teacher"), json=body)
    assert accepted.status_code == 201 and accepted.json()["grades"][0]["value"] == "A"


async def test_a_pass_fail_subject_takes_i_and_ni(graded_class: GradedClass) -> None:
    c = graded_class
    deputy = c.as_deputy
    defined = await _define(
        c, deputy, kind="pass_fail", band={"first": 1, "last": 12}, subject_id=str(c.subject_id)
    )
    assert defined.status_code == 200, defined.text
    response = await c.grade([(c.students[0], "I"), (c.students[1], "ni")])
    assert [g["value"] for g in response.json()["grades"]] == ["i", "ni"]
    assert (await c.grade([(c.students[0], "7")])).status_code == 422


async def test_only_the_administration_defines_scales_and_bad_tables_are_refused(
    graded_class: GradedClass,
) -> None:
    c = graded_class
    band = {"first": 4, "last": 12}
    for who in (c.as_teacher, c.school.as_(uuid.uuid4(), "guardian")):
        assert (await _define(c, who, kind="ten_point", band=band)).status_code == 403
    admin = await c.school.staff("admin")
    shifted = [{"min_percent": 5, "points": 1}, *PERCENT_TABLE[1:]]
    bad = await _define(c, admin, kind="percent", band=band, percent_table=shifted)
    assert bad.status_code == 422 and bad.json()["field"] == "percent_table"
    unknown = await _define(c, admin, kind="letters", band=band)
    assert unknown.status_code == 422 and unknown.json()["field"] == "kind"
    assert (await _define(c, admin, kind="ten_point", band=band)).status_code == 200
    overlap = await _define(c, admin, kind="ten_point", band={"first": 9, "last": 12})
    assert overlap.status_code == 422 and overlap.json()["field"] == "band"
    listed = await c.school.call("GET", "/scales", c.as_teacher)
    assert [s["band"] for s in listed.json()["scales"]] == [band]
    guardian = c.school.as_(uuid.uuid4(), "guardian")
    assert (await c.school.call("GET", "/scales", guardian)).status_code == 403


async def test_period_grade_deadlines_are_set_by_the_administration(
    graded_class: GradedClass,
) -> None:
    c = graded_class
    deadline = {"school_year": "2025/2026", "period": "semester1", "due_on": "2025-12-22"}
    denied = await c.school.call("PUT", "/deadlines", c.as_teacher, json=deadline)
    assert denied.status_code == 403
    bad_year = await c.school.call(
        "PUT", "/deadlines", c.as_deputy, json={**deadline, "school_year": "2025"}
    )
    assert bad_year.status_code == 422 and bad_year.json()["field"] == "school_year"
    years_later = await c.school.call(
        "PUT", "/deadlines", c.as_deputy, json={**deadline, "due_on": "2031-12-22"}
    )
    assert years_later.status_code == 422, years_later.text
    assert years_later.json()["field"] == "due_on"
    assert "2025-07-01 to 2026-08-31" in years_later.json()["message"]
    assert (await c.school.call("PUT", "/deadlines", c.as_deputy, json=deadline)).status_code == 200
    listed = await c.school.call("GET", "/deadlines", c.as_teacher)
    assert listed.json() == [{**deadline, "band": None}]
    # the short spelling is still read, as the one long spelling it stands for
    short = {**deadline, "period": "annual", "school_year": "2025/26"}
    assert (await c.school.call("PUT", "/deadlines", c.as_deputy, json=short)).status_code == 200
    years = {
        d["school_year"] for d in (await c.school.call("GET", "/deadlines", c.as_teacher)).json()
    }
    assert years == {"2025/2026"}
    not_consecutive = {**deadline, "school_year": "2025/2027"}
    refused = await c.school.call("PUT", "/deadlines", c.as_deputy, json=not_consecutive)
    assert refused.status_code == 422 and refused.json()["field"] == "school_year"
