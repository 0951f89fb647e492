"""Who may do what in attendance, decided over a snapshot of the caller's relationships.

The handler builds a :class:`Relationships` from the access token and the service's local copy of
identity's facts (teaching assignments, class-teacher assignments, guardianships, restrictions).
The caller sees a student, class or lesson when a ``may_read_*`` below says so; what they do not
see is answered as missing, and only what they see can be refused with 403 (the shared rule,
``ezurnals.shared.domain.require_seen``).
"""

from __future__ import annotations

import datetime as dt
from uuid import UUID

from pydantic import BaseModel, ConfigDict

from ezurnals.shared.domain import Forbidden, require_permitted, require_seen

AGE_OF_MAJORITY = 18


class Relationships(BaseModel):
    """The caller and the people, classes and lessons they stand in a relation to."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    person_id: UUID
    administration: bool = False
    taught_lessons: frozenset[UUID] = frozenset()
    homeroom_classes: frozenset[UUID] = frozenset()
    homeroom_students: frozenset[UUID] = frozenset()
    children: frozenset[UUID] = frozenset()
    restricted_children: frozenset[UUID] = frozenset()
    birth_date: dt.date | None = None
    #: The first day the caller is known to be of age when the birth date itself is sealed
    #: (identity's StudentCameOfAge, or a decision about guardians' access only an adult makes).
    adult_since: dt.date | None = None


def age_on(birth_date: dt.date, day: dt.date) -> int:
    had_birthday = (day.month, day.day) >= (birth_date.month, birth_date.day)
    return day.year - birth_date.year - (0 if had_birthday else 1)


def is_own_child(rel: Relationships, student_id: UUID) -> bool:
    """A guardian's own child, unless a court restriction on this guardian is recorded."""
    return student_id in rel.children and student_id not in rel.restricted_children


def is_adult_student_self(rel: Relationships, student_id: UUID, today: dt.date) -> bool:
    if rel.person_id != student_id:
        return False
    if rel.birth_date is not None:
        return age_on(rel.birth_date, today) >= AGE_OF_MAJORITY
    return rel.adult_since is not None and rel.adult_since <= today


def may_take_attendance(rel: Relationships, lesson_id: UUID) -> bool:
    return lesson_id in rel.taught_lessons


def may_excuse(rel: Relationships, student_id: UUID) -> bool:
    """Rule 4: the class teacher, or the administration (director, deputy director)."""
    return rel.administration or student_id in rel.homeroom_students


def may_submit_excuse(rel: Relationships, student_id: UUID, today: dt.date) -> bool:
    return is_own_child(rel, student_id) or is_adult_student_self(rel, student_id, today)


def may_read_student(rel: Relationships, student_id: UUID) -> bool:
    return (
        rel.administration
        or rel.person_id == student_id
        or is_own_child(rel, student_id)
        or student_id in rel.homeroom_students
    )


def may_read_class(rel: Relationships, class_id: UUID) -> bool:
    return rel.administration or class_id in rel.homeroom_classes


def may_read_lesson(rel: Relationships, lesson_id: UUID, class_id: UUID) -> bool:
    return may_take_attendance(rel, lesson_id) or may_read_class(rel, class_id)


def require_take_attendance(rel: Relationships, lesson_id: UUID, class_id: UUID) -> None:
    require_read_lesson(rel, lesson_id, class_id)
    require_permitted(
        may_take_attendance(rel, lesson_id),
        "only the teacher of this lesson may take its attendance",
    )


def require_excuse(
    rel: Relationships, student_id: UUID, *, thing: str = "student", field: str = "student_id"
) -> None:
    """``thing``/``field``: what the call names (the student, or a request about them)."""
    require_seen(may_read_student(rel, student_id), thing, field)
    require_permitted(
        may_excuse(rel, student_id),
        "only the student's class teacher or the administration may excuse absences",
    )


def require_submit_excuse(rel: Relationships, student_id: UUID, today: dt.date) -> None:
    require_seen(may_submit_excuse(rel, student_id, today), "student", "student_id")


def require_read_student(rel: Relationships, student_id: UUID) -> None:
    require_seen(may_read_student(rel, student_id), "student", "student_id")


def require_read_class(rel: Relationships, class_id: UUID) -> None:
    require_seen(may_read_class(rel, class_id), "class", "class_id")


def require_read_lesson(rel: Relationships, lesson_id: UUID, class_id: UUID) -> None:
    require_seen(may_read_lesson(rel, lesson_id, class_id), "lesson", "lesson_id")


def require_administration(rel: Relationships) -> None:
    if not rel.administration:
        raise Forbidden("only the school administration sets attendance policies")
