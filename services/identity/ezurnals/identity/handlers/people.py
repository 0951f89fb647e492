"""Registering a person: a fresh key, their personal data sealed with it, and a username."""

from __future__ import annotations

import re
import unicodedata
import uuid
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any
from uuid import UUID

import asyncpg
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

from ezurnals.identity import queries, vault
from ezurnals.identity.domain.person import ChangePersonalData, Person, RegisterPerson
from ezurnals.identity.domain.personal_code import PersonalCodeError, parse_personal_code
from ezurnals.identity.handlers import Change, Extra, Outcome, carry_out, load
from ezurnals.shared.domain import Conflict, Invalid
from ezurnals.shared.eventstore import CommandContext, CommandResult
from ezurnals.shared.service import Runtime
from ezurnals.shared.text import reason, refused_character


def _letters(value: str) -> str:
    """A name is one line of text (the shared text rule) without digits."""
    character = refused_character(value, one_line=True)
    if character is not None:
        raise ValueError(reason(character))
    if any(c.isdigit() for c in value):
        raise ValueError("a name has no digits")
    return value


Name = Annotated[str, Field(min_length=1, max_length=100), AfterValidator(_letters)]
_EMAIL = r"^[^@\s,;<>]+@[^@\s,;<>]+\.[^@\s,;<>]{2,}$"
_PHONE = r"^\+?[\d \-()]{7,20}$"
#: What a person may change in their own file; the rest is kept by the school (rule 1).
CONTACTS = frozenset({"email", "phone", "address"})


def _normal_code(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        return parse_personal_code(value).value
    except PersonalCodeError as err:
        raise ValueError(str(err)) from None


class _File(BaseModel):
    """The personal file's fields besides the names; every one may be absent."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    personal_code: str | None = None
    birth_date: date | None = None
    email: str | None = Field(default=None, max_length=254, pattern=_EMAIL)
    phone: str | None = Field(default=None, max_length=30, pattern=_PHONE)
    address: str | None = Field(default=None, max_length=300)

    _code = field_validator("personal_code")(_normal_code)


class PersonalData(_File):
    """What the personal file (personas lieta) holds; never leaves identity unsealed."""

    first_name: Name
    last_name: Name

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


async def free_username(
    conn: asyncpg.Connection, first_name: str, last_name: str, reserved: set[str] | None = None
) -> str:
    """``janis.berzins``, then ``janis.berzins2`` … (diacritics folded, for any keyboard).

    ``reserved``: names already chosen by the same command (an import of two Jānis Bērziņš)."""
    base = f"{_ascii(first_name.split()[0]) or 'x'}.{_ascii(last_name) or 'x'}"
    taken = {
        r["username"]
        for r in await conn.fetch(
            "SELECT username FROM logins WHERE username LIKE $1", base.replace("_", r"\_") + "%"
        )
    } | (reserved or set())
    if base not in taken:
        return base
    return next(f"{base}{n}" for n in range(2, len(taken) + 3) if f"{base}{n}" not in taken)


async def new_person(
    conn: asyncpg.Connection,
    school_id: UUID,
    data: PersonalData,
    person_id: UUID | None = None,
    reserved: set[str] | None = None,
) -> NewPerson:
    """``reserved`` collects the usernames a command chooses, so its people never share one."""
    data.check_birth_date()
    person_id = person_id or uuid.uuid4()
    username = await free_username(conn, data.first_name, data.last_name, reserved)
    if reserved is not None:
        reserved.add(username)
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


class PersonalDataChange(_File):
    """The fields to change (given as null: remove); the names cannot be removed."""

    first_name: Name | None = None
    last_name: Name | None = None

    @field_validator("first_name", "last_name")
    @classmethod
    def _named(cls, value: str | None) -> str:
        if value is None:
            raise ValueError("a name cannot be removed")
        return value

    def changes(self) -> dict[str, Any]:
        return self.model_dump(mode="json", include=self.model_fields_set)


async def change_personal_data(
    rt: Runtime, ctx: CommandContext, school_id: UUID, person_id: UUID, change: dict[str, Any]
) -> CommandResult:
    """Reseal the file with the same key; no event when nothing actually changes."""

    async def decide() -> Outcome:
        async with rt.db.raw() as conn:
            await queries.person_school(conn, school_id, person_id)
            key = await vault.key_of(conn, person_id)
            codes = (
                await queries.personal_codes(conn, school_id) if change.get("personal_code") else {}
            )
        person = await load(rt.store, Person, Person.stream(school_id, person_id))
        if person.erased or key is None or person.sealed is None:
            raise Conflict("the person's data has been erased", code="erased")
        current = vault.unseal(key, person_id, person.sealed)
        username = current.pop("username", None)
        owner = codes.get(change.get("personal_code") or "")
        if owner is not None and owner != person_id:
            raise Conflict(
                "a person with this personal code is already registered", field="personal_code"
            )
        merged = PersonalData.model_validate({**current, **change})
        merged.check_birth_date()
        data = merged.model_dump(mode="json")
        changed = sorted(k for k in data if data[k] != current.get(k))
        events = []
        if changed:
            sealed = vault.seal(key, person_id, {**data, "username": username})
            events = person.change_personal_data(ChangePersonalData(sealed=sealed))
        body = {"person_id": str(person_id), "changed": changed}
        return Outcome([Change.of(person, events)], CommandResult(200, body))

    return await carry_out(rt.store, ctx, decide, attempts=3)
