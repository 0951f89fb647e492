"""Registering a person: a fresh key, their personal data sealed with it, and a username."""

from __future__ import annotations

import re
import unicodedata
import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any
from uuid import UUID

import asyncpg
from pydantic import BaseModel, ConfigDict, Field, field_validator

from ezurnals.identity import vault
from ezurnals.identity.domain.person import Person, RegisterPerson
from ezurnals.identity.domain.personal_code import PersonalCodeError, parse_personal_code
from ezurnals.identity.handlers import Change, Extra
from ezurnals.shared.domain import Invalid

_NAME = Field(min_length=1, max_length=100, pattern=r"^[^\d\x00-\x1f]+$")


class PersonalData(BaseModel):
    """What the personal file (personas lieta) holds; never leaves identity unsealed."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    first_name: str = _NAME
    last_name: str = _NAME
    personal_code: str | None = None
    birth_date: date | None = None
    email: str | None = Field(
        default=None, max_length=254, pattern=r"^[^@\s,;<>]+@[^@\s,;<>]+\.[^@\s,;<>]{2,}$"
    )
    phone: str | None = Field(default=None, max_length=30, pattern=r"^\+?[\d \-()]{7,20}$")
    address: str | None = Field(default=None, max_length=300)

    @field_validator("personal_code")
    @classmethod
    def _code(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            return parse_personal_code(value).value
        except PersonalCodeError as err:
            raise ValueError(str(err)) from None

    def check_birth_date(self) -> None:
        """An old-format personal code carries the birth date; both must agree."""
        if self.personal_code is None or self.birth_date is None:
            return
        carried = parse_personal_code(self.personal_code).birth_date
        if carried is not None and carried != self.birth_date:
            raise Invalid("does not agree with the personal code", field="birth_date")


@dataclass(frozen=True)
class NewPerson:
    person_id: UUID
    username: str
    change: Change
    extra: Extra


def _ascii(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in folded if not unicodedata.combining(c)).lower()
    return re.sub(r"[^a-z0-9]+", "", plain)


async def free_username(conn: asyncpg.Connection, first_name: str, last_name: str) -> str:
    """``janis.berzins``, then ``janis.berzins2`` … (diacritics folded, for any keyboard)."""
    base = f"{_ascii(first_name.split()[0]) or 'x'}.{_ascii(last_name) or 'x'}"
    taken = {
        r["username"]
        for r in await conn.fetch(
            "SELECT username FROM logins WHERE username LIKE $1", base.replace("_", r"\_") + "%"
        )
    }
    if base not in taken:
        return base
    return next(f"{base}{n}" for n in range(2, len(taken) + 3) if f"{base}{n}" not in taken)


async def new_person(
    conn: asyncpg.Connection, school_id: UUID, data: PersonalData, person_id: UUID | None = None
) -> NewPerson:
    data.check_birth_date()
    person_id = person_id or uuid.uuid4()
    username = await free_username(conn, data.first_name, data.last_name)
    key = vault.new_key()
    payload: dict[str, Any] = {**data.model_dump(mode="json"), "username": username}
    sealed = vault.seal(key, person_id, payload)
    person = Person.of(school_id, person_id)
    events = person.register(RegisterPerson(sealed=sealed))

    async def keep(conn: asyncpg.Connection) -> None:
        await vault.store_key(conn, school_id, person_id, key)
        await conn.execute(
            "INSERT INTO logins (username, person_id, school_id) VALUES ($1, $2, $3)",
            username,
            person_id,
            school_id,
        )

    return NewPerson(person_id, username, Change.of(person, events), keep)
