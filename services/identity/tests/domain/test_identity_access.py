"""Access rules: families see their own children, staff their classes, nobody another school."""

from __future__ import annotations

from datetime import date
from uuid import UUID

import pytest

from ezurnals.identity.domain.access import (
    ClassTeacherRelation,
    Principal,
    Relationships,
    TeachingRelation,
    may_edit_contacts,
    may_excuse_absences,
    may_read_student,
    readable_students,
)
from ezurnals.identity.domain.guardianship import GuardianLink
from ezurnals.shared.contracts.identity import Role

SCHOOL, OTHER_SCHOOL = UUID(int=1000), UUID(int=2000)
ANNA, JANIS, ADULT = UUID(int=1), UUID(int=2), UUID(int=3)
MOTHER, FATHER, STRANGER = UUID(int=10), UUID(int=11), UUID(int=12)
TEACHER, CLASS_TEACHER, DIRECTOR, FORMER, SUBSTITUTE = (UUID(int=n) for n in range(20, 25))
C7A, C8B = UUID(int=70), UUID(int=80)
MATHS = UUID(int=500)
DAY = date(2025, 11, 5)

REL = Relationships.build(
    SCHOOL,
    students={ANNA: C7A, JANIS: C8B, ADULT: C8B},
    staff={
        TEACHER: [Role.TEACHER],
        CLASS_TEACHER: [Role.TEACHER, Role.CLASS_TEACHER],
        DIRECTOR: [Role.DIRECTOR],
        SUBSTITUTE: [Role.TEACHER],
    },
    guardians=[
        GuardianLink(MOTHER, ANNA),
        GuardianLink(FATHER, ANNA, restricted=True),
        GuardianLink(MOTHER, ADULT, kept_by_student=False),
        GuardianLink(FATHER, ADULT, kept_by_student=True),
    ],
    teaching=[
        TeachingRelation(TEACHER, C7A, MATHS, date(2025, 9, 1)),
        TeachingRelation(SUBSTITUTE, C8B, MATHS, date(2025, 11, 3), date(2025, 11, 14)),
    ],
    class_teachers=[ClassTeacherRelation(C7A, CLASS_TEACHER, date(2025, 9, 1))],
)


def person(pid: UUID, *roles: Role, school: UUID = SCHOOL) -> Principal:
    return Principal(pid, school, frozenset(roles))


@pytest.mark.parametrize(
    ("who", "student", "allowed"),
    [
        (person(ANNA, Role.STUDENT), ANNA, True),
        (person(ANNA, Role.STUDENT), JANIS, False),
        (person(MOTHER, Role.GUARDIAN), ANNA, True),
        (person(MOTHER, Role.GUARDIAN), JANIS, False),
        (person(FATHER, Role.GUARDIAN), ANNA, False),  # court restriction
        (person(MOTHER, Role.GUARDIAN), ADULT, False),  # the adult student said no
        (person(FATHER, Role.GUARDIAN), ADULT, True),  # the adult student said yes
        (person(STRANGER, Role.GUARDIAN), ANNA, False),
        (person(TEACHER, Role.TEACHER), ANNA, True),  # teaches 7.a
        (person(TEACHER, Role.TEACHER), JANIS, False),  # does not teach 8.b
        (person(CLASS_TEACHER, Role.TEACHER, Role.CLASS_TEACHER), ANNA, True),
        (person(DIRECTOR, Role.DIRECTOR), JANIS, True),
        (person(FORMER, Role.DIRECTOR), JANIS, False),  # employment ended: not in staff
        (
            person(TEACHER, Role.TEACHER, Role.DIRECTOR),
            JANIS,
            False,
        ),  # a role the school never gave
        (person(DIRECTOR, Role.DIRECTOR, school=OTHER_SCHOOL), JANIS, False),
        (person(ANNA, Role.STUDENT, school=OTHER_SCHOOL), ANNA, False),
        (person(MOTHER, Role.GUARDIAN, school=OTHER_SCHOOL), ANNA, False),
    ],
)
def test_who_may_read_a_students_data(who: Principal, student: UUID, allowed: bool) -> None:
    assert may_read_student(who, student, REL, DAY) is allowed


def test_a_substitute_reads_the_class_only_during_the_substitution() -> None:
    sub = person(SUBSTITUTE, Role.TEACHER)
    assert may_read_student(sub, JANIS, REL, date(2025, 11, 14))
    assert not may_read_student(sub, JANIS, REL, date(2025, 11, 15))


def test_a_student_unknown_to_the_school_is_invisible_even_to_the_director() -> None:
    assert not may_read_student(person(DIRECTOR, Role.DIRECTOR), UUID(int=999), REL, DAY)


def test_a_guardian_lists_exactly_their_visible_children() -> None:
    assert readable_students(person(MOTHER, Role.GUARDIAN), REL, DAY) == {ANNA}
    assert readable_students(person(DIRECTOR, Role.DIRECTOR), REL, DAY) == {ANNA, JANIS, ADULT}


def test_only_the_class_teacher_or_administration_excuses_absences() -> None:
    assert may_excuse_absences(
        person(CLASS_TEACHER, Role.TEACHER, Role.CLASS_TEACHER), ANNA, REL, DAY
    )
    assert not may_excuse_absences(
        person(CLASS_TEACHER, Role.TEACHER, Role.CLASS_TEACHER), JANIS, REL, DAY
    )
    assert not may_excuse_absences(person(TEACHER, Role.TEACHER), ANNA, REL, DAY)
    assert may_excuse_absences(person(DIRECTOR, Role.DIRECTOR), JANIS, REL, DAY)
    assert not may_excuse_absences(person(MOTHER, Role.GUARDIAN), ANNA, REL, DAY)


def test_one_guardian_cannot_change_anothers_contacts() -> None:
    assert may_edit_contacts(person(MOTHER, Role.GUARDIAN), MOTHER, REL, DAY)
    assert not may_edit_contacts(person(MOTHER, Role.GUARDIAN), FATHER, REL, DAY)
    assert may_edit_contacts(person(CLASS_TEACHER, Role.TEACHER), FATHER, REL, DAY)
    assert not may_edit_contacts(person(TEACHER, Role.TEACHER), FATHER, REL, DAY)
    assert not may_edit_contacts(
        person(MOTHER, Role.GUARDIAN, school=OTHER_SCHOOL), MOTHER, REL, DAY
    )


def test_teaches_is_exact_about_class_subject_and_date() -> None:
    assert REL.teaches(TEACHER, C7A, MATHS, DAY)
    assert not REL.teaches(TEACHER, C8B, MATHS, DAY)
    assert not REL.teaches(TEACHER, C7A, UUID(int=501), DAY)
    assert not REL.teaches(TEACHER, C7A, MATHS, date(2025, 8, 31))
