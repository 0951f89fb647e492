"""Who may do what with grades: the role a caller acts in combined with their relationships.

A teacher works only in the classes and subjects assigned to them, a class teacher also reads
their own class, families read only their own children (never while a restriction is recorded),
and the administration reads everything in its own school. The relationships come from a small
snapshot the service keeps of identity's events.
"""

from __future__ import annotations

from collections.abc import Set
from dataclasses import dataclass, field
from enum import StrEnum
from uuid import UUID

from ezurnals.shared.domain import Forbidden


class Role(StrEnum):
    """The role a caller acts in (from their access token)."""

    TEACHER = "teacher"
    DEPUTY_DIRECTOR = "deputy_director"
    DIRECTOR = "director"
    SCHOOL_ADMIN = "school_admin"
    GUARDIAN = "guardian"
    STUDENT = "student"
    OPERATOR = "operator"


#: Reads every grade of the school and may finalise periods.
ADMINISTRATION = frozenset({Role.DEPUTY_DIRECTOR, Role.DIRECTOR})
#: Sets up scales and deadlines.
POLICY_MAKERS = frozenset({Role.SCHOOL_ADMIN, Role.DEPUTY_DIRECTOR, Role.DIRECTOR})
#: Reopens a finalised period.
UNLOCKERS = frozenset({Role.DEPUTY_DIRECTOR, Role.DIRECTOR})


@dataclass(frozen=True)
class Caller:
    """A signed-in person acting in one role at one school."""

    person_id: UUID
    school_id: UUID
    role: Role


@dataclass(frozen=True)
class TeachingAssignment:
    teacher_id: UUID
    class_id: UUID
    subject_id: UUID


@dataclass(frozen=True)
class Guardianship:
    guardian_id: UUID
    student_id: UUID
    #: A court restriction, or an adult student who withdrew the guardian's access.
    restricted: bool = False


@dataclass(frozen=True)
class Relationships:
    """One school's relationships as the grading service knows them."""

    school_id: UUID
    teaching: Set[TeachingAssignment] = field(default_factory=frozenset)
    #: (teacher_id, class_id) for each klases audzinātājs.
    class_teachers: Set[tuple[UUID, UUID]] = field(default_factory=frozenset)
    guardianships: Set[Guardianship] = field(default_factory=frozenset)

    def teaches(self, teacher_id: UUID, class_id: UUID, subject_id: UUID) -> bool:
        return TeachingAssignment(teacher_id, class_id, subject_id) in self.teaching

    def teachers_of(self, class_id: UUID, subject_id: UUID) -> frozenset[UUID]:
        return frozenset(
            a.teacher_id
            for a in self.teaching
            if a.class_id == class_id and a.subject_id == subject_id
        )

    def is_class_teacher(self, teacher_id: UUID, class_id: UUID) -> bool:
        return (teacher_id, class_id) in self.class_teachers

    def is_guardian(self, guardian_id: UUID, student_id: UUID) -> bool:
        return any(
            g.guardian_id == guardian_id and g.student_id == student_id and not g.restricted
            for g in self.guardianships
        )


def _at_school(caller: Caller, school_id: UUID) -> bool:
    return caller.school_id == school_id


def can_record_grades(
    caller: Caller, relationships: Relationships, class_id: UUID, subject_id: UUID
) -> bool:
    """Record, correct and set period grades: only the teacher assigned to the class and subject."""
    return (
        _at_school(caller, relationships.school_id)
        and caller.role is Role.TEACHER
        and relationships.teaches(caller.person_id, class_id, subject_id)
    )


def can_finalize_period(
    caller: Caller, relationships: Relationships, class_id: UUID, subject_id: UUID
) -> bool:
    """Finalising: the assigned teacher, or the administration on their behalf."""
    if not _at_school(caller, relationships.school_id):
        return False
    return caller.role in ADMINISTRATION or can_record_grades(
        caller, relationships, class_id, subject_id
    )


def can_unlock_period(caller: Caller, school_id: UUID) -> bool:
    """Only a (deputy) director reopens a finalised period."""
    return _at_school(caller, school_id) and caller.role in UNLOCKERS


def can_define_grading_policy(caller: Caller, school_id: UUID) -> bool:
    """Scales and deadlines belong to the school's administration."""
    return _at_school(caller, school_id) and caller.role in POLICY_MAKERS


def can_read_grades(
    caller: Caller,
    relationships: Relationships,
    *,
    student_id: UUID,
    class_id: UUID,
    subject_id: UUID,
) -> bool:
    """Read one student's grades in one class and subject."""
    if not _at_school(caller, relationships.school_id):
        return False
    match caller.role:
        case Role.DEPUTY_DIRECTOR | Role.DIRECTOR:
            return True
        case Role.TEACHER:
            return relationships.teaches(
                caller.person_id, class_id, subject_id
            ) or relationships.is_class_teacher(caller.person_id, class_id)
        case Role.GUARDIAN:
            return relationships.is_guardian(caller.person_id, student_id)
        case Role.STUDENT:
            return caller.person_id == student_id
        case _:
            return False


def can_read_correction_history(
    caller: Caller, relationships: Relationships, class_id: UUID, subject_id: UUID
) -> bool:
    """Who changed what and why: the administration and the subject's teacher.

    Families see that a grade was corrected (old and new value), not who corrected it or why.
    """
    if not _at_school(caller, relationships.school_id):
        return False
    return caller.role in ADMINISTRATION or (
        caller.role is Role.TEACHER
        and relationships.teaches(caller.person_id, class_id, subject_id)
    )


def sees_grade_book(
    caller: Caller, relationships: Relationships, class_id: UUID, subject_id: UUID
) -> bool:
    """Who reads a class-subject's grade book whole sees it (the administration, the subject's
    teacher, the class teacher); families read only their own child's grades, never the book.
    A book the caller does not see is answered like one that is not there."""
    return caller.role not in (Role.GUARDIAN, Role.STUDENT) and can_read_grades(
        caller, relationships, student_id=caller.person_id, class_id=class_id, subject_id=subject_id
    )


def sees_class(caller: Caller, relationships: Relationships, class_id: UUID) -> bool:
    """The administration, a teacher of any subject of the class and its class teacher: they
    are told that a subject is not there, everyone else that the class is not."""
    if not _at_school(caller, relationships.school_id):
        return False
    if caller.role in ADMINISTRATION:
        return True
    return caller.role is Role.TEACHER and (
        any(
            a.class_id == class_id and a.teacher_id == caller.person_id
            for a in relationships.teaching
        )
        or relationships.is_class_teacher(caller.person_id, class_id)
    )


def require(allowed: bool, action: str) -> None:
    """Turn a denied permission into the 403 the API answers with."""
    if not allowed:
        raise Forbidden(f"you may not {action}")
