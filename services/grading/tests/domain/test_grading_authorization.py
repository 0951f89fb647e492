"""Who may do what with grades — each permission with its denial."""

from __future__ import annotations

from uuid import UUID

import pytest

from ezurnals.grading.domain import (
    Caller,
    Guardianship,
    Relationships,
    Role,
    TeachingAssignment,
    can_define_grading_policy,
    can_finalize_period,
    can_read_correction_history,
    can_read_grades,
    can_record_grades,
    can_unlock_period,
    require,
)
from ezurnals.shared.domain import Forbidden

SCHOOL, OTHER_SCHOOL = UUID(int=1), UUID(int=2)
CLASS_7A, CLASS_7B = UUID(int=10), UUID(int=11)
MATHS, LATVIAN = UUID(int=20), UUID(int=21)
TEACHER, CLASS_TEACHER, PARENT, RESTRICTED_PARENT = (
    UUID(int=30),
    UUID(int=31),
    UUID(int=32),
    UUID(int=33),
)
ANNA, BRUNO = UUID(int=40), UUID(int=41)

REL = Relationships(
    school_id=SCHOOL,
    teaching=frozenset({TeachingAssignment(TEACHER, CLASS_7A, MATHS)}),
    class_teachers=frozenset({(CLASS_TEACHER, CLASS_7A)}),
    guardianships=frozenset(
        {Guardianship(PARENT, ANNA), Guardianship(RESTRICTED_PARENT, ANNA, restricted=True)}
    ),
)


def caller(person: UUID, role: Role, school: UUID = SCHOOL) -> Caller:
    return Caller(person_id=person, school_id=school, role=role)


def reads(
    who: Caller, student: UUID = ANNA, class_id: UUID = CLASS_7A, subject: UUID = MATHS
) -> bool:
    return can_read_grades(who, REL, student_id=student, class_id=class_id, subject_id=subject)


def test_a_teacher_records_grades_in_an_assigned_class_and_subject() -> None:
    assert can_record_grades(caller(TEACHER, Role.TEACHER), REL, CLASS_7A, MATHS)


@pytest.mark.parametrize(
    ("who", "class_id", "subject"),
    [
        (caller(TEACHER, Role.TEACHER), CLASS_7B, MATHS),
        (caller(TEACHER, Role.TEACHER), CLASS_7A, LATVIAN),
        (caller(CLASS_TEACHER, Role.TEACHER), CLASS_7A, MATHS),
        (caller(TEACHER, Role.TEACHER, OTHER_SCHOOL), CLASS_7A, MATHS),
        (caller(TEACHER, Role.GUARDIAN), CLASS_7A, MATHS),
        (caller(UUID(int=50), Role.DEPUTY_DIRECTOR), CLASS_7A, MATHS),
    ],
)
def test_nobody_else_records_grades(who: Caller, class_id: UUID, subject: UUID) -> None:
    assert not can_record_grades(who, REL, class_id, subject)


def test_the_assigned_teacher_and_the_administration_finalise() -> None:
    assert can_finalize_period(caller(TEACHER, Role.TEACHER), REL, CLASS_7A, MATHS)
    assert can_finalize_period(caller(UUID(int=50), Role.DEPUTY_DIRECTOR), REL, CLASS_7A, MATHS)


@pytest.mark.parametrize(
    "who",
    [
        caller(TEACHER, Role.TEACHER),
        caller(UUID(int=50), Role.DEPUTY_DIRECTOR, OTHER_SCHOOL),
        caller(UUID(int=50), Role.SCHOOL_ADMIN),
    ],
)
def test_others_do_not_finalise(who: Caller) -> None:
    assert not can_finalize_period(who, REL, CLASS_7B, MATHS)


@pytest.mark.parametrize("role", [Role.DEPUTY_DIRECTOR, Role.DIRECTOR])
def test_the_directors_unlock(role: Role) -> None:
    assert can_unlock_period(caller(UUID(int=50), role), SCHOOL)


@pytest.mark.parametrize(
    "who",
    [
        caller(TEACHER, Role.TEACHER),
        caller(UUID(int=50), Role.SCHOOL_ADMIN),
        caller(UUID(int=50), Role.OPERATOR),
        caller(UUID(int=50), Role.DEPUTY_DIRECTOR, OTHER_SCHOOL),
    ],
)
def test_nobody_else_unlocks(who: Caller) -> None:
    assert not can_unlock_period(who, SCHOOL)


@pytest.mark.parametrize("role", [Role.SCHOOL_ADMIN, Role.DEPUTY_DIRECTOR, Role.DIRECTOR])
def test_the_schools_administration_defines_scales_and_deadlines(role: Role) -> None:
    assert can_define_grading_policy(caller(UUID(int=50), role), SCHOOL)


@pytest.mark.parametrize(
    "who",
    [
        caller(TEACHER, Role.TEACHER),
        caller(PARENT, Role.GUARDIAN),
        caller(UUID(int=50), Role.SCHOOL_ADMIN, OTHER_SCHOOL),
    ],
)
def test_nobody_else_defines_scales(who: Caller) -> None:
    assert not can_define_grading_policy(who, SCHOOL)


def test_a_guardian_reads_their_own_childs_grades() -> None:
    assert reads(caller(PARENT, Role.GUARDIAN), ANNA)


def test_a_guardian_does_not_read_another_childs_grades() -> None:
    assert not reads(caller(PARENT, Role.GUARDIAN), BRUNO)


def test_a_restricted_guardian_reads_nothing() -> None:
    assert not reads(caller(RESTRICTED_PARENT, Role.GUARDIAN), ANNA)


def test_a_guardian_of_another_school_reads_nothing() -> None:
    assert not reads(caller(PARENT, Role.GUARDIAN, OTHER_SCHOOL), ANNA)


def test_a_student_reads_only_their_own_grades() -> None:
    assert reads(caller(ANNA, Role.STUDENT), ANNA)
    assert not reads(caller(ANNA, Role.STUDENT), BRUNO)


@pytest.mark.parametrize("role", [Role.DEPUTY_DIRECTOR, Role.DIRECTOR])
def test_the_administration_reads_all(role: Role) -> None:
    assert reads(caller(UUID(int=50), role), BRUNO, CLASS_7B, LATVIAN)


def test_the_administration_of_another_school_reads_nothing() -> None:
    assert not reads(caller(UUID(int=50), Role.DIRECTOR, OTHER_SCHOOL))


def test_a_teacher_reads_the_grades_they_teach_and_the_class_teacher_their_class() -> None:
    assert reads(caller(TEACHER, Role.TEACHER), ANNA, CLASS_7A, MATHS)
    assert reads(caller(CLASS_TEACHER, Role.TEACHER), ANNA, CLASS_7A, LATVIAN)


@pytest.mark.parametrize(
    ("who", "class_id", "subject"),
    [
        (caller(TEACHER, Role.TEACHER), CLASS_7A, LATVIAN),
        (caller(TEACHER, Role.TEACHER), CLASS_7B, MATHS),
        (caller(CLASS_TEACHER, Role.TEACHER), CLASS_7B, MATHS),
    ],
)
def test_a_teacher_does_not_read_other_classes_or_subjects(
    who: Caller, class_id: UUID, subject: UUID
) -> None:
    assert not reads(who, ANNA, class_id, subject)


@pytest.mark.parametrize("role", [Role.SCHOOL_ADMIN, Role.OPERATOR])
def test_technical_roles_read_no_grades(role: Role) -> None:
    assert not reads(caller(UUID(int=50), role))


def test_the_correction_history_is_for_the_administration_and_the_subjects_teacher() -> None:
    assert can_read_correction_history(
        caller(UUID(int=50), Role.DEPUTY_DIRECTOR), REL, CLASS_7A, MATHS
    )
    assert can_read_correction_history(caller(TEACHER, Role.TEACHER), REL, CLASS_7A, MATHS)


@pytest.mark.parametrize(
    "who",
    [
        caller(PARENT, Role.GUARDIAN),
        caller(ANNA, Role.STUDENT),
        caller(CLASS_TEACHER, Role.TEACHER),
        caller(UUID(int=50), Role.DEPUTY_DIRECTOR, OTHER_SCHOOL),
    ],
)
def test_families_and_other_teachers_do_not_see_the_correction_history(who: Caller) -> None:
    assert not can_read_correction_history(who, REL, CLASS_7A, MATHS)


def test_require_turns_a_denial_into_forbidden() -> None:
    require(True, "record grades")
    with pytest.raises(Forbidden) as err:
        require(False, "record grades")
    assert err.value.status == 403
    assert "record grades" in err.value.message


def test_the_snapshot_names_the_teachers_of_a_class_subject() -> None:
    assert REL.teachers_of(CLASS_7A, MATHS) == {TEACHER}
    assert REL.teachers_of(CLASS_7B, MATHS) == frozenset()
