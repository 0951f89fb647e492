"""Identity's facts as grading sees them: moves, withdrawals, class teachers, families, staff."""

from __future__ import annotations

import uuid
from datetime import date
from typing import TYPE_CHECKING

from ezurnals.shared.contracts import identity as idn

if TYPE_CHECKING:
    from .conftest import GradedClass


async def test_moved_and_withdrawn_students_leave_the_roster(graded_class: GradedClass) -> None:
    c = graded_class
    anna, berta, cits = c.students
    other_class = await c.school.open_class(7, "7.c")
    await c.school.assign(c.teacher, other_class, c.subject_id)
    roll = f"roll-{c.school.school_id}-2025/2026"
    await c.school.identity(
        roll,
        idn.StudentMoved(
            school_id=c.school.school_id, student_id=anna, from_class_id=c.class_id,
            to_class_id=other_class, school_year="2025/2026", moved_on=date(2025, 10, 1),
        ),
        idn.StudentWithdrawn(
            school_id=c.school.school_id, student_id=berta, class_id=c.class_id,
            school_year="2025/2026", withdrawn_on=date(2025, 10, 1),
        ),
    )  # fmt: skip
    await c.school.settled()
    for student in (anna, berta):
        refused = await c.grade([(student, "7")])
        assert refused.status_code == 422 and refused.json()["field"] == "student_id"
    assert (await c.grade([(cits, "7")])).status_code == 201
    moved = await c.school.call(
        "POST", f"/classes/{other_class}/subjects/{c.subject_id}/grades", c.as_teacher,
        json={"work": {"title": "Tests", "kind": "test", "given_on": "2025-10-06"},
              "marks": [{"student_id": str(anna), "value": "7"}]},
    )  # fmt: skip
    assert moved.status_code == 201, moved.text


async def test_the_class_teacher_reads_the_class_sheet_but_does_not_grade(
    graded_class: GradedClass,
) -> None:
    c = graded_class
    class_teacher = uuid.uuid4()
    await c.school.hire(class_teacher, "teacher", "class_teacher")
    await c.school.settled()
    who = c.school.as_(class_teacher, "teacher", "class_teacher")
    # not yet the class teacher of this class: the book is not hers to see
    assert (await c.school.call("GET", f"{c.book}/sheet", who)).status_code == 404
    await c.school.identity(
        f"class-staffing-{c.class_id}",
        idn.ClassTeacherAssigned(
            school_id=c.school.school_id, class_id=c.class_id, teacher_id=class_teacher,
            valid_from=date(2025, 9, 1),
        ),
    )  # fmt: skip
    await c.school.settled()
    sheet = await c.school.call("GET", f"{c.book}/sheet", who)
    assert sheet.status_code == 200 and sheet.json()["class_label"] == "7.a"
    assert (await c.grade([(c.students[0], "7")], who=who)).status_code == 403


async def test_an_adult_students_withdrawal_and_an_unlinking_end_a_guardians_access(
    graded_class: GradedClass,
) -> None:
    c = graded_class
    anna, berta, _ = c.students
    mother, father = uuid.uuid4(), uuid.uuid4()
    await c.school.link(mother, anna)
    await c.school.link(father, berta)
    await c.school.settled()
    await c.grade([(anna, "8"), (berta, "8")])
    for parent, child in ((mother, anna), (father, berta)):
        response = await c.school.call(
            "GET", f"/students/{child}/grades", c.school.as_(parent, "guardian")
        )
        assert response.status_code == 200
    s = c.school.school_id
    await c.school.identity(
        f"guardianship-{anna}",
        idn.GuardianAccessDecided(
            school_id=s, guardian_id=mother, student_id=anna, keeps_access=False,
            decided_on=date(2025, 11, 2),
        ),
    )  # fmt: skip
    await c.school.identity(
        f"guardianship-{berta}",
        idn.GuardianUnlinked(
            school_id=s, guardian_id=father, student_id=berta, unlinked_on=date(2025, 11, 2)
        ),
    )
    await c.school.settled()
    for parent, child in ((mother, anna), (father, berta)):
        response = await c.school.call(
            "GET", f"/students/{child}/grades", c.school.as_(parent, "guardian")
        )
        assert response.status_code == 404


async def test_staff_roles_and_employment_are_projected(graded_class: GradedClass) -> None:
    c = graded_class
    s = c.school.school_id
    stream = f"employment-{c.deputy}"
    await c.school.identity(
        stream,
        idn.StaffMemberHired(
            school_id=s, person_id=c.deputy, roles=(idn.Role.TEACHER,), hired_on=date(2025, 8, 25)
        ),
        idn.StaffRolesChanged(
            school_id=s, person_id=c.deputy, roles=(idn.Role.TEACHER, idn.Role.DEPUTY_DIRECTOR),
            changed_on=date(2025, 9, 1),
        ),
    )  # fmt: skip
    await c.school.settled()
    row = await c.school.db.fetchrow(
        "SELECT roles, employed FROM rm.staff WHERE school_id = $1 AND person_id = $2",
        s,
        c.deputy,
    )
    assert row is not None and sorted(row["roles"]) == ["deputy_director", "teacher"]
    assert row["employed"] is True
    await c.school.identity(
        stream, idn.EmploymentEnded(school_id=s, person_id=c.deputy, ended_on=date(2026, 6, 30))
    )
    await c.school.settled()
    employed = await c.school.db.fetchval(
        "SELECT employed FROM rm.staff WHERE school_id = $1 AND person_id = $2", s, c.deputy
    )
    assert employed is False
