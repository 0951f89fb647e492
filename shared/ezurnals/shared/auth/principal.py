"""The authenticated caller as every service sees it."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

# The roles are identity's, as its events carry them: one enum, re-exported here for the services.
from ezurnals.shared.contracts.identity import STAFF_ROLES, Role

__all__ = ["ADMINISTRATION", "STAFF_ROLES", "Principal", "Role"]

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
