"""Identity's query tables, updated in the same transaction as the events (read-your-writes).

Every table here can be rebuilt by replaying identity's own events through ``apply``; the
secrets kept beside them (person keys, logins, refresh tokens) are written by the handlers.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import date
from uuid import UUID

import asyncpg

from ezurnals.shared.contracts.base import EventEnvelope, IntegrationEvent
from ezurnals.shared.contracts.identity import (
    AccessCodeIssued,
    AccessRestored,
    AccessRevoked,
    AccountActivated,
    ClassOpened,
    ClassTeacherAssigned,
    EmploymentEnded,
    GuardianAccessDecided,
    GuardianLinked,
    GuardianshipRestricted,
    GuardianshipUnrestricted,
    GuardianUnlinked,
    PasswordHashStored,
    PersonalDataChanged,
    PersonalDataErased,
    PersonRegistered,
    SchoolRegistered,
    SchoolYearDefined,
    SessionRevoked,
    StaffMemberHired,
    StaffRolesChanged,
    StudentCameOfAge,
    StudentEnrolled,
    StudentMoved,
    StudentsPromoted,
    StudentWithdrawn,
    TeachingAssigned,
    TeachingUnassigned,
)

Apply = Callable[[asyncpg.Connection, EventEnvelope, IntegrationEvent], Awaitable[None]]
_APPLIERS: dict[str, Apply] = {}


def _on(event_type: type[IntegrationEvent]) -> Callable[[Apply], Apply]:
    def register(fn: Apply) -> Apply:
        _APPLIERS[event_type.event_type] = fn
        return fn

    return register


async def apply(conn: asyncpg.Connection, envelopes: Sequence[EventEnvelope]) -> None:
    for envelope in envelopes:
        fn = _APPLIERS.get(envelope.event_type)
        if fn is not None:
            await fn(conn, envelope, envelope.parse())


@_on(SchoolRegistered)
async def _school(conn: asyncpg.Connection, _: EventEnvelope, e: IntegrationEvent) -> None:
    assert isinstance(e, SchoolRegistered)
    await conn.execute(
        "INSERT INTO schools (school_id, name, time_zone) VALUES ($1, $2, $3)",
        e.school_id,
        e.name,
        e.time_zone,
    )


@_on(SchoolYearDefined)
async def _year(conn: asyncpg.Connection, _: EventEnvelope, e: IntegrationEvent) -> None:
    assert isinstance(e, SchoolYearDefined)
    last = max([e.semesters[-1].last_day, *(g.last_day for g in e.grade_end_dates)])
    await conn.execute(
        "INSERT INTO school_years VALUES ($1, $2, $3, $4)",
        e.school_id,
        e.school_year,
        e.semesters[0].first_day,
        last,
    )


@_on(ClassOpened)
async def _class(conn: asyncpg.Connection, _: EventEnvelope, e: IntegrationEvent) -> None:
    assert isinstance(e, ClassOpened)
    await conn.execute(
        "INSERT INTO classes VALUES ($1, $2, $3, $4, $5)",
        e.class_id,
        e.school_id,
        e.school_year,
        e.grade_level,
        e.label,
    )


@_on(PersonRegistered)
async def _person(conn: asyncpg.Connection, env: EventEnvelope, e: IntegrationEvent) -> None:
    assert isinstance(e, PersonRegistered)
    await conn.execute(
        "INSERT INTO people (person_id, school_id, sealed, registered_at) VALUES ($1, $2, $3, $4)",
        e.person_id,
        e.school_id,
        e.sealed,
        env.occurred_at,
    )


@_on(PersonalDataChanged)
async def _changed(conn: asyncpg.Connection, _: EventEnvelope, e: IntegrationEvent) -> None:
    assert isinstance(e, PersonalDataChanged)
    await conn.execute("UPDATE people SET sealed = $2 WHERE person_id = $1", e.person_id, e.sealed)


@_on(PersonalDataErased)
async def _erased(conn: asyncpg.Connection, _: EventEnvelope, e: IntegrationEvent) -> None:
    assert isinstance(e, PersonalDataErased)
    await conn.execute(
        "UPDATE people SET sealed = NULL, erased_at = $2 WHERE person_id = $1",
        e.person_id,
        e.erased_at,
    )
    await conn.execute("DELETE FROM logins WHERE person_id = $1", e.person_id)
    await conn.execute("DELETE FROM person_keys WHERE person_id = $1", e.person_id)


@_on(StaffMemberHired)
async def _hired(conn: asyncpg.Connection, _: EventEnvelope, e: IntegrationEvent) -> None:
    assert isinstance(e, StaffMemberHired)
    await conn.execute(
        """INSERT INTO staff VALUES ($1, $2, $3, $4, NULL) ON CONFLICT (person_id)
           DO UPDATE SET roles = excluded.roles, hired_on = excluded.hired_on, ended_on = NULL""",
        e.person_id,
        e.school_id,
        [str(r) for r in e.roles],
        e.hired_on,
    )


@_on(StaffRolesChanged)
async def _roles(conn: asyncpg.Connection, _: EventEnvelope, e: IntegrationEvent) -> None:
    assert isinstance(e, StaffRolesChanged)
    await conn.execute(
        "UPDATE staff SET roles = $2 WHERE person_id = $1", e.person_id, [str(r) for r in e.roles]
    )


@_on(EmploymentEnded)
async def _ended(conn: asyncpg.Connection, _: EventEnvelope, e: IntegrationEvent) -> None:
    assert isinstance(e, EmploymentEnded)
    await conn.execute(
        "UPDATE staff SET ended_on = $2 WHERE person_id = $1", e.person_id, e.ended_on
    )


async def _into_class(
    conn: asyncpg.Connection,
    school_id: UUID,
    student_id: UUID,
    school_year: str,
    class_id: UUID | None,
    on: date,
) -> None:
    """The personal file's history: the class the student was in this year ends ``on`` and the
    next one (None: left the school) begins."""
    await conn.execute(
        "UPDATE class_history SET until = $3 "
        "WHERE student_id = $1 AND school_year = $2 AND until IS NULL",
        student_id,
        school_year,
        on,
    )
    await conn.execute(
        "INSERT INTO class_history (student_id, school_year, school_id, class_id, since) "
        "VALUES ($1, $2, $3, $4, $5)",
        student_id,
        school_year,
        school_id,
        class_id,
        on,
    )


@_on(StudentEnrolled)
async def _enrolled(conn: asyncpg.Connection, _: EventEnvelope, e: IntegrationEvent) -> None:
    assert isinstance(e, StudentEnrolled)
    await _into_class(conn, e.school_id, e.student_id, e.school_year, e.class_id, e.enrolled_on)
    await conn.execute(
        """INSERT INTO enrolments VALUES ($1, $2, $3, $4, $5) ON CONFLICT (student_id, school_year)
           DO UPDATE SET class_id = excluded.class_id, since = excluded.since""",
        e.student_id,
        e.school_year,
        e.school_id,
        e.class_id,
        e.enrolled_on,
    )


@_on(StudentMoved)
async def _moved(conn: asyncpg.Connection, _: EventEnvelope, e: IntegrationEvent) -> None:
    assert isinstance(e, StudentMoved)
    await _into_class(conn, e.school_id, e.student_id, e.school_year, e.to_class_id, e.moved_on)
    await conn.execute(
        "UPDATE enrolments SET class_id = $3, since = $4 "
        "WHERE student_id = $1 AND school_year = $2",
        e.student_id,
        e.school_year,
        e.to_class_id,
        e.moved_on,
    )


@_on(StudentWithdrawn)
async def _withdrawn(conn: asyncpg.Connection, _: EventEnvelope, e: IntegrationEvent) -> None:
    assert isinstance(e, StudentWithdrawn)
    await _into_class(conn, e.school_id, e.student_id, e.school_year, None, e.withdrawn_on)
    await conn.execute(
        "UPDATE enrolments SET class_id = NULL, since = $3 "
        "WHERE student_id = $1 AND school_year = $2",
        e.student_id,
        e.school_year,
        e.withdrawn_on,
    )


@_on(StudentsPromoted)
async def _promoted(conn: asyncpg.Connection, _: EventEnvelope, e: IntegrationEvent) -> None:
    """Graduates get a new-year row without a class: their latest row says they left."""
    assert isinstance(e, StudentsPromoted)
    for p in e.promotions:
        await _into_class(conn, e.school_id, p.student_id, e.to_year, p.to_class_id, e.promoted_on)
    await conn.executemany(
        "INSERT INTO enrolments VALUES ($1, $2, $3, $4, $5)",
        [
            (p.student_id, e.to_year, e.school_id, p.to_class_id, e.promoted_on)
            for p in e.promotions
        ],
    )


@_on(GuardianLinked)
async def _linked(conn: asyncpg.Connection, _: EventEnvelope, e: IntegrationEvent) -> None:
    assert isinstance(e, GuardianLinked)
    await conn.execute(
        "INSERT INTO guardians VALUES ($1, $2, $3, $4, NULL)",
        e.student_id,
        e.guardian_id,
        e.school_id,
        e.restricted,
    )


@_on(GuardianUnlinked)
async def _unlinked(conn: asyncpg.Connection, _: EventEnvelope, e: IntegrationEvent) -> None:
    assert isinstance(e, GuardianUnlinked)
    await conn.execute(
        "DELETE FROM guardians WHERE student_id = $1 AND guardian_id = $2",
        e.student_id,
        e.guardian_id,
    )


async def _restriction(conn: asyncpg.Connection, e: IntegrationEvent, restricted: bool) -> None:
    assert isinstance(e, GuardianshipRestricted | GuardianshipUnrestricted)
    await conn.execute(
        "UPDATE guardians SET restricted = $3 WHERE student_id = $1 AND guardian_id = $2",
        e.student_id,
        e.guardian_id,
        restricted,
    )


@_on(GuardianshipRestricted)
async def _restricted(conn: asyncpg.Connection, _: EventEnvelope, e: IntegrationEvent) -> None:
    await _restriction(conn, e, True)


@_on(GuardianshipUnrestricted)
async def _unrestricted(conn: asyncpg.Connection, _: EventEnvelope, e: IntegrationEvent) -> None:
    await _restriction(conn, e, False)


@_on(GuardianAccessDecided)
async def _decided(conn: asyncpg.Connection, _: EventEnvelope, e: IntegrationEvent) -> None:
    assert isinstance(e, GuardianAccessDecided)
    await conn.execute(
        "UPDATE guardians SET kept_by_student = $3 WHERE student_id = $1 AND guardian_id = $2",
        e.student_id,
        e.guardian_id,
        e.keeps_access,
    )


@_on(StudentCameOfAge)
async def _adult(conn: asyncpg.Connection, _: EventEnvelope, e: IntegrationEvent) -> None:
    assert isinstance(e, StudentCameOfAge)
    await conn.execute(
        "INSERT INTO came_of_age VALUES ($1, $2, $3) ON CONFLICT (student_id) DO NOTHING",
        e.student_id,
        e.school_id,
        e.on,
    )


@_on(ClassTeacherAssigned)
async def _class_teacher(conn: asyncpg.Connection, _: EventEnvelope, e: IntegrationEvent) -> None:
    assert isinstance(e, ClassTeacherAssigned)
    await conn.execute(
        "INSERT INTO class_teachers VALUES ($1, $2, $3, $4)",
        e.class_id,
        e.valid_from,
        e.school_id,
        e.teacher_id,
    )


@_on(TeachingAssigned)
async def _teaching(conn: asyncpg.Connection, _: EventEnvelope, e: IntegrationEvent) -> None:
    assert isinstance(e, TeachingAssigned)
    await conn.execute(
        "INSERT INTO teaching VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        e.assignment_id,
        e.school_id,
        e.class_id,
        e.teacher_id,
        e.subject_id,
        e.valid_from,
        e.valid_to,
        e.substitute,
    )


@_on(TeachingUnassigned)
async def _unassigned(conn: asyncpg.Connection, _: EventEnvelope, e: IntegrationEvent) -> None:
    assert isinstance(e, TeachingUnassigned)
    await conn.execute(
        "UPDATE teaching SET valid_to = $2 WHERE assignment_id = $1", e.assignment_id, e.last_day
    )


@_on(AccessCodeIssued)
async def _code(conn: asyncpg.Connection, _: EventEnvelope, e: IntegrationEvent) -> None:
    assert isinstance(e, AccessCodeIssued)
    await conn.execute("DELETE FROM access_codes WHERE person_id = $1", e.person_id)
    await conn.execute(
        "INSERT INTO access_codes VALUES ($1, $2, $3, $4)",
        e.code_hash,
        e.person_id,
        e.school_id,
        e.expires_at,
    )


@_on(AccountActivated)
async def _activated(conn: asyncpg.Connection, _: EventEnvelope, e: IntegrationEvent) -> None:
    assert isinstance(e, AccountActivated)
    await conn.execute("DELETE FROM access_codes WHERE person_id = $1", e.person_id)
    await conn.execute(
        """INSERT INTO accounts (person_id, school_id, activated_at) VALUES ($1, $2, $3)
           ON CONFLICT (person_id) DO UPDATE SET activated_at = excluded.activated_at""",
        e.person_id,
        e.school_id,
        e.activated_at,
    )


@_on(PasswordHashStored)
async def _password(conn: asyncpg.Connection, _: EventEnvelope, e: IntegrationEvent) -> None:
    assert isinstance(e, PasswordHashStored)
    await conn.execute(
        "UPDATE accounts SET password_set_at = $2 WHERE person_id = $1", e.person_id, e.stored_at
    )


@_on(AccessRevoked)
async def _revoked(conn: asyncpg.Connection, env: EventEnvelope, e: IntegrationEvent) -> None:
    assert isinstance(e, AccessRevoked)
    await conn.execute("DELETE FROM access_codes WHERE person_id = $1", e.person_id)
    await conn.execute(
        """INSERT INTO accounts (person_id, school_id, revoked) VALUES ($1, $2, true)
           ON CONFLICT (person_id) DO UPDATE SET revoked = true""",
        e.person_id,
        e.school_id,
    )
    await conn.execute(
        "UPDATE refresh_tokens SET revoked_at = $2 WHERE person_id = $1 AND revoked_at IS NULL",
        e.person_id,
        env.occurred_at,
    )


@_on(AccessRestored)
async def _restored(conn: asyncpg.Connection, _: EventEnvelope, e: IntegrationEvent) -> None:
    assert isinstance(e, AccessRestored)
    await conn.execute("UPDATE accounts SET revoked = false WHERE person_id = $1", e.person_id)


@_on(SessionRevoked)
async def _session(conn: asyncpg.Connection, env: EventEnvelope, e: IntegrationEvent) -> None:
    assert isinstance(e, SessionRevoked)
    if e.session_id is not None:
        await conn.execute(
            "INSERT INTO ended_sessions VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
            e.session_id,
            e.person_id,
            e.revoked_at,
        )
    else:
        await conn.execute(
            """UPDATE accounts SET signed_out_before = greatest(signed_out_before, $2)
               WHERE person_id = $1""",
            e.person_id,
            e.revoked_at,
        )
    await conn.execute(
        """UPDATE refresh_tokens SET revoked_at = $3
           WHERE person_id = $1 AND ($2::uuid IS NULL OR session_id = $2) AND revoked_at IS NULL""",
        e.person_id,
        e.session_id,
        env.occurred_at,
    )
