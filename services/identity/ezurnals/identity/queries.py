"""Reads of identity's query tables, always within one school, and who may read whose file."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import asyncpg

from ezurnals.identity import vault
from ezurnals.identity.domain.access import (
    ClassTeacherRelation,
    Relationships,
    TeachingRelation,
    may_read_student,
)
from ezurnals.identity.domain.access import Principal as AccessPrincipal
from ezurnals.identity.domain.guardianship import GuardianLink
from ezurnals.shared.auth.principal import ADMINISTRATION, Principal
from ezurnals.shared.auth.revocations import signed_out_since
from ezurnals.shared.contracts.identity import Role
from ezurnals.shared.domain import NotFound, missing, require_seen


async def school_time_zone(conn: asyncpg.Connection, school_id: UUID) -> str:
    tz: str | None = await conn.fetchval(
        "SELECT time_zone FROM schools WHERE school_id = $1", school_id
    )
    if tz is None:
        raise NotFound("no such school", field="school_id")
    return tz


def local_day(now: datetime, time_zone: str) -> date:
    return now.astimezone(ZoneInfo(time_zone)).date()


async def staff_roles(conn: asyncpg.Connection, school_id: UUID, person_id: UUID) -> frozenset[str]:
    """Roles of an active employment at this school (none once it ended)."""
    roles: list[str] | None = await conn.fetchval(
        "SELECT roles FROM staff WHERE person_id = $1 AND school_id = $2 AND ended_on IS NULL",
        person_id,
        school_id,
    )
    return frozenset(roles or ())


async def person_roles(conn: asyncpg.Connection, school_id: UUID, person_id: UUID) -> set[str]:
    """What a token may say the person is: staff roles, and student or guardian where they are."""
    roles = set(await staff_roles(conn, school_id, person_id))
    row = await conn.fetchrow(
        """SELECT (SELECT class_id FROM enrolments WHERE student_id = $1 AND school_id = $2
                   ORDER BY school_year DESC LIMIT 1) IS NOT NULL AS student,
                  EXISTS (SELECT 1 FROM guardians WHERE guardian_id = $1 AND school_id = $2)
                      AS guardian""",
        person_id,
        school_id,
    )
    assert row is not None
    if row["student"]:
        roles.add(Role.STUDENT)
    if row["guardian"]:
        roles.add(Role.GUARDIAN)
    return roles


async def person_school(conn: asyncpg.Connection, school_id: UUID, person_id: UUID) -> None:
    """404 unless the person is registered at this school."""
    found = await conn.fetchval(
        "SELECT 1 FROM people WHERE person_id = $1 AND school_id = $2", person_id, school_id
    )
    if found is None:
        raise missing("person", "person_id")


async def personal_data(conn: asyncpg.Connection, person_id: UUID) -> dict[str, Any] | None:
    """The person's unsealed personal data; None once erased."""
    row = await conn.fetchrow(
        "SELECT p.sealed, k.key FROM people p LEFT JOIN person_keys k USING (person_id) "
        "WHERE p.person_id = $1",
        person_id,
    )
    if row is None or row["sealed"] is None or row["key"] is None:
        return None
    return vault.unseal(row["key"], person_id, row["sealed"])


async def personal_codes(conn: asyncpg.Connection, school_id: UUID) -> dict[str, UUID]:
    """Every personal code the school holds (sealed, so each file is opened), and whose it is."""
    rows = await conn.fetch(
        "SELECT p.person_id, p.sealed, k.key FROM people p JOIN person_keys k USING (person_id) "
        "WHERE p.school_id = $1 AND p.sealed IS NOT NULL",
        school_id,
    )
    codes = {}
    for row in rows:
        code = vault.unseal(row["key"], row["person_id"], row["sealed"]).get("personal_code")
        if code:
            codes[code] = row["person_id"]
    return codes


async def current_class(conn: asyncpg.Connection, student_id: UUID) -> UUID | None:
    """The class of the student's latest school year; None once withdrawn or graduated."""
    class_id: UUID | None = await conn.fetchval(
        "SELECT class_id FROM enrolments WHERE student_id = $1 ORDER BY school_year DESC LIMIT 1",
        student_id,
    )
    return class_id


async def relationships_of_student(
    conn: asyncpg.Connection, principal: Principal, student_id: UUID
) -> Relationships:
    """The slice of the school's relationships that decides who may read this student."""
    school = principal.school_id
    class_id = await current_class(conn, student_id)
    enrolled = await conn.fetchval(
        "SELECT 1 FROM enrolments WHERE student_id = $1 AND school_id = $2", student_id, school
    )
    links = await conn.fetch(
        "SELECT guardian_id, restricted, kept_by_student FROM guardians WHERE student_id = $1",
        student_id,
    )
    teaching = await conn.fetch(
        "SELECT teacher_id, subject_id, valid_from, valid_to FROM teaching WHERE class_id = $1",
        class_id,
    )
    class_teachers = await conn.fetch(
        "SELECT teacher_id, valid_from FROM class_teachers WHERE class_id = $1", class_id
    )
    roles = [Role(r) for r in await staff_roles(conn, school, principal.person_id)]
    return Relationships.build(
        school,
        students={student_id: class_id} if enrolled else {},
        staff={principal.person_id: roles} if roles else {},
        guardians=[
            GuardianLink(r["guardian_id"], student_id, r["restricted"], r["kept_by_student"])
            for r in links
        ],
        teaching=[
            TeachingRelation(
                r["teacher_id"], class_id, r["subject_id"], r["valid_from"], r["valid_to"]
            )
            for r in teaching
            if class_id is not None
        ],
        class_teachers=[
            ClassTeacherRelation(class_id, r["teacher_id"], r["valid_from"])
            for r in class_teachers
            if class_id is not None
        ],
    )


def _access_principal(principal: Principal) -> AccessPrincipal:
    known = {r.value for r in Role}
    return AccessPrincipal(
        principal.person_id,
        principal.school_id,
        frozenset(Role(r) for r in principal.roles if r in known),
    )


async def may_read_person(
    conn: asyncpg.Connection, principal: Principal, person_id: UUID, today: date
) -> bool:
    """Students by the domain's access rules; a guardian's or staff member's file by themself, the
    administration, or (for a guardian) the class teacher of one of their children."""
    await person_school(conn, principal.school_id, person_id)
    if principal.person_id == person_id:
        return True
    held = await staff_roles(conn, principal.school_id, principal.person_id)
    if held & principal.roles & ADMINISTRATION:
        return True
    is_student = await conn.fetchval("SELECT 1 FROM enrolments WHERE student_id = $1", person_id)
    who = _access_principal(principal)
    if is_student:
        rel = await relationships_of_student(conn, principal, person_id)
        return may_read_student(who, person_id, rel, today)
    children = await conn.fetch(
        "SELECT student_id FROM guardians WHERE guardian_id = $1", person_id
    )
    for child in children:
        class_id = await current_class(conn, child["student_id"])
        teacher = await conn.fetchval(
            "SELECT teacher_id FROM class_teachers WHERE class_id = $1 AND valid_from <= $2 "
            "ORDER BY valid_from DESC LIMIT 1",
            class_id,
            today,
        )
        if teacher == principal.person_id and principal.is_staff:
            return True
    return False


async def may_keep_file(
    conn: asyncpg.Connection, principal: Principal, person_id: UUID, today: date
) -> bool:
    """Who keeps a personal file (rule 1): the administration, or the class teacher of the
    student's class (for a guardian: of one of their children's classes)."""
    await person_school(conn, principal.school_id, person_id)
    held = await staff_roles(conn, principal.school_id, principal.person_id)
    if held & principal.roles & ADMINISTRATION:
        return True
    if not held:
        return False
    children = await conn.fetch(
        "SELECT student_id FROM guardians WHERE guardian_id = $1", person_id
    )
    for student in [person_id, *(c["student_id"] for c in children)]:
        class_id = await current_class(conn, student)
        if class_id is not None and await class_teacher_on(conn, class_id, today) == (
            principal.person_id
        ):
            return True
    return False


async def require_readable(
    conn: asyncpg.Connection, principal: Principal, person_id: UUID, today: date
) -> None:
    """Another school's or another family's person is a 404, exactly like a person that is not."""
    require_seen(await may_read_person(conn, principal, person_id, today), "person", "person_id")


async def class_row(conn: asyncpg.Connection, school_id: UUID, class_id: UUID) -> asyncpg.Record:
    row = await conn.fetchrow(
        "SELECT * FROM classes WHERE class_id = $1 AND school_id = $2", class_id, school_id
    )
    if row is None:
        raise missing("class", "class_id")
    return row


async def may_read_class(
    conn: asyncpg.Connection, principal: Principal, class_id: UUID, today: date
) -> bool:
    """The class's students are seen (its teachers, class teacher, the administration): who may
    read every one of them sees the class; anyone else is told there is no such class."""
    await class_row(conn, principal.school_id, class_id)
    held = await staff_roles(conn, principal.school_id, principal.person_id)
    if held & principal.roles & ADMINISTRATION:
        return True
    students = await students_of_class(conn, class_id)
    if not students:  # no student to read: the class's own staff see it, nobody else
        return await _works_with_class(conn, principal.person_id, class_id, today)
    for student in students:
        if not await may_read_person(conn, principal, student, today):
            return False
    return True


async def _works_with_class(
    conn: asyncpg.Connection, person_id: UUID, class_id: UUID, today: date
) -> bool:
    """Class teacher or teacher of the class on ``today``."""
    if await class_teacher_on(conn, class_id, today) == person_id:
        return True
    teaches: bool = await conn.fetchval(
        """SELECT EXISTS (SELECT 1 FROM teaching WHERE class_id = $1 AND teacher_id = $2
           AND valid_from <= $3 AND (valid_to IS NULL OR valid_to >= $3))""",
        class_id,
        person_id,
        today,
    )
    return teaches


async def class_teacher_on(conn: asyncpg.Connection, class_id: UUID, day: date) -> UUID | None:
    teacher: UUID | None = await conn.fetchval(
        "SELECT teacher_id FROM class_teachers WHERE class_id = $1 AND valid_from <= $2 "
        "ORDER BY valid_from DESC LIMIT 1",
        class_id,
        day,
    )
    return teacher


async def students_of_class(conn: asyncpg.Connection, class_id: UUID) -> list[UUID]:
    rows = await conn.fetch(
        "SELECT student_id FROM enrolments WHERE class_id = $1 ORDER BY student_id", class_id
    )
    return [r["student_id"] for r in rows]


async def guardians_of(conn: asyncpg.Connection, student_id: UUID) -> list[asyncpg.Record]:
    return list(
        await conn.fetch(
            "SELECT guardian_id, restricted, kept_by_student FROM guardians WHERE student_id = $1 "
            "ORDER BY guardian_id",
            student_id,
        )
    )


async def username_of(conn: asyncpg.Connection, person_id: UUID) -> str | None:
    name: str | None = await conn.fetchval(
        "SELECT username FROM logins WHERE person_id = $1", person_id
    )
    return name


async def token_revoked(
    conn: asyncpg.Connection, person_id: UUID, session_id: UUID | None, issued_at: float | None
) -> bool:
    """Whether identity's own tables refuse a token of ``person_id``'s: access revoked, the
    session ended, or every session ended since the token was issued."""
    row = await conn.fetchrow(
        """SELECT coalesce(a.revoked, false) AS revoked, a.signed_out_before AS before,
                  EXISTS (SELECT 1 FROM ended_sessions WHERE session_id = $2) AS ended
           FROM (SELECT 1) one LEFT JOIN accounts a ON a.person_id = $1""",
        person_id,
        session_id,
    )
    before = row["before"].timestamp() if row["before"] is not None else None
    return bool(row["revoked"] or row["ended"] or signed_out_since(issued_at, before))


async def is_activated(conn: asyncpg.Connection, person_id: UUID) -> bool:
    return bool(
        await conn.fetchval(
            "SELECT activated_at IS NOT NULL FROM accounts WHERE person_id = $1", person_id
        )
    )


async def families_waiting(conn: asyncpg.Connection, class_id: UUID) -> dict[UUID, list[UUID]]:
    """Per student of the class: the student and those guardians who may see them (not
    restricted, not excluded by the adult student) who have no account yet."""
    families: dict[UUID, list[UUID]] = {}
    for student in await students_of_class(conn, class_id):
        people = [student] + [
            g["guardian_id"]
            for g in await guardians_of(conn, student)
            if not g["restricted"] and g["kept_by_student"] is not False
        ]
        waiting = [
            p
            for p in people
            if not await is_activated(conn, p) and await username_of(conn, p) is not None
        ]
        if waiting:
            families[student] = waiting
    return families


async def class_history(conn: asyncpg.Connection, student_id: UUID) -> list[dict[str, Any]]:
    """The personal file's enrolment history (rule 7): every class the student was in, with the
    days, earlier classes of a move within a year included; class None: left the school."""
    rows = await conn.fetch(
        "SELECT school_year, class_id, since, until FROM class_history WHERE student_id = $1 "
        "ORDER BY school_year, since, position",
        student_id,
    )
    return [
        {
            "school_year": r["school_year"],
            "class_id": str(r["class_id"]) if r["class_id"] else None,
            "since": r["since"].isoformat(),
            "until": r["until"].isoformat() if r["until"] else None,
        }
        for r in rows
    ]
