"""Who may do what in attendance; each rule with its denial."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING
from uuid import uuid4

import pytest

from ezurnals.attendance.domain import Relationships
from ezurnals.attendance.domain import access as rules
from ezurnals.shared.domain import Forbidden, NotFound

if TYPE_CHECKING:
    from .conftest import School

TODAY = dt.date(2025, 10, 8)


def test_a_teacher_takes_attendance_for_own_lessons_only(school: School) -> None:
    """Another teacher's lesson is not seen by a subject teacher (404); the class teacher sees
    every lesson of her class, so she is refused (403)."""
    own, other = school.lesson(TODAY, 1), school.lesson(TODAY, 2)
    teacher = school.teacher_of(own)

    rules.require_take_attendance(teacher, own.lesson_id, own.class_id)
    with pytest.raises(NotFound) as unseen:
        rules.require_take_attendance(teacher, other.lesson_id, other.class_id)
    assert (unseen.value.message, unseen.value.field) == ("no such lesson", "lesson_id")
    with pytest.raises(Forbidden):
        rules.require_take_attendance(school.class_teacher, own.lesson_id, own.class_id)


def test_the_class_teacher_excuses_own_class_only(school: School) -> None:
    """A student of another class is not seen (404); the guardian sees the child but may not
    excuse directly (403)."""
    rules.require_excuse(school.class_teacher, school.anna)
    with pytest.raises(NotFound) as unseen:
        rules.require_excuse(school.class_teacher, school.outsider)
    assert (unseen.value.message, unseen.value.field) == ("no such student", "student_id")
    with pytest.raises(Forbidden):
        rules.require_excuse(school.guardian, school.anna)


def test_the_administration_reads_all_and_excuses_too(school: School) -> None:
    admin = Relationships(person_id=uuid4(), administration=True)

    rules.require_read_student(admin, school.outsider)
    rules.require_read_class(admin, school.other_class_id)
    rules.require_read_lesson(admin, uuid4(), school.other_class_id)
    rules.require_excuse(admin, school.anna)


def test_a_guardian_sees_and_submits_for_own_children_only(school: School) -> None:
    guardian = school.guardian

    rules.require_read_student(guardian, school.anna)
    rules.require_submit_excuse(guardian, school.anna, TODAY)
    with pytest.raises(NotFound):
        rules.require_read_student(guardian, school.berzs)
    with pytest.raises(NotFound):
        rules.require_submit_excuse(guardian, school.berzs, TODAY)


def test_a_restricted_guardian_neither_sees_nor_submits(school: School) -> None:
    restricted = school.guardian.model_copy(
        update={"restricted_children": frozenset({school.anna})}
    )

    with pytest.raises(NotFound):
        rules.require_read_student(restricted, school.anna)
    with pytest.raises(NotFound):
        rules.require_submit_excuse(restricted, school.anna, TODAY)


@pytest.mark.parametrize(
    ("birth_date", "may"),
    [
        (dt.date(2007, 10, 8), True),
        (dt.date(2000, 2, 29), True),
        (dt.date(2007, 10, 9), False),
        (None, False),
    ],
)
def test_a_student_submits_for_themself_from_18(
    school: School, birth_date: dt.date | None, may: bool
) -> None:
    student = Relationships(person_id=school.anna, birth_date=birth_date)

    assert rules.may_submit_excuse(student, school.anna, TODAY) is may
    assert rules.may_submit_excuse(student, school.berzs, TODAY) is False


def test_a_student_reads_only_themself(school: School) -> None:
    student = Relationships(person_id=school.anna)

    rules.require_read_student(student, school.anna)
    with pytest.raises(NotFound):
        rules.require_read_student(student, school.berzs)


def test_a_lesson_is_read_by_its_teacher_and_the_class_teacher(school: School) -> None:
    lesson = school.lesson(TODAY)

    rules.require_read_lesson(school.teacher_of(lesson), lesson.lesson_id, lesson.class_id)
    rules.require_read_lesson(school.class_teacher, lesson.lesson_id, lesson.class_id)
    with pytest.raises(NotFound):
        rules.require_read_lesson(school.guardian, lesson.lesson_id, lesson.class_id)
    with pytest.raises(NotFound):
        rules.require_read_class(school.teacher_of(lesson), lesson.class_id)


def test_only_the_administration_sets_policies(school: School) -> None:
    rules.require_administration(Relationships(person_id=uuid4(), administration=True))
    with pytest.raises(Forbidden):
        rules.require_administration(school.class_teacher)


@pytest.mark.parametrize(
    ("born", "on", "age"),
    [
        (dt.date(2007, 10, 8), dt.date(2025, 10, 7), 17),
        (dt.date(2007, 10, 8), dt.date(2025, 10, 8), 18),
        (dt.date(2004, 2, 29), dt.date(2022, 2, 28), 17),
        (dt.date(2004, 2, 29), dt.date(2022, 3, 1), 18),
    ],
)
def test_age_counts_whole_years(born: dt.date, on: dt.date, age: int) -> None:
    assert rules.age_on(born, on) == age


def test_an_excuse_is_recorded_in_the_highest_administration_role_held() -> None:
    from ezurnals.attendance.api.excuses import EXCUSING_ROLES, excusing_as
    from ezurnals.shared.auth import Principal
    from ezurnals.shared.auth.principal import ADMINISTRATION, Role

    def caller(*roles: Role) -> Principal:
        return Principal(person_id=uuid4(), school_id=uuid4(), roles=frozenset(roles))

    assert frozenset(EXCUSING_ROLES) == ADMINISTRATION
    assert excusing_as(caller(Role.ADMIN, Role.DIRECTOR)) == "director"
    assert excusing_as(caller(Role.DEPUTY_DIRECTOR, Role.TEACHER)) == "deputy_director"
    assert excusing_as(caller(Role.TEACHER)) == "class_teacher"
