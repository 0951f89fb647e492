"""A person's personal file (personas lieta): personal data kept sealed with the person's own key.

The domain never sees plaintext personal data: handlers seal it with the person's key before a
command and unseal it for reading. Erasure deletes the key (crypto-shredding) and is refused while
the law still needs the data (an active enrolment or employment, for example).
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from pydantic import Field

from ezurnals.identity.domain.scoped import SchoolScoped
from ezurnals.shared.contracts.identity import (
    IdentityEvent,
    PersonalDataChanged,
    PersonalDataErased,
    PersonRegistered,
)
from ezurnals.shared.domain import Command, Conflict, NotFound


class RegisterPerson(Command):
    sealed: str = Field(min_length=1)


class ChangePersonalData(Command):
    sealed: str = Field(min_length=1)


class Person(SchoolScoped):
    kind = "person"

    def __init__(self, stream_id: str) -> None:
        super().__init__(stream_id)
        self.sealed: str | None = None
        self.erased = False

    def register(self, cmd: RegisterPerson) -> list[IdentityEvent]:
        if self.exists:
            raise Conflict("the person is already registered", field="person_id")
        return [
            PersonRegistered(school_id=self.school_id, person_id=self.entity_id, sealed=cmd.sealed)
        ]

    def change_personal_data(self, cmd: ChangePersonalData) -> list[IdentityEvent]:
        self._require_live()
        if cmd.sealed == self.sealed:
            return []
        return [
            PersonalDataChanged(
                school_id=self.school_id, person_id=self.entity_id, sealed=cmd.sealed
            )
        ]

    def erase(self, now: datetime, retained_for: Collection[str] = ()) -> list[IdentityEvent]:
        """Erase unless a legal reason to keep the data remains (``retained_for`` names them)."""
        self._require_live()
        if retained_for:
            raise Conflict(
                "personal data must be kept for now: " + ", ".join(sorted(retained_for)),
                code="retention_applies",
                details={"retained_for": sorted(retained_for)},
            )
        return [
            PersonalDataErased(school_id=self.school_id, person_id=self.entity_id, erased_at=now)
        ]

    def _require_live(self) -> None:
        if not self.exists:
            raise NotFound("no such person", field="person_id")
        if self.erased:
            raise Conflict("the person's data has been erased", code="erased")

    def when_PersonRegistered(self, event: PersonRegistered) -> None:
        self.sealed = event.sealed

    def when_PersonalDataChanged(self, event: PersonalDataChanged) -> None:
        self.sealed = event.sealed

    def when_PersonalDataErased(self, event: PersonalDataErased) -> None:
        self.sealed = None
        self.erased = True
