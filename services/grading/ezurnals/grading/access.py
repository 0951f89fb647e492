"""From a verified token to the domain's callers: one Caller per role the person holds here.

A staff role counts only while identity's facts say the person holds it (the token is older than
a role removed or an employment ended); family roles are checked against guardianships and the
person's own id wherever they are used. Identity's roles and the grading domain's differ slightly:
a class teacher is a teacher whose class relationship comes from the staffing projection, and
identity's ``admin`` is the school admin.
"""

from __future__ import annotations

from collections.abc import Callable, Set
from dataclasses import dataclass
from uuid import UUID

from ezurnals.grading.domain import Caller, Relationships, Role, sees_class, sees_grade_book
from ezurnals.shared.auth import Principal
from ezurnals.shared.domain import Forbidden, missing

_ROLES: dict[str, Role] = {
    "teacher": Role.TEACHER,
    "class_teacher": Role.TEACHER,
    "deputy_director": Role.DEPUTY_DIRECTOR,
    "director": Role.DIRECTOR,
    "admin": Role.SCHOOL_ADMIN,
    "school_admin": Role.SCHOOL_ADMIN,
    "guardian": Role.GUARDIAN,
    "student": Role.STUDENT,
}
#: Roles the token alone may claim: what they allow is bound to the person's own family ties.
_FAMILY_ROLES = frozenset({"guardian", "student"})


@dataclass(frozen=True)
class Access:
    """The person calling, in each role their token grants at their school."""

    principal: Principal
    callers: tuple[Caller, ...]

    @classmethod
    def of(cls, principal: Principal, staff_roles: Set[str]) -> Access:
        """``staff_roles``: the roles identity says the person holds on the school's staff now."""
        held = {r for r in principal.roles if r in _FAMILY_ROLES or r in staff_roles}
        roles = sorted({_ROLES[r] for r in held if r in _ROLES})
        return cls(
            principal,
            tuple(Caller(principal.person_id, principal.school_id, role) for role in roles),
        )

    @property
    def school_id(self) -> UUID:
        return self.principal.school_id

    @property
    def person_id(self) -> UUID:
        return self.principal.person_id

    @property
    def is_staff(self) -> bool:
        return any(c.role not in (Role.GUARDIAN, Role.STUDENT) for c in self.callers)

    def holds(self, *roles: Role) -> bool:
        return any(c.role in roles for c in self.callers)

    def may(self, check: Callable[[Caller], bool]) -> bool:
        """Allowed if any of the caller's roles is allowed."""
        return any(check(c) for c in self.callers)

    def acting(self, check: Callable[[Caller], bool], action: str) -> Caller:
        """The role the caller acts in for ``action``; 403 if none of their roles may."""
        for caller in self.callers:
            if check(caller):
                return caller
        raise Forbidden(f"you may not {action}")


def require_sees_book(
    access: Access, relationships: Relationships, class_id: UUID, subject_id: UUID
) -> None:
    """Before anything is read or decided: a book the caller does not see is answered like an
    unknown subject of a class they see, or like an unknown class (the shared rule)."""
    if access.may(lambda c: sees_grade_book(c, relationships, class_id, subject_id)):
        return
    if access.may(lambda c: sees_class(c, relationships, class_id)):
        raise missing("subject", "subject_id")
    raise missing("class", "class_id")
