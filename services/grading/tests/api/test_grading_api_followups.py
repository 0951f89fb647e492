"""Schools without semester grades, exam and re-exam grades, promotions and re-sent lessons in
the read models, and staff roles taken from identity's facts rather than the token alone."""

from __future__ import annotations

import uuid
from datetime import date
from typing import TYPE_CHECKING, Any

import httpx

from ezurnals.shared.contracts import identity as idn
from ezurnals.shared.contracts import lessons as les

if TYPE_CHECKING:
    from .conftest import GradedClass


async def _period(
    c: GradedClass, period: str, entries: list[dict[str, Any]], who: dict[str, str] | None = None
) -> httpx.Response:
    return await c.school.call(
        "PUT", f"{c.book}/periods/{period}/grades", who or c.as_teacher, json={"entries": entries}
    )


async def _finalize(c: GradedClass, period: str) -> httpx.Response:
    return await c.school.call("POST", f"{c.book}/periods/{period}/finalize", c.as_teacher)


async def _missing(c: GradedClass, period: str) -> list[dict[str, Any]]:
    response = await c.school.call(
        "GET", "/missing-period-grades", c.as_deputy,
        params={"period": period, "school_year": "2025/2026"},
    )  # fmt: skip
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()
    return found


async def test_a_school_without_semester_grades_refuses_them_and_misses_none(
    graded_class: GradedClass,
) -> None:
    c = graded_class
    anna = c.students[0]
    await c.grade([(s, "7") for s in c.students])
    shown = await c.school.call("GET", "/settings", c.as_teacher)
    assert shown.status_code == 200 and shown.json() == {"semester_grades_used": True}
    assert [m["period"] for m in await _missing(c, "semester1")] == ["semester1"]
    url = "/settings/semester-grades"
    assert (await c.school.call("PUT", url, c.as_teacher, json={"used": False})).status_code == 403
    guardian = c.school.as_(uuid.uuid4(), "guardian")
    assert (await c.school.call("GET", "/settings", guardian)).status_code == 403
    bad = await c.school.call("PUT", url, c.as_deputy, json={"used": "sometimes"})
    assert bad.status_code == 422 and bad.json()["field"] == "used"

    off = await c.school.call("PUT", url, c.as_deputy, json={"used": False})

    assert off.status_code == 200, off.text
    assert (await c.school.call("GET", "/settings", c.as_teacher)).json() == {
        "semester_grades_used": False
    }
    for period in ("semester1", "semester2"):
        refused = await _period(c, period, [{"student_id": str(anna), "value": "7"}])
        assert refused.status_code == 422, refused.text
        assert refused.json()["field"] == "period" and period in refused.json()["message"]
        assert (await _finalize(c, period)).status_code == 422
        assert await _missing(c, period) == []
    annual = await _period(c, "annual", [{"student_id": str(anna)}])
    assert annual.status_code == 200 and annual.json()["grades"][0]["value"] == "7"
    assert [m["period"] for m in await _missing(c, "annual")] == ["annual"]

    on = await c.school.call("PUT", url, c.as_deputy, json={"used": True})
    assert on.status_code == 200
    again = await _period(c, "semester1", [{"student_id": str(anna)}])
    assert again.status_code == 200, again.text


async def test_exam_and_re_exam_grades_are_set_finalised_and_locked_apart(
    graded_class: GradedClass,
) -> None:
    c = graded_class
    anna, berta, cits = c.students
    await c.grade([(s, "6") for s in c.students])
    nothing_to_suggest = await _period(c, "exam", [{"student_id": str(anna)}])
    assert nothing_to_suggest.status_code == 422
    assert nothing_to_suggest.json()["field"] == "value"
    off_scale = await _period(c, "exam", [{"student_id": str(anna), "value": "11"}])
    assert off_scale.status_code == 422 and "allowed" in off_scale.json()["details"]
    stranger = c.school.as_(uuid.uuid4(), "teacher")
    denied = await _period(c, "exam", [{"student_id": str(anna), "value": "8"}], stranger)
    assert denied.status_code == 404  # a book the stranger does not see

    exam_values = dict(zip(c.students, ("8", "7", "3"), strict=True))
    exam = await _period(
        c, "exam", [{"student_id": str(s), "value": v} for s, v in exam_values.items()]
    )
    assert exam.status_code == 200, exam.text
    assert {g["student_id"]: (g["value"], g["suggested_value"]) for g in exam.json()["grades"]} == {
        str(anna): ("8", None), str(berta): ("7", None), str(cits): ("3", None),
    }  # fmt: skip
    done = await _finalize(c, "exam")
    assert done.status_code == 200 and done.json() == {
        "period": "exam",
        "locked": True,
        "students": 3,
    }
    locked = await _period(c, "exam", [{"student_id": str(cits), "value": "4"}])
    assert locked.status_code == 409 and locked.json()["error"] == "period_locked"
    assert (await _finalize(c, "exam")).json()["error"] == "period_locked"
    # the exam's lock freezes no term's grades
    assert (await c.grade([(anna, "9")])).status_code == 201

    # only Cits fails the year (annual 3): he alone sits the re-exam
    annual = {anna: "8", berta: "4", cits: "3"}
    await _period(c, "annual", [{"student_id": str(s), "value": v} for s, v in annual.items()])
    not_sitting = await _period(c, "reexam", [{"student_id": str(anna), "value": "8"}])
    assert not_sitting.status_code == 422, not_sitting.text
    assert not_sitting.json()["field"] == "student_id"
    assert not_sitting.json()["details"]["students"] == [str(anna)]
    before = await c.sheet()
    assert before["periods"]["reexam"]["students_without_grade"] == [str(cits)]
    assert [m["student_ids"] for m in await _missing(c, "reexam")] == [[str(cits)]]
    unfinished = await _finalize(c, "reexam")
    assert unfinished.status_code == 422
    assert unfinished.json()["details"]["students"] == [str(cits)]
    reexam = await _period(c, "reexam", [{"student_id": str(cits), "value": "5"}])
    assert reexam.status_code == 200, reexam.text
    assert await _missing(c, "reexam") == []
    done_reexam = await _finalize(c, "reexam")
    assert done_reexam.status_code == 200, done_reexam.text
    assert done_reexam.json()["students"] == 1
    again = await _period(c, "reexam", [{"student_id": str(cits), "value": "6"}])
    assert again.status_code == 409 and again.json()["error"] == "period_locked"

    finalized = await c.school.db.fetch(
        """SELECT payload->>'period' AS period, payload->>'student_id' AS student,
                  payload->>'value' AS value, payload->>'year_grade_type' AS year_type
           FROM events WHERE event_type = 'GradeFinalized' AND payload->>'class_id' = $1""",
        str(c.class_id),
    )
    assert sorted((r["period"], r["student"], r["value"], r["year_type"]) for r in finalized) == (
        sorted(
            [("exam", str(s), v, None) for s, v in exam_values.items()]
            + [("reexam", str(cits), "5", None)]
        )
    )
    sheet = await c.sheet(c.as_deputy)
    assert sheet["periods"]["exam"]["locked"] and sheet["periods"]["reexam"]["locked"]
    unlock = f"{c.book}/periods/exam/unlock"
    unlocked = await c.school.call("POST", unlock, c.as_deputy, json={"reason": "apelācija"})
    assert unlocked.status_code == 200
    changed = await _period(c, "exam", [{"student_id": str(cits), "value": "4"}])
    assert changed.status_code == 200


async def test_promoted_students_are_graded_in_their_new_class(graded_class: GradedClass) -> None:
    c = graded_class
    s = c.school.school_id
    anna, berta, cits = c.students
    await c.school.identity(
        f"school-{s}",
        idn.SchoolYearDefined(
            school_id=s, school_year="2026/2027",
            semesters=(
                idn.Semester(number=1, first_day=date(2026, 9, 1), last_day=date(2026, 12, 18)),
                idn.Semester(number=2, first_day=date(2027, 1, 4), last_day=date(2027, 5, 28)),
            ),
        ),
    )  # fmt: skip
    eighth = uuid.uuid4()
    await c.school.identity(
        f"school-{s}",
        idn.ClassOpened(
            school_id=s, class_id=eighth, school_year="2026/2027", grade_level=8, label="8.a"
        ),
    )
    await c.school.assign(c.teacher, eighth, c.subject_id)
    await c.school.identity(
        f"roll-{s}-2026/2027",
        idn.StudentsPromoted(
            school_id=s, from_year="2025/2026", to_year="2026/2027", promoted_on=date(2026, 6, 20),
            promotions=(
                idn.Promotion(student_id=anna, from_class_id=c.class_id, to_class_id=eighth),
                idn.Promotion(student_id=berta, from_class_id=c.class_id, to_class_id=eighth),
                idn.Promotion(student_id=cits, from_class_id=c.class_id, to_class_id=None),
            ),
        ),
    )  # fmt: skip
    await c.school.settled()
    rows = await c.school.db.fetch(
        "SELECT student_id, school_year FROM rm.enrolments WHERE class_id = $1 AND active", eighth
    )
    assert sorted((r["student_id"], r["school_year"]) for r in rows) == sorted(
        [(anna, "2026/2027"), (berta, "2026/2027")]
    )
    new_book = f"/classes/{eighth}/subjects/{c.subject_id}/grades"

    async def grade(student: uuid.UUID) -> httpx.Response:
        return await c.school.call(
            "POST", new_book, c.as_teacher,
            json={"work": {"title": "Ievadtests", "kind": "test", "given_on": "2026-09-10"},
                  "marks": [{"student_id": str(student), "value": "7"}]},
        )  # fmt: skip

    promoted = await grade(anna)
    assert promoted.status_code == 201, promoted.text
    assert promoted.json()["term"] == "semester1"
    graduated = await grade(cits)
    assert graduated.status_code == 422 and graduated.json()["field"] == "student_id"


async def test_a_re_sent_lesson_moves_the_date_its_grades_take(graded_class: GradedClass) -> None:
    c = graded_class
    lesson_id = uuid.uuid4()

    def scheduled(day: date) -> les.LessonScheduled:
        return les.LessonScheduled(
            lesson_id=lesson_id, school_id=c.school.school_id, timetable_id=uuid.uuid4(),
            slot_id=uuid.uuid4(), class_id=c.class_id, subject_id=c.subject_id,
            teacher_id=c.teacher, lesson_date=day, starts_at="09:20", ends_at="10:00",
            period=2, grade_level=7,
        )  # fmt: skip

    stream = f"lesson-{lesson_id}"
    await c.school.publish("lessons", stream, scheduled(date(2025, 12, 18)))
    await c.school.publish("lessons", stream, scheduled(date(2026, 1, 8)))
    await c.school.publish("lessons", stream, scheduled(date(2026, 1, 8)))
    await c.school.settled()
    count = await c.school.db.fetchval(
        "SELECT count(*) FROM rm.lessons WHERE lesson_id = $1", lesson_id
    )
    assert count == 1
    body = {
        "work": {"title": "Mutiska atbilde", "kind": "oral", "lesson_id": str(lesson_id)},
        "marks": [{"student_id": str(c.students[0]), "value": "9"}],
    }
    response = await c.school.call("POST", f"{c.book}/grades", c.as_teacher, json=body)
    assert response.status_code == 201, response.text
    assert (response.json()["given_on"], response.json()["term"]) == ("2026-01-08", "semester2")


async def test_a_role_identity_removed_no_longer_counts_though_the_token_claims_it(
    graded_class: GradedClass,
) -> None:
    c = graded_class
    assert (await c.school.call("GET", f"{c.book}/sheet", c.as_deputy)).status_code == 200
    await c.school.identity(
        f"employment-{c.deputy}",
        idn.StaffRolesChanged(
            school_id=c.school.school_id, person_id=c.deputy, roles=(idn.Role.TEACHER,),
            changed_on=date(2025, 11, 1),
        ),
    )  # fmt: skip
    await c.school.settled()

    sheet = await c.school.call("GET", f"{c.book}/sheet", c.as_deputy)
    assert sheet.status_code == 404  # a teacher of nothing here sees no book
    deadline = {"school_year": "2025/2026", "period": "annual", "due_on": "2026-05-29"}
    assert (await c.school.call("PUT", "/deadlines", c.as_deputy, json=deadline)).status_code == 403
    missing = await c.school.call(
        "GET", "/missing-period-grades", c.as_deputy,
        params={"period": "annual", "school_year": "2025/2026"},
    )  # fmt: skip
    assert missing.status_code == 403
    grades = await c.school.call("GET", f"/students/{c.students[0]}/grades", c.as_deputy)
    assert grades.status_code == 404

    never_hired = c.school.as_(uuid.uuid4(), "admin", "director")
    for method, url, body in (
        ("PUT", "/settings/semester-grades", {"used": False}),
        ("PUT", "/deadlines", deadline),
        ("GET", "/scales", None),
    ):
        refused = await c.school.call(method, url, never_hired, json=body)
        assert refused.status_code == 403, (url, refused.text)
    teacher_claims_more = c.school.as_(c.teacher, "teacher", "deputy_director")
    unlock = await c.school.call(
        "POST", f"{c.book}/periods/semester1/unlock", teacher_claims_more, json={"reason": "x"}
    )
    assert unlock.status_code == 403
    assert (await c.school.call("GET", f"{c.book}/sheet", teacher_claims_more)).status_code == 200
