"""Who may do what (issue 4): only the assigned teacher or substitute records a lesson; the class
teacher and the administration read; a deputy director reads everything of the school. What the
caller does not see is answered as missing, and only what they see is refused with 403
(``ezurnals.shared.domain.require_seen``).

Recording rights are the Lesson aggregate's own rule; here are the reading and admin rights,
which combine the token's roles with identity's relationships.
"""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

from ezurnals.lessons.queries import Reader
from ezurnals.shared.auth.principal import Principal
from ezurnals.shared.contracts.base import Actor
from ezurnals.shared.domain import Forbidden, require_seen


def actor(principal: Principal) -> Actor:
    return Actor(id=principal.person_id, role=sorted(principal.roles)[0] if principal.roles else "")


def require_administration(principal: Principal) -> None:
    """School structure (subjects, timetables, policies) is the administration's."""
    if not principal.is_administration:
        raise Forbidden("only the school's administration may do this")


def require_staff(principal: Principal) -> None:
    if not principal.is_staff:
        raise Forbidden("only the school's staff may do this")


async def sees_class(reader: Reader, principal: Principal, class_id: UUID, on: date) -> bool:
    """The administration, the class teacher, and teachers of the class (substitutes too) see
    it and its lessons; families read them in reporting's diary, not here."""
    if not principal.is_staff:
        return False
    if principal.is_administration:
        return True
    person = principal.person_id
    return await reader.is_class_teacher(class_id, person, on) or await reader.teaches(
        class_id, person, on
    )


async def sees_lesson(reader: Reader, principal: Principal, lesson: dict[str, Any]) -> bool:
    if principal.person_id in (lesson["teacher_id"], lesson["substitute_teacher_id"]):
        return True
    return await sees_class(reader, principal, lesson["class_id"], lesson["lesson_date"])


async def may_read_class(reader: Reader, principal: Principal, class_id: UUID, on: date) -> None:
    """A class the caller does not see reads like one that is not there (the shared rule)."""
    require_seen(await sees_class(reader, principal, class_id, on), "class", "class_id")


async def may_read_lesson(reader: Reader, principal: Principal, lesson: dict[str, Any]) -> None:
    require_seen(await sees_lesson(reader, principal, lesson), "lesson", "lesson_id")


async def require_seen_lesson(
    reader: Reader, principal: Principal, lesson_id: UUID
) -> dict[str, Any]:
    """The lesson of the caller's school that the caller sees, before anything is decided about
    it; else the answer for a lesson that is not there."""
    row = await reader.lesson(principal.school_id, lesson_id)
    require_seen(row is not None, "lesson", "lesson_id")
    assert row is not None
    await may_read_lesson(reader, principal, row)
    return row
