"""A student's guardians: many guardians per student (and many students per guardian, each in
their own stream), court restrictions, and the adult student's say over guardian access.

A restricted guardian sees nothing. Once 18, the student decides whether each guardian keeps
access; until they decide, guardians keep it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from uuid import UUID

from ezurnals.identity.domain.scoped import SchoolScoped
from ezurnals.shared.contracts.identity import (
    GuardianAccessDecided,
    GuardianLinked,
    GuardianshipRestricted,
    GuardianshipUnrestricted,
    GuardianUnlinked,
    IdentityEvent,
    StudentCameOfAge,
)
from ezurnals.shared.domain import Command, Conflict, Forbidden, Invalid, NotFound

ADULT_AGE = 18


def age_on(birth_date: date, day: date) -> int:
    """Whole years lived; someone born on 29 February comes of age on 1 March in common years."""
    return day.year - birth_date.year - ((day.month, day.day) < (birth_date.month, birth_date.day))


def adult_from(birth_date: date) -> date:
    """The 18th birthday: the first day ``age_on`` says 18 (1 March for a 29 February birth)."""
    try:
        return birth_date.replace(year=birth_date.year + ADULT_AGE)
    except ValueError:
        return date(birth_date.year + ADULT_AGE, 3, 1)


class LinkGuardian(Command):
    guardian_id: UUID
    linked_on: date
    restricted: bool = False


class UnlinkGuardian(Command):
    guardian_id: UUID
    unlinked_on: date


class RestrictGuardianship(Command):
    guardian_id: UUID
    restricted_on: date


class UnrestrictGuardianship(Command):
    guardian_id: UUID
    unrestricted_on: date


class DecideGuardianAccess(Command):
    guardian_id: UUID
    keeps_access: bool
    decided_on: date


@dataclass(frozen=True)
class GuardianLink:
    """A guardian's tie to a student; also the shape access rules read (``access``)."""

    guardian_id: UUID
    student_id: UUID
    restricted: bool = False
    #: The adult student's decision; None while they have not decided.
    kept_by_student: bool | None = None

    @property
    def may_see(self) -> bool:
        return not self.restricted and self.kept_by_student is not False


class Guardianship(SchoolScoped):
    kind = "guardianship"

    def __init__(self, stream_id: str) -> None:
        super().__init__(stream_id)
        self.links: dict[UUID, GuardianLink] = {}
        self.adult_from: date | None = None

    @property
    def student_id(self) -> UUID:
        return self.entity_id

    def link(self, cmd: LinkGuardian) -> list[IdentityEvent]:
        if cmd.guardian_id == self.student_id:
            raise Invalid("a student cannot be their own guardian", field="guardian_id")
        if cmd.guardian_id in self.links:
            raise Conflict("the guardian is already linked to this student", field="guardian_id")
        return [
            GuardianLinked(
                school_id=self.school_id,
                guardian_id=cmd.guardian_id,
                student_id=self.student_id,
                linked_on=cmd.linked_on,
                restricted=cmd.restricted,
            )
        ]

    def unlink(self, cmd: UnlinkGuardian) -> list[IdentityEvent]:
        self._link(cmd.guardian_id)
        return [
            GuardianUnlinked(
                school_id=self.school_id,
                guardian_id=cmd.guardian_id,
                student_id=self.student_id,
                unlinked_on=cmd.unlinked_on,
            )
        ]

    def restrict(self, cmd: RestrictGuardianship) -> list[IdentityEvent]:
        if self._link(cmd.guardian_id).restricted:
            return []
        return [
            GuardianshipRestricted(
                school_id=self.school_id,
                guardian_id=cmd.guardian_id,
                student_id=self.student_id,
                restricted_on=cmd.restricted_on,
            )
        ]

    def unrestrict(self, cmd: UnrestrictGuardianship) -> list[IdentityEvent]:
        if not self._link(cmd.guardian_id).restricted:
            return []
        return [
            GuardianshipUnrestricted(
                school_id=self.school_id,
                guardian_id=cmd.guardian_id,
                student_id=self.student_id,
                unrestricted_on=cmd.unrestricted_on,
            )
        ]

    def decide_guardian_access(
        self, cmd: DecideGuardianAccess, decided_by: UUID, birth_date: date
    ) -> list[IdentityEvent]:
        """Only the student, and only from their 18th birthday (``birth_date`` comes unsealed
        from the student's personal data, never from the caller)."""
        if decided_by != self.student_id:
            raise Forbidden("only the student decides about their guardians' access")
        if age_on(birth_date, cmd.decided_on) < ADULT_AGE:
            raise Forbidden(
                "a student decides about guardian access from their 18th birthday",
                code="not_adult",
            )
        link = self._link(cmd.guardian_id)
        if link.kept_by_student is cmd.keeps_access:
            return []
        return [
            GuardianAccessDecided(
                school_id=self.school_id,
                guardian_id=cmd.guardian_id,
                student_id=self.student_id,
                keeps_access=cmd.keeps_access,
                decided_on=cmd.decided_on,
            )
        ]

    def come_of_age(self, birth_date: date, today: date) -> list[IdentityEvent]:
        """StudentCameOfAge once, from the 18th birthday on; nothing before it or a second time."""
        day = adult_from(birth_date)
        if self.adult_from is not None or today < day:
            return []
        return [StudentCameOfAge(school_id=self.school_id, student_id=self.student_id, on=day)]

    def may_see(self, guardian_id: UUID) -> bool:
        link = self.links.get(guardian_id)
        return link is not None and link.may_see

    def _link(self, guardian_id: UUID) -> GuardianLink:
        try:
            return self.links[guardian_id]
        except KeyError:
            raise NotFound(
                "the guardian is not linked to this student", field="guardian_id"
            ) from None

    def when_GuardianLinked(self, event: GuardianLinked) -> None:
        self.links[event.guardian_id] = GuardianLink(
            event.guardian_id, event.student_id, restricted=event.restricted
        )

    def when_GuardianUnlinked(self, event: GuardianUnlinked) -> None:
        del self.links[event.guardian_id]

    def when_GuardianshipRestricted(self, event: GuardianshipRestricted) -> None:
        self.links[event.guardian_id] = replace(self.links[event.guardian_id], restricted=True)

    def when_GuardianshipUnrestricted(self, event: GuardianshipUnrestricted) -> None:
        self.links[event.guardian_id] = replace(self.links[event.guardian_id], restricted=False)

    def when_GuardianAccessDecided(self, event: GuardianAccessDecided) -> None:
        self.links[event.guardian_id] = replace(
            self.links[event.guardian_id], kept_by_student=event.keeps_access
        )

    def when_StudentCameOfAge(self, event: StudentCameOfAge) -> None:
        self.adult_from = event.on
