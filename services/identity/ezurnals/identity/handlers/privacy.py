"""Data-subject rights (rule 10): export everything held about a person; erase where allowed."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from ezurnals.identity import access_log, queries
from ezurnals.identity.domain.account import Account
from ezurnals.identity.domain.person import Person
from ezurnals.identity.handlers import Change, Outcome, carry_out, load
from ezurnals.shared.contracts.base import registry
from ezurnals.shared.contracts.identity import RevocationReason
from ezurnals.shared.eventstore import CommandContext, CommandResult
from ezurnals.shared.service import Runtime


def _plain(row: Any) -> dict[str, Any]:
    return {
        k: (str(v) if isinstance(v, UUID) else v.isoformat() if hasattr(v, "isoformat") else v)
        for k, v in dict(row).items()
    }


async def export(rt: Runtime, school_id: UUID, person_id: UUID) -> dict[str, Any]:
    """Everything identity holds about the person, secrets (hashes, keys) excepted."""
    pid = str(person_id)
    async with rt.db.raw() as conn:
        await queries.person_school(conn, school_id, person_id)
        person = await conn.fetchrow(
            "SELECT registered_at, erased_at FROM people WHERE person_id = $1", person_id
        )
        data = await queries.personal_data(conn, person_id)
        staff = await conn.fetchrow(
            "SELECT roles, hired_on, ended_on FROM staff WHERE person_id = $1", person_id
        )
        enrolments = await queries.class_history(conn, person_id)
        guardians = await conn.fetch(
            "SELECT student_id, guardian_id, restricted, kept_by_student FROM guardians "
            "WHERE student_id = $1 OR guardian_id = $1",
            person_id,
        )
        teaching = await conn.fetch(
            "SELECT assignment_id, class_id, subject_id, valid_from, valid_to, substitute "
            "FROM teaching WHERE teacher_id = $1",
            person_id,
        )
        account = await conn.fetchrow(
            "SELECT activated_at, password_set_at, revoked FROM accounts WHERE person_id = $1",
            person_id,
        )
        events = await conn.fetch(
            """SELECT event_type, schema_version, stream_id, occurred_at, payload FROM events
               WHERE school_id = $1 AND event_type <> ALL($3::text[]) AND (
                   payload->>'person_id' = $2 OR payload->>'student_id' = $2
                   OR payload->>'guardian_id' = $2 OR payload->>'teacher_id' = $2)
               ORDER BY tx_id, position""",
            school_id,
            pid,
            registry.unpublished(),
        )
    assert person is not None
    return {
        "person_id": pid,
        "school_id": str(school_id),
        "registered_at": person["registered_at"].isoformat(),
        "erased_at": person["erased_at"].isoformat() if person["erased_at"] else None,
        "personal_data": data,
        "employment": _plain(staff) if staff else None,
        "enrolments": enrolments,
        "guardianship": [_plain(r) for r in guardians],
        "teaching": [_plain(r) for r in teaching],
        "account": _plain(account) if account else None,
        "events": [
            {
                "event_type": e["event_type"],
                "schema_version": e["schema_version"],
                "stream_id": e["stream_id"],
                "occurred_at": e["occurred_at"].isoformat(),
                "payload": e["payload"],
            }
            for e in events
        ],
        "accessed_by": await access_log.accesses(rt, school_id, subject_ids=[person_id]),
    }


async def _retained_for(rt: Runtime, school_id: UUID, person_id: UUID) -> list[str]:
    """Legal reasons to keep the data now: a current enrolment, employment or family tie."""
    reasons = []
    async with rt.db.raw() as conn:
        if await queries.current_class(conn, person_id) is not None:
            reasons.append("enrolment")
        if await queries.staff_roles(conn, school_id, person_id):
            reasons.append("employment")
        if await conn.fetchval(
            "SELECT 1 FROM guardians g CROSS JOIN LATERAL (SELECT class_id FROM enrolments e "
            "WHERE e.student_id = g.student_id ORDER BY school_year DESC LIMIT 1) now "
            "WHERE g.guardian_id = $1 AND now.class_id IS NOT NULL",
            person_id,
        ):
            reasons.append("guardian of an enrolled student")
    return reasons


async def erase(
    rt: Runtime, ctx: CommandContext, school_id: UUID, person_id: UUID, now: datetime
) -> CommandResult:
    """Shred the person's key (the query tables follow PersonalDataErased) and revoke access."""

    async def decide() -> Outcome:
        async with rt.db.raw() as conn:
            await queries.person_school(conn, school_id, person_id)
        person = await load(rt.store, Person, Person.stream(school_id, person_id))
        erased = person.erase(now, await _retained_for(rt, school_id, person_id))
        account = await load(rt.store, Account, Account.stream(school_id, person_id))
        revoked = account.revoke_access(RevocationReason.PERSONAL_DATA_ERASED, now)
        body = {"person_id": str(person_id), "erased_at": now.isoformat()}
        return Outcome(
            [Change.of(person, erased), Change.of(account, revoked)], CommandResult(200, body)
        )

    return await carry_out(rt.store, ctx, decide)
