"""Who may read a student's diary, statements and report cards.

A guardian reads only their own children, never under a court restriction, and not once an adult
student has decided the guardian keeps no access. A student reads only themself. Staff read the
students of the school per role: the administration every student, teachers and class teachers
the students of the classes they teach or lead.
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from ezurnals.shared.auth.principal import ADMINISTRATION, Role


@dataclass(frozen=True)
class Guardianship:
    guardian_id: UUID
    linked: bool
    restricted: bool
    #: An adult student's decision; None while none was recorded.
    keeps_access: bool | None = None

    @property
    def grants_access(self) -> bool:
        return self.linked and not self.restricted and self.keeps_access is not False


@dataclass(frozen=True)
class StudentFacts:
    """What the read models know about a student within one school."""

    student_id: UUID
    class_ids: frozenset[UUID]
    guardianships: tuple[Guardianship, ...] = ()


@dataclass(frozen=True)
class Reader:
    person_id: UUID
    roles: frozenset[str]
    #: Classes the reader teaches a subject in or leads as class teacher.
    class_ids: frozenset[UUID] = frozenset()
    #: Classes the reader leads as class teacher (klases audzinātājs).
    led_class_ids: frozenset[UUID] = frozenset()
    #: (class, subject) pairs the reader teaches.
    taught: frozenset[tuple[UUID, UUID]] = frozenset()


def may_read_student(reader: Reader, student: StudentFacts) -> bool:
    if reader.roles & ADMINISTRATION:
        return True
    if reader.roles & {Role.TEACHER, Role.CLASS_TEACHER} and reader.class_ids & student.class_ids:
        return True
    if Role.STUDENT in reader.roles and reader.person_id == student.student_id:
        return True
    return Role.GUARDIAN in reader.roles and any(
        g.guardian_id == reader.person_id and g.grants_access for g in student.guardianships
    )


def may_read_class(reader: Reader, class_id: UUID) -> bool:
    """Class documents (a class's statements, report cards, summary journal) are for the class
    teacher of that class and the administration."""
    return bool(reader.roles & ADMINISTRATION) or class_id in reader.led_class_ids


def may_read_class_journal(reader: Reader, class_id: UUID, subject_id: UUID) -> bool:
    """A subject's class journal is for its teachers, the class teacher and the administration."""
    return may_read_class(reader, class_id) or (class_id, subject_id) in reader.taught


def may_administer(reader: Reader) -> bool:
    """The school-wide views (compliance, open lessons, statistics) are the administration's."""
    return bool(reader.roles & ADMINISTRATION)
