"""Importing students and guardians from CSV: every row checked, all or nothing, dry run first."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

from ezurnals.identity import queries
from ezurnals.identity.domain.guardianship import Guardianship, LinkGuardian
from ezurnals.identity.domain.roll import EnrolStudent, SchoolRoll
from ezurnals.identity.domain.school import School
from ezurnals.identity.domain.student_import import StudentImport, parse_students_csv
from ezurnals.identity.handlers import (
    REGISTRATION_ATTEMPTS,
    Change,
    Extra,
    Outcome,
    carry_out,
    load,
)
from ezurnals.identity.handlers.people import PersonalData, new_person
from ezurnals.shared.contracts.identity import IdentityEvent
from ezurnals.shared.domain import NotFound
from ezurnals.shared.eventstore import CommandContext, CommandResult
from ezurnals.shared.service import Runtime


async def check(
    rt: Runtime, school_id: UUID, school_year: str, text: str, today: date
) -> StudentImport:
    """The parsed file, or Invalid (422) listing every bad row by number."""
    school = await load(rt.store, School, School.stream(school_id))
    if not school.exists:
        raise NotFound("no such school", field="school_id")
    school.calendar(school_year)
    classes = {c.label: c for c in school.classes_of(school_year)}
    parsed = parse_students_csv(text, classes, today)
    async with rt.db.raw() as conn:
        registered = await queries.personal_codes(conn, school_id)
    parsed = parsed.refuse_registered(registered)
    parsed.raise_if_invalid()
    return parsed


async def import_students(
    rt: Runtime,
    ctx: CommandContext,
    school_id: UUID,
    school_year: str,
    text: str,
    today: date,
    dry_run: bool,
) -> CommandResult:
    parsed = await check(rt, school_id, school_year, text, today)
    summary: dict[str, Any] = {
        "dry_run": dry_run,
        "students": len(parsed.students),
        "guardians": len(parsed.guardians),
    }
    if dry_run:
        return CommandResult(200, summary)

    async def decide() -> Outcome:
        school = await load(rt.store, School, School.stream(school_id))
        roll = await load(rt.store, SchoolRoll, SchoolRoll.stream(school_id, school_year))
        start = roll.version
        changes: list[Change] = []
        extras: list[Extra] = []
        guardian_ids: list[UUID] = []
        usernames: set[str] = set()
        async with rt.db.raw() as conn:
            for g in parsed.guardians:
                data = PersonalData(
                    first_name=g.first_name, last_name=g.last_name, email=g.email, phone=g.phone
                )
                person = await new_person(conn, school_id, data, reserved=usernames)
                guardian_ids.append(person.person_id)
                changes.append(person.change)
                extras.append(person.extra)
            roll_events: list[IdentityEvent] = []
            for s in parsed.students:
                data = PersonalData(
                    first_name=s.first_name,
                    last_name=s.last_name,
                    personal_code=s.personal_code,
                    birth_date=s.birth_date,
                )
                person = await new_person(conn, school_id, data, reserved=usernames)
                changes.append(person.change)
                extras.append(person.extra)
                cmd = EnrolStudent(
                    student_id=person.person_id, class_id=s.class_id, enrolled_on=today
                )
                events = roll.enrol(cmd, school.class_(s.class_id))
                roll.applied(events)
                roll_events += events
                family = Guardianship.of(school_id, person.person_id)
                links: list[IdentityEvent] = []
                for position in s.guardians:
                    link = LinkGuardian(guardian_id=guardian_ids[position], linked_on=today)
                    linked = family.link(link)
                    family.applied(linked)
                    links += linked
                if links:
                    changes.append(Change(family.stream_id, 0, links))
        changes.append(Change(roll.stream_id, start, roll_events))
        return Outcome(changes, CommandResult(201, summary), extras)

    return await carry_out(rt.store, ctx, decide, attempts=REGISTRATION_ATTEMPTS)
