"""A staff member's employment at a school: hiring, roles, and its end (rule 10).

Ending employment must revoke access at once, so the handler that records EmploymentEnded also
asks the person's Account to ``revoke_access`` in the same transaction.
"""

from __future__ import annotations

from datetime import date

from pydantic import Field

from ezurnals.identity.domain.scoped import SchoolScoped
from ezurnals.shared.contracts.identity import (
    STAFF_ROLES,
    EmploymentEnded,
    IdentityEvent,
    Role,
    StaffMemberHired,
    StaffRolesChanged,
)
from ezurnals.shared.domain import Command, Conflict, Invalid, NotFound


class HireStaffMember(Command):
    roles: tuple[Role, ...] = Field(min_length=1)
    hired_on: date


class ChangeStaffRoles(Command):
    roles: tuple[Role, ...] = Field(min_length=1)
    changed_on: date


class EndEmployment(Command):
    ended_on: date


def _staff_roles(roles: tuple[Role, ...]) -> tuple[Role, ...]:
    others = sorted(set(roles) - STAFF_ROLES)
    if others:
        raise Invalid(f"not staff roles: {', '.join(others)}", field="roles")
    return tuple(sorted(set(roles)))


class Employment(SchoolScoped):
    kind = "employment"

    def __init__(self, stream_id: str) -> None:
        super().__init__(stream_id)
        self.roles: tuple[Role, ...] = ()
        self.hired_on: date | None = None
        self.ended_on: date | None = None

    @property
    def active(self) -> bool:
        return self.hired_on is not None and self.ended_on is None

    def hire(self, cmd: HireStaffMember) -> list[IdentityEvent]:
        roles = _staff_roles(cmd.roles)
        if self.active:
            raise Conflict("the person is already employed here", field="person_id")
        if self.ended_on is not None and cmd.hired_on <= self.ended_on:
            raise Invalid("re-hiring must come after the last employment ended", field="hired_on")
        return [
            StaffMemberHired(
                school_id=self.school_id,
                person_id=self.entity_id,
                roles=roles,
                hired_on=cmd.hired_on,
            )
        ]

    def change_roles(self, cmd: ChangeStaffRoles) -> list[IdentityEvent]:
        roles = _staff_roles(cmd.roles)
        self._require_active()
        if roles == self.roles:
            return []
        return [
            StaffRolesChanged(
                school_id=self.school_id,
                person_id=self.entity_id,
                roles=roles,
                changed_on=cmd.changed_on,
            )
        ]

    def end(self, cmd: EndEmployment, today: date) -> list[IdentityEvent]:
        """End employment now or record a past end; a future end would leave access open."""
        hired_on = self._require_active()
        if cmd.ended_on > today:
            raise Invalid("employment is ended on the day it ends, not ahead", field="ended_on")
        if cmd.ended_on < hired_on:
            raise Invalid("employment cannot end before it began", field="ended_on")
        return [
            EmploymentEnded(
                school_id=self.school_id, person_id=self.entity_id, ended_on=cmd.ended_on
            )
        ]

    def _require_active(self) -> date:
        if self.hired_on is None or not self.active:
            raise NotFound("the person is not employed here", field="person_id")
        return self.hired_on

    def when_StaffMemberHired(self, event: StaffMemberHired) -> None:
        self.roles = event.roles
        self.hired_on = event.hired_on
        self.ended_on = None

    def when_StaffRolesChanged(self, event: StaffRolesChanged) -> None:
        self.roles = event.roles

    def when_EmploymentEnded(self, event: EmploymentEnded) -> None:
        self.ended_on = event.ended_on
