"""Who may do what (issue 4): only the assigned teacher or substitute records a lesson; the class
teacher and the administration read; a deputy director reads everything of the school.

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
from ezurnals.shared.domain import Forbidden


def actor(principal: Principal) -> Actor:
    return Actor(id=principal.person_id, role=sorted(principal.roles)[0] if principal.roles else "")


def require_administration(principal: Principal) -> None:
    """School structure (subjects, timetables, policies) is the administration's."""
    if not principal.is_administration:
        raise Forbidden("only the school's administration may do this")


def require_staff(principal: Principal) -> None:
    if not principal.is_staff:
        raise Forbidden("only the school's staff may do this")


async def may_read_class(reader: Reader, principal: Principal, class_id: UUID, on: date) -> None:
    """The administration, the class teacher, and teachers of the class read its lessons."""
    require_staff(principal)
    if principal.is_administration:
        return
    person = principal.person_id
    if await reader.is_class_teacher(class_id, person, on) or await reader.teaches(
        class_id, person, on
    ):
        return
    raise Forbidden("only the class's teachers, class teacher and administration may see this")


async def may_read_lesson(reader: Reader, principal: Principal, lesson: dict[str, Any]) -> None:
    if principal.person_id in (lesson["teacher_id"], lesson["substitute_teacher_id"]):
        return
    await may_read_class(reader, principal, lesson["class_id"], lesson["lesson_date"])
