"""Period grades through the API: suggestion, confirm or override, finalise, lock and unlock."""

from __future__ import annotations

import uuid
from datetime import date
from typing import TYPE_CHECKING, Any

import httpx

from ezurnals.shared.contracts import identity as idn

if TYPE_CHECKING:
    from .conftest import GradedClass


async def _set(c: GradedClass, entries: list[dict[str, Any]], period: str = "semester1") -> Any:
    return await c.school.call(
        "PUT", f"{c.book}/periods/{period}/grades", c.as_teacher, json={"entries": entries}
    )


async def _finalize(
    c: GradedClass, who: dict[str, str], period: str = "semester1"
) -> httpx.Response:
    return await c.school.call("POST", f"{c.book}/periods/{period}/finalize", who)


def _row(sheet: dict[str, Any], student: uuid.UUID) -> dict[str, Any]:
    row: dict[str, Any] = next(r for r in sheet["students"] if r["student_id"] == str(student))
    return row


async def test_the_suggestion_is_the_half_up_mean_of_summative_grades_without_nv(
    graded_class: GradedClass,
) -> None:
    c = graded_class
    anna, berta, _ = c.students
    await c.grade([(anna, "6"), (berta, "nv")])
    await c.grade([(anna, "7"), (berta, "5")])
    await c.grade([(anna, "nv"), (berta, "nv")])
    await c.grade([(anna, "1"), (berta, "1")], summative=False)
    sheet = await c.sheet()
    assert _row(sheet, anna)["suggested"]["semester1"] == "7"  # (6 + 7) / 2 = 6.5 → 7
    assert _row(sheet, berta)["suggested"]["semester1"] == "5"
    assert _row(sheet, anna)["suggested"]["semester2"] is None


async def test_the_teacher_confirms_or_overrides_the_suggestion(graded_class: GradedClass) -> None:
    c = graded_class
    anna, berta, cits = c.students
    await c.grade([(anna, "8"), (berta, "4")])
    response = await _set(c, [{"student_id": str(anna)}, {"student_id": str(berta), "value": "5"}])
    assert response.status_code == 200, response.text
    grades = {g["student_id"]: g for g in response.json()["grades"]}
    assert grades[str(anna)] == {
        "student_id": str(anna), "value": "8", "suggested_value": "8", "overridden": False,
    }  # fmt: skip
    assert grades[str(berta)]["overridden"] is True and grades[str(berta)]["value"] == "5"
    nothing = await _set(c, [{"student_id": str(cits)}])
    assert nothing.status_code == 422 and nothing.json()["details"]["student_id"] == str(cits)
    off_scale = await _set(c, [{"student_id": str(cits), "value": "nine"}])
    assert off_scale.status_code == 422 and "allowed" in off_scale.json()["details"]
    stranger = await _set(c, [{"student_id": str(uuid.uuid4()), "value": "6"}])
    assert stranger.status_code == 422 and stranger.json()["field"] == "student_id"
    denied = await c.school.call(
        "PUT", f"{c.book}/periods/semester1/grades", c.school.as_(uuid.uuid4(), "teacher"),
        json={"entries": [{"student_id": str(cits), "value": "6"}]},
    )  # fmt: skip
    assert denied.status_code == 404  # a book the stranger does not see
    bad_period = await c.school.call(
        "PUT", f"{c.book}/periods/quarter3/grades", c.as_teacher,
        json={"entries": [{"student_id": str(cits), "value": "6"}]},
    )  # fmt: skip
    assert bad_period.status_code == 422 and bad_period.json()["field"] == "path.period"


async def test_finalising_with_students_still_without_a_grade_lists_them(
    graded_class: GradedClass,
) -> None:
    c = graded_class
    anna, berta, cits = c.students
    await _set(c, [{"student_id": str(anna), "value": "7"}])
    refused = await _finalize(c, c.as_teacher)
    assert refused.status_code == 422
    assert refused.json()["details"]["students"] == sorted([str(berta), str(cits)])
    assert (await c.sheet())["periods"]["semester1"]["locked"] is False


async def test_finalising_locks_the_period_and_publishes_the_final_grades(
    graded_class: GradedClass,
) -> None:
    c = graded_class
    anna, berta, cits = c.students
    recorded = await c.grade([(anna, "7"), (berta, "8"), (cits, "9")])
    grade_id = recorded.json()["grades"][0]["grade_id"]
    await _set(c, [{"student_id": str(s)} for s in c.students])
    guardian = c.school.as_(uuid.uuid4(), "guardian")
    assert (await _finalize(c, guardian)).status_code == 404  # families do not see the book
    assert (await _finalize(c, c.school.as_(uuid.uuid4(), "teacher"))).status_code == 404
    done = await _finalize(c, c.as_teacher)
    assert done.status_code == 200, done.text
    assert done.json() == {"period": "semester1", "locked": True, "students": 3}
    finalized = await c.school.db.fetch(
        "SELECT payload->>'student_id' AS student, payload->>'value' AS value FROM events "
        "WHERE event_type = 'GradeFinalized' "
        "AND payload->>'class_id' = $1",
        str(c.class_id),
    )
    assert sorted((p["student"], p["value"]) for p in finalized) == sorted(
        [(str(anna), "7"), (str(berta), "8"), (str(cits), "9")]
    )

    # any change in the locked period is refused with period_locked
    for response in (
        await c.grade([(anna, "3")]),
        await c.school.call(
            "POST", f"{c.book}/grades/{grade_id}/corrections", c.as_teacher,
            json={"value": "6", "reason": "kļūda"},
        ),
        await _set(c, [{"student_id": str(anna), "value": "6"}]),
        await _finalize(c, c.as_teacher),
    ):  # fmt: skip
        assert response.status_code == 409, response.text
        assert response.json()["error"] == "period_locked"
    # the second semester stays open
    assert (await c.grade([(anna, "3")], given_on="2026-02-10")).status_code == 201


async def test_only_a_deputy_director_unlocks_and_says_why(graded_class: GradedClass) -> None:
    c = graded_class
    anna = c.students[0]
    await c.grade([(s, "6") for s in c.students])
    await _set(c, [{"student_id": str(s)} for s in c.students])
    not_locked = await c.school.call(
        "POST", f"{c.book}/periods/semester1/unlock", c.as_deputy, json={"reason": "x"}
    )
    assert not_locked.status_code == 409 and not_locked.json()["error"] == "period_not_locked"
    assert (await _finalize(c, c.as_deputy)).status_code == 200
    url = f"{c.book}/periods/semester1/unlock"
    # the teacher sees the book but may not reopen it; someone who does not see it is told
    # there is no such class
    for who, status in ((c.as_teacher, 403), (c.school.as_(uuid.uuid4(), "admin"), 404)):
        denied = await c.school.call("POST", url, who, json={"reason": "labojums"})
        assert denied.status_code == status, denied.text
    no_reason = await c.school.call("POST", url, c.as_deputy, json={"reason": "   "})
    assert no_reason.status_code == 422 and no_reason.json()["field"] == "reason"
    unlocked = await c.school.call("POST", url, c.as_deputy, json={"reason": "vecāku iesniegums"})
    assert unlocked.status_code == 200, unlocked.text
    changed = await _set(c, [{"student_id": str(anna), "value": "7"}])
    assert changed.status_code == 200
    sheet = await c.sheet(c.as_deputy)
    [unlock] = sheet["periods"]["semester1"]["unlocks"]
    assert unlock["reason"] == "vecāku iesniegums" and unlock["unlocked_by"] == str(c.deputy)
    assert sheet["periods"]["semester1"]["locked"] is False
    # the class teacher, who does not teach the subject, reads the same list, not a count
    class_teacher = uuid.uuid4()
    await c.school.hire(class_teacher, "teacher", "class_teacher")
    await c.school.identity(
        f"class-staffing-{c.class_id}",
        idn.ClassTeacherAssigned(
            school_id=c.school.school_id, class_id=c.class_id, teacher_id=class_teacher,
            valid_from=date(2025, 9, 1),
        ),
    )  # fmt: skip
    await c.school.settled()
    theirs = await c.sheet(c.school.as_(class_teacher, "teacher", "class_teacher"))
    assert theirs["periods"]["semester1"]["unlocks"] == [unlock]
    assert all(isinstance(p["unlocks"], list) for p in theirs["periods"].values())
