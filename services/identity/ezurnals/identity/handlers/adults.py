"""Adult students: coming of age on the 18th birthday, and their say over guardians' access.

The birth date never leaves identity: it is read from the student's sealed personal file (or
from an old-format personal code), and other services learn only StudentCameOfAge.
"""

from __future__ import annotations

from datetime import date
from uuid import UUID

import asyncpg

from ezurnals.identity import queries
from ezurnals.identity.domain.guardianship import DecideGuardianAccess, Guardianship
from ezurnals.identity.domain.personal_code import PersonalCodeError, parse_personal_code
from ezurnals.identity.handlers import Change, Outcome, carry_out, load
from ezurnals.shared.domain import Conflict, NotFound
from ezurnals.shared.eventstore import CommandContext, CommandResult
from ezurnals.shared.service import Runtime


async def birth_date_of(conn: asyncpg.Connection, person_id: UUID) -> date | None:
    """The recorded birth date, else the one an old-format personal code carries."""
    data = await queries.personal_data(conn, person_id) or {}
    if data.get("birth_date"):
        return date.fromisoformat(data["birth_date"])
    if data.get("personal_code"):
        try:
            return parse_personal_code(data["personal_code"]).birth_date
        except PersonalCodeError:
            return None
    return None


async def come_of_age(
    rt: Runtime, ctx: CommandContext, school_id: UUID, student_id: UUID, today: date
) -> bool:
    """StudentCameOfAge for the student if they are 18 by ``today`` and it was not published
    yet (the guardianship stream remembers); True when it was appended now."""
    appended: list[bool] = []

    async def decide() -> Outcome:
        appended.clear()
        async with rt.db.raw() as conn:
            born = await birth_date_of(conn, student_id)
        family = await load(rt.store, Guardianship, Guardianship.stream(school_id, student_id))
        events = family.come_of_age(born, today) if born is not None else []
        appended.append(bool(events))
        return Outcome([Change.of(family, events)], CommandResult(200, None))

    await carry_out(rt.store, ctx, decide, attempts=3)
    return bool(appended and appended[-1])


async def decide_guardian_access(
    rt: Runtime,
    ctx: CommandContext,
    school_id: UUID,
    student_id: UUID,
    guardian_id: UUID,
    keeps_access: bool,
    today: date,
) -> CommandResult:
    """The adult student (the caller, ``ctx.actor``) decides; the domain checks who and when."""

    async def decide() -> Outcome:
        async with rt.db.raw() as conn:
            await queries.person_school(conn, school_id, student_id)
            born = await birth_date_of(conn, student_id)
        family = await load(rt.store, Guardianship, Guardianship.stream(school_id, student_id))
        if not family.exists:
            raise NotFound("no such student in this school", field="student_id")
        if born is None:
            raise Conflict(
                "the student's birth date is not on file; ask the class teacher to add it",
                code="birth_date_unknown",
            )
        assert ctx.actor.id is not None
        cmd = DecideGuardianAccess(
            guardian_id=guardian_id, keeps_access=keeps_access, decided_on=today
        )
        events = family.decide_guardian_access(cmd, ctx.actor.id, born)
        body = {"guardian_id": str(guardian_id), "keeps_access": keeps_access}
        return Outcome([Change.of(family, events)], CommandResult(200, body))

    return await carry_out(rt.store, ctx, decide)
