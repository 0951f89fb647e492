"""The authenticated caller as every service sees it."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from uuid import UUID


class Role(StrEnum):
    TEACHER = "teacher"
    CLASS_TEACHER = "class_teacher"
    DEPUTY_DIRECTOR = "deputy_director"
    DIRECTOR = "director"
    ADMIN = "admin"
    GUARDIAN = "guardian"
    STUDENT = "student"


STAFF_ROLES = frozenset(
    {Role.TEACHER, Role.CLASS_TEACHER, Role.DEPUTY_DIRECTOR, Role.DIRECTOR, Role.ADMIN}
)
ADMINISTRATION = frozenset({Role.DEPUTY_DIRECTOR, Role.DIRECTOR, Role.ADMIN})


@dataclass(frozen=True)
class Principal:
    person_id: UUID
    school_id: UUID
    roles: frozenset[str]
    session_id: UUID | None = None
    #: A staff password past the policy's age: the only thing allowed is changing it.
    password_expired: bool = False
    #: When the token was issued (epoch seconds): "sign out everywhere" refuses older tokens.
    issued_at: float | None = None

    def has(self, *roles: str) -> bool:
        return any(r in self.roles for r in roles)

    @property
    def is_staff(self) -> bool:
        return bool(self.roles & STAFF_ROLES)

    @property
    def is_administration(self) -> bool:
        return bool(self.roles & ADMINISTRATION)
