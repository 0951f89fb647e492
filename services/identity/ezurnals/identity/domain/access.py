"""Who may see and touch whose data: the role combined with the relationships (ARCHITECTURE §7).

``Relationships`` is an immutable snapshot of one school, built by a projection from identity's
events. Every rule first requires the caller to belong to that school: another school's data is
never visible, whatever the roles say. Roles are taken from the snapshot's employment records,
not from the caller's token alone, so a role removed or an employment ended stops working even
while an old token lives.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from types import MappingProxyType
from uuid import UUID

from ezurnals.identity.domain.guardianship import GuardianLink
from ezurnals.shared.contracts.identity import Role

SCHOOL_WIDE_ROLES = frozenset({Role.ADMIN, Role.DEPUTY_DIRECTOR, Role.DIRECTOR})


@dataclass(frozen=True)
class Principal:
    """The caller, as their access token describes them."""

    person_id: UUID
    school_id: UUID
    roles: frozenset[Role]


@dataclass(frozen=True)
class TeachingRelation:
    teacher_id: UUID
    class_id: UUID
    subject_id: UUID
    valid_from: date
    valid_to: date | None = None

    def covers(self, day: date) -> bool:
        return self.valid_from <= day and (self.valid_to is None or day <= self.valid_to)


@dataclass(frozen=True)
class ClassTeacherRelation:
    class_id: UUID
    teacher_id: UUID
    valid_from: date


@dataclass(frozen=True)
class Relationships:
    """One school's people and how they relate, as of the projection that built it."""

    school_id: UUID
    #: Every student of the school and their current class (None: not in a class now).
    students: Mapping[UUID, UUID | None] = field(default_factory=dict)
    #: Staff whose employment is active, with their roles.
    staff: Mapping[UUID, frozenset[Role]] = field(default_factory=dict)
    guardians: frozenset[GuardianLink] = frozenset()
    teaching: frozenset[TeachingRelation] = frozenset()
    class_teachers: tuple[ClassTeacherRelation, ...] = ()

    @classmethod
    def build(
        cls,
        school_id: UUID,
        *,
        students: Mapping[UUID, UUID | None] | None = None,
        staff: Mapping[UUID, Iterable[Role]] | None = None,
        guardians: Iterable[GuardianLink] = (),
        teaching: Iterable[TeachingRelation] = (),
        class_teachers: Iterable[ClassTeacherRelation] = (),
    ) -> Relationships:
        return cls(
            school_id=school_id,
            students=MappingProxyType(dict(students or {})),
            staff=MappingProxyType({p: frozenset(r) for p, r in (staff or {}).items()}),
            guardians=frozenset(guardians),
            teaching=frozenset(teaching),
            class_teachers=tuple(sorted(class_teachers, key=lambda c: c.valid_from)),
        )

    def teaches(self, teacher_id: UUID, class_id: UUID, subject_id: UUID, on_date: date) -> bool:
        return any(
            t.teacher_id == teacher_id
            and t.class_id == class_id
            and t.subject_id == subject_id
            and t.covers(on_date)
            for t in self.teaching
        )

    def teaches_class(self, teacher_id: UUID, class_id: UUID, on_date: date) -> bool:
        return any(
            t.teacher_id == teacher_id and t.class_id == class_id and t.covers(on_date)
            for t in self.teaching
        )

    def class_teacher_on(self, class_id: UUID, day: date) -> UUID | None:
        started = [
            c.teacher_id
            for c in self.class_teachers
            if c.class_id == class_id and c.valid_from <= day
        ]
        return started[-1] if started else None

    def guardian_link(self, guardian_id: UUID, student_id: UUID) -> GuardianLink | None:
        return next(
            (
                g
                for g in self.guardians
                if g.guardian_id == guardian_id and g.student_id == student_id
            ),
            None,
        )


def _staff_roles(principal: Principal, rel: Relationships) -> frozenset[Role]:
    """Roles both claimed by the token and held by an active employment in this school."""
    return principal.roles & rel.staff.get(principal.person_id, frozenset())


def _in_school(principal: Principal, rel: Relationships) -> bool:
    return principal.school_id == rel.school_id


def _is_class_teacher(
    principal: Principal, class_id: UUID | None, rel: Relationships, on: date
) -> bool:
    return (
        class_id is not None
        and bool(_staff_roles(principal, rel))
        and rel.class_teacher_on(class_id, on) == principal.person_id
    )


def may_read_student(principal: Principal, student_id: UUID, rel: Relationships, on: date) -> bool:
    """The student themself; a guardian not restricted and not cut off by the adult student;
    staff who teach the student's class or are its class teacher; the school's administration."""
    if not _in_school(principal, rel) or student_id not in rel.students:
        return False
    if principal.person_id == student_id:
        return True
    if Role.GUARDIAN in principal.roles:
        link = rel.guardian_link(principal.person_id, student_id)
        if link is not None and link.may_see:
            return True
    roles = _staff_roles(principal, rel)
    if roles & SCHOOL_WIDE_ROLES:
        return True
    class_id = rel.students[student_id]
    if class_id is None or not roles:
        return False
    return _is_class_teacher(principal, class_id, rel, on) or rel.teaches_class(
        principal.person_id, class_id, on
    )


def readable_students(principal: Principal, rel: Relationships, on: date) -> frozenset[UUID]:
    return frozenset(s for s in rel.students if may_read_student(principal, s, rel, on))


def may_excuse_absences(
    principal: Principal, student_id: UUID, rel: Relationships, on: date
) -> bool:
    """Rule 4: the class teacher of the student's class, or the school's administration."""
    if not _in_school(principal, rel) or student_id not in rel.students:
        return False
    if _staff_roles(principal, rel) & SCHOOL_WIDE_ROLES:
        return True
    return _is_class_teacher(principal, rel.students[student_id], rel, on)


def may_edit_contacts(principal: Principal, person_id: UUID, rel: Relationships, on: date) -> bool:
    """Own contacts; an admin; or the class teacher keeping the personal file of the student or of
    the student's guardian. Never another guardian, even of the same child."""
    if not _in_school(principal, rel):
        return False
    if principal.person_id == person_id:
        return True
    if Role.ADMIN in _staff_roles(principal, rel):
        return True
    students = {person_id} | {g.student_id for g in rel.guardians if g.guardian_id == person_id}
    return any(
        s in rel.students and _is_class_teacher(principal, rel.students[s], rel, on)
        for s in students
    )
