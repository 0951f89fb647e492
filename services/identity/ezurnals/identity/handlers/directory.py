"""The school directory: the school and its calendar, classes, staff, students and families."""

from __future__ import annotations

import uuid
from datetime import date
from uuid import UUID

from ezurnals.identity import credentials, queries
from ezurnals.identity.domain.account import Account, IssueAccessCode
from ezurnals.identity.domain.employment import (
    ChangeStaffRoles,
    Employment,
    EndEmployment,
    HireStaffMember,
)
from ezurnals.identity.domain.guardianship import (
    Guardianship,
    LinkGuardian,
    RestrictGuardianship,
    UnlinkGuardian,
    UnrestrictGuardianship,
)
from ezurnals.identity.domain.person import Person
from ezurnals.identity.domain.roll import (
    EnrolStudent,
    MoveStudent,
    PromoteStudents,
    SchoolRoll,
    WithdrawStudent,
)
from ezurnals.identity.domain.school import (
    ChangePasswordPolicy,
    DefineSchoolYear,
    OpenClass,
    RegisterSchool,
    School,
    next_school_year,
    seed_password_policies,
)
from ezurnals.identity.domain.staffing import (
    AssignClassTeacher,
    AssignTeaching,
    ClassStaffing,
    UnassignTeaching,
)
from ezurnals.identity.handlers import REGISTRATION_ATTEMPTS, Change, Outcome, carry_out, load
from ezurnals.identity.handlers.people import PersonalData, new_person
from ezurnals.shared.contracts.identity import RevocationReason, Role
from ezurnals.shared.domain import Conflict, NotFound
from ezurnals.shared.eventstore import CommandContext, CommandResult
from ezurnals.shared.service import Runtime


async def register_school(
    rt: Runtime, ctx: CommandContext, cmd: RegisterSchool, admin: PersonalData, hired_on: date
) -> CommandResult:
    """A new school with its first administrator, who gets an activation code to sign in."""
    code = credentials.new_access_code()

    async def decide() -> Outcome:
        school = await load(rt.store, School, School.stream(cmd.school_id))
        registered = [*school.register(cmd), *seed_password_policies(cmd.school_id)]
        async with rt.db.raw() as conn:
            person = await new_person(conn, cmd.school_id, admin)
        employment = Employment.of(cmd.school_id, person.person_id)
        account = Account.of(cmd.school_id, person.person_id)
        hired = employment.hire(HireStaffMember(roles=(Role.ADMIN,), hired_on=hired_on))
        issued = account.issue_access_code(
            IssueAccessCode(code_id=uuid.uuid4(), code_hash=credentials.code_digest(code)), ctx.now
        )
        return Outcome(
            [
                Change.of(school, registered),
                person.change,
                Change.of(employment, hired),
                Change.of(account, issued),
            ],
            CommandResult(
                201,
                {
                    "school_id": str(cmd.school_id),
                    "admin": {
                        "person_id": str(person.person_id),
                        "username": person.username,
                        "access_code": code,
                        "expires_at": issued[0].model_dump(mode="json")["expires_at"],
                    },
                },
            ),
            [person.extra],
        )

    return await carry_out(rt.store, ctx, decide)


async def _school(rt: Runtime, school_id: UUID) -> School:
    school = await load(rt.store, School, School.stream(school_id))
    if not school.exists:
        raise NotFound("no such school", field="school_id")
    return school


async def define_school_year(
    rt: Runtime, ctx: CommandContext, school_id: UUID, cmd: DefineSchoolYear
) -> CommandResult:
    async def decide() -> Outcome:
        school = await _school(rt, school_id)
        events = school.define_school_year(cmd)
        return Outcome(
            [Change.of(school, events)], CommandResult(201, {"school_year": cmd.school_year})
        )

    return await carry_out(rt.store, ctx, decide)


async def open_class(
    rt: Runtime, ctx: CommandContext, school_id: UUID, cmd: OpenClass
) -> CommandResult:
    async def decide() -> Outcome:
        school = await _school(rt, school_id)
        events = school.open_class(cmd)
        label = events[0].model_dump()["label"]
        body = {"class_id": str(cmd.class_id), "label": label, "school_year": cmd.school_year}
        return Outcome([Change.of(school, events)], CommandResult(201, body))

    return await carry_out(rt.store, ctx, decide)


async def change_password_policy(
    rt: Runtime, ctx: CommandContext, school_id: UUID, cmd: ChangePasswordPolicy, today: date
) -> CommandResult:
    async def decide() -> Outcome:
        school = await _school(rt, school_id)
        events = school.change_password_policy(cmd, today)
        body = {"role": str(cmd.role), "effective_from": cmd.effective_from.isoformat()}
        return Outcome([Change.of(school, events)], CommandResult(201, body))

    return await carry_out(rt.store, ctx, decide)


async def hire_staff(
    rt: Runtime, ctx: CommandContext, school_id: UUID, data: PersonalData, cmd: HireStaffMember
) -> CommandResult:
    async def decide() -> Outcome:
        async with rt.db.raw() as conn:
            person = await new_person(conn, school_id, data)
        employment = Employment.of(school_id, person.person_id)
        hired = employment.hire(cmd)
        body = {"person_id": str(person.person_id), "username": person.username}
        return Outcome(
            [person.change, Change.of(employment, hired)], CommandResult(201, body), [person.extra]
        )

    return await carry_out(rt.store, ctx, decide, attempts=REGISTRATION_ATTEMPTS)


async def _employment(rt: Runtime, school_id: UUID, person_id: UUID) -> Employment:
    return await load(rt.store, Employment, Employment.stream(school_id, person_id))


async def change_staff_roles(
    rt: Runtime, ctx: CommandContext, school_id: UUID, person_id: UUID, cmd: ChangeStaffRoles
) -> CommandResult:
    async def decide() -> Outcome:
        employment = await _employment(rt, school_id, person_id)
        events = employment.change_roles(cmd)
        body = {"person_id": str(person_id), "roles": sorted(str(r) for r in cmd.roles)}
        return Outcome([Change.of(employment, events)], CommandResult(200, body))

    return await carry_out(rt.store, ctx, decide)


async def end_employment(
    rt: Runtime,
    ctx: CommandContext,
    school_id: UUID,
    person_id: UUID,
    cmd: EndEmployment,
    today: date,
) -> CommandResult:
    """Ending employment revokes access in the same transaction (rule 10)."""

    async def decide() -> Outcome:
        employment = await _employment(rt, school_id, person_id)
        ended = employment.end(cmd, today)
        account = await load(rt.store, Account, Account.stream(school_id, person_id))
        revoked = account.revoke_access(RevocationReason.EMPLOYMENT_ENDED, ctx.now)
        body = {"person_id": str(person_id), "ended_on": cmd.ended_on.isoformat()}
        return Outcome(
            [Change.of(employment, ended), Change.of(account, revoked)], CommandResult(200, body)
        )

    return await carry_out(rt.store, ctx, decide)


async def rehire_staff(
    rt: Runtime, ctx: CommandContext, school_id: UUID, person_id: UUID, cmd: HireStaffMember
) -> CommandResult:
    """Someone who worked here before comes back: hired again, and their access restored."""

    async def decide() -> Outcome:
        async with rt.db.raw() as conn:
            await queries.person_school(conn, school_id, person_id)
        person = await load(rt.store, Person, Person.stream(school_id, person_id))
        if person.erased:
            raise Conflict("the person's data has been erased; register them anew", code="erased")
        employment = await _employment(rt, school_id, person_id)
        hired = employment.hire(cmd)
        account = await load(rt.store, Account, Account.stream(school_id, person_id))
        restored = account.restore_access(ctx.now)
        body = {"person_id": str(person_id), "roles": sorted(str(r) for r in cmd.roles)}
        return Outcome(
            [Change.of(employment, hired), Change.of(account, restored)], CommandResult(200, body)
        )

    return await carry_out(rt.store, ctx, decide)


async def _roll_and_class(
    rt: Runtime, school_id: UUID, class_id: UUID
) -> tuple[SchoolRoll, School]:
    school = await _school(rt, school_id)
    klass = school.class_(class_id)
    roll = await load(rt.store, SchoolRoll, SchoolRoll.stream(school_id, klass.school_year))
    return roll, school


async def enrol_new_student(
    rt: Runtime,
    ctx: CommandContext,
    school_id: UUID,
    data: PersonalData,
    class_id: UUID,
    enrolled_on: date,
) -> CommandResult:
    async def decide() -> Outcome:
        roll, school = await _roll_and_class(rt, school_id, class_id)
        async with rt.db.raw() as conn:
            if data.personal_code and data.personal_code in await queries.personal_codes(
                conn, school_id
            ):
                raise Conflict(
                    "a person with this personal code is already registered",
                    field="person.personal_code",
                )
            person = await new_person(conn, school_id, data)
        cmd = EnrolStudent(student_id=person.person_id, class_id=class_id, enrolled_on=enrolled_on)
        enrolled = roll.enrol(cmd, school.class_(class_id))
        body = {"person_id": str(person.person_id), "username": person.username}
        return Outcome(
            [person.change, Change.of(roll, enrolled)], CommandResult(201, body), [person.extra]
        )

    return await carry_out(rt.store, ctx, decide, attempts=REGISTRATION_ATTEMPTS)


async def _current_roll(rt: Runtime, school_id: UUID, student_id: UUID) -> SchoolRoll:
    async with rt.db.raw() as conn:
        row = await conn.fetchrow(
            "SELECT school_year, class_id FROM enrolments WHERE student_id = $1 "
            "AND school_id = $2 ORDER BY school_year DESC LIMIT 1",
            student_id,
            school_id,
        )
    if row is None or row["class_id"] is None:
        raise NotFound("the student is not enrolled", field="student_id")
    return await load(rt.store, SchoolRoll, SchoolRoll.stream(school_id, row["school_year"]))


async def move_student(
    rt: Runtime, ctx: CommandContext, school_id: UUID, cmd: MoveStudent
) -> CommandResult:
    async def decide() -> Outcome:
        roll = await _current_roll(rt, school_id, cmd.student_id)
        school = await _school(rt, school_id)
        events = roll.move(cmd, school.class_(cmd.to_class_id))
        body = {"student_id": str(cmd.student_id), "class_id": str(cmd.to_class_id)}
        return Outcome([Change.of(roll, events)], CommandResult(200, body))

    return await carry_out(rt.store, ctx, decide)


async def withdraw_student(
    rt: Runtime, ctx: CommandContext, school_id: UUID, cmd: WithdrawStudent
) -> CommandResult:
    async def decide() -> Outcome:
        roll = await _current_roll(rt, school_id, cmd.student_id)
        events = roll.withdraw(cmd)
        body = {"student_id": str(cmd.student_id), "withdrawn_on": cmd.withdrawn_on.isoformat()}
        return Outcome([Change.of(roll, events)], CommandResult(200, body))

    return await carry_out(rt.store, ctx, decide)


async def promote_students(
    rt: Runtime, ctx: CommandContext, school_id: UUID, from_year: str, cmd: PromoteStudents
) -> CommandResult:
    """The year-end promotion: everyone enrolled at the end of ``from_year`` moves up a grade
    (or stays, or graduates) into the next year's roll, in one event."""

    async def decide() -> Outcome:
        school = await _school(rt, school_id)
        to_year = next_school_year(from_year)
        previous = await load(rt.store, SchoolRoll, SchoolRoll.stream(school_id, from_year))
        roll = await load(rt.store, SchoolRoll, SchoolRoll.stream(school_id, to_year))
        events = roll.promote(cmd, previous, school.classes)
        promoted = events[0].model_dump()["promotions"]
        body = {
            "from_year": from_year,
            "to_year": to_year,
            "promoted": sum(1 for p in promoted if p["to_class_id"] is not None),
            "graduated": sum(1 for p in promoted if p["to_class_id"] is None),
        }
        return Outcome([Change.of(roll, events)], CommandResult(201, body))

    return await carry_out(rt.store, ctx, decide)


async def _require_student(rt: Runtime, school_id: UUID, student_id: UUID) -> None:
    async with rt.db.raw() as conn:
        found = await conn.fetchval(
            "SELECT 1 FROM enrolments WHERE student_id = $1 AND school_id = $2",
            student_id,
            school_id,
        )
    if found is None:
        raise NotFound("no such student in this school", field="student_id")


async def link_guardian(
    rt: Runtime,
    ctx: CommandContext,
    school_id: UUID,
    student_id: UUID,
    guardian: UUID | PersonalData,
    linked_on: date,
    restricted: bool,
) -> CommandResult:
    """Link a known guardian (another child's, say) or register a new one and link them."""

    async def decide() -> Outcome:
        await _require_student(rt, school_id, student_id)
        changes: list[Change] = []
        extras = []
        username: str | None
        if isinstance(guardian, PersonalData):
            async with rt.db.raw() as conn:
                person = await new_person(conn, school_id, guardian)
            guardian_id, username = person.person_id, person.username
            changes.append(person.change)
            extras.append(person.extra)
        else:
            async with rt.db.raw() as conn:
                await queries.person_school(conn, school_id, guardian)
                username = await queries.username_of(conn, guardian)
            guardian_id = guardian
        family = await load(rt.store, Guardianship, Guardianship.stream(school_id, student_id))
        linked = family.link(
            LinkGuardian(guardian_id=guardian_id, linked_on=linked_on, restricted=restricted)
        )
        changes.append(Change.of(family, linked))
        body = {"guardian_id": str(guardian_id), "username": username, "restricted": restricted}
        return Outcome(changes, CommandResult(201, body), extras)

    return await carry_out(rt.store, ctx, decide, attempts=REGISTRATION_ATTEMPTS)


async def unlink_guardian(
    rt: Runtime,
    ctx: CommandContext,
    school_id: UUID,
    student_id: UUID,
    guardian_id: UUID,
    unlinked_on: date,
) -> CommandResult:
    async def decide() -> Outcome:
        await _require_student(rt, school_id, student_id)
        family = await load(rt.store, Guardianship, Guardianship.stream(school_id, student_id))
        events = family.unlink(UnlinkGuardian(guardian_id=guardian_id, unlinked_on=unlinked_on))
        body = {"guardian_id": str(guardian_id), "unlinked_on": unlinked_on.isoformat()}
        return Outcome([Change.of(family, events)], CommandResult(200, body))

    return await carry_out(rt.store, ctx, decide)


async def set_restriction(
    rt: Runtime,
    ctx: CommandContext,
    school_id: UUID,
    student_id: UUID,
    guardian_id: UUID,
    restricted: bool,
    on: date,
) -> CommandResult:
    """A court restriction ends the guardian's sessions in the same transaction: the tokens
    they hold are refused at once by every service, not once each has projected the restriction."""

    async def decide() -> Outcome:
        await _require_student(rt, school_id, student_id)
        family = await load(rt.store, Guardianship, Guardianship.stream(school_id, student_id))
        body = {"guardian_id": str(guardian_id), "restricted": restricted}
        if not restricted:
            events = family.unrestrict(
                UnrestrictGuardianship(guardian_id=guardian_id, unrestricted_on=on)
            )
            return Outcome([Change.of(family, events)], CommandResult(200, body))
        events = family.restrict(RestrictGuardianship(guardian_id=guardian_id, restricted_on=on))
        account = await load(rt.store, Account, Account.stream(school_id, guardian_id))
        ended = (
            account.end_every_session(RevocationReason.GUARDIANSHIP_RESTRICTED, ctx.now)
            if events
            else []
        )
        return Outcome(
            [Change.of(family, events), Change.of(account, ended)], CommandResult(200, body)
        )

    return await carry_out(rt.store, ctx, decide)


async def _require_teacher(rt: Runtime, school_id: UUID, teacher_id: UUID) -> None:
    async with rt.db.raw() as conn:
        if not await queries.staff_roles(conn, school_id, teacher_id):
            raise NotFound("no such staff member in this school", field="teacher_id")


async def _staffing(rt: Runtime, school_id: UUID, class_id: UUID) -> tuple[ClassStaffing, str]:
    """The class's staffing and the class's school year."""
    klass = (await _school(rt, school_id)).class_(class_id)
    staffing = await load(rt.store, ClassStaffing, ClassStaffing.stream(school_id, class_id))
    return staffing, klass.school_year


async def assign_class_teacher(
    rt: Runtime, ctx: CommandContext, school_id: UUID, class_id: UUID, cmd: AssignClassTeacher
) -> CommandResult:
    async def decide() -> Outcome:
        staffing, year = await _staffing(rt, school_id, class_id)
        await _require_teacher(rt, school_id, cmd.teacher_id)
        events = staffing.assign_class_teacher(cmd, school_year=year)
        body = {"class_id": str(class_id), "teacher_id": str(cmd.teacher_id)}
        return Outcome([Change.of(staffing, events)], CommandResult(200, body))

    return await carry_out(rt.store, ctx, decide)


async def assign_teaching(
    rt: Runtime, ctx: CommandContext, school_id: UUID, class_id: UUID, cmd: AssignTeaching
) -> CommandResult:
    async def decide() -> Outcome:
        staffing, year = await _staffing(rt, school_id, class_id)
        await _require_teacher(rt, school_id, cmd.teacher_id)
        events = staffing.assign_teaching(cmd, school_year=year)
        body = {"assignment_id": str(cmd.assignment_id), "class_id": str(class_id)}
        return Outcome([Change.of(staffing, events)], CommandResult(201, body))

    return await carry_out(rt.store, ctx, decide)


async def unassign_teaching(
    rt: Runtime, ctx: CommandContext, school_id: UUID, class_id: UUID, cmd: UnassignTeaching
) -> CommandResult:
    async def decide() -> Outcome:
        staffing, _ = await _staffing(rt, school_id, class_id)
        events = staffing.unassign_teaching(cmd)
        body = {"assignment_id": str(cmd.assignment_id), "last_day": cmd.last_day.isoformat()}
        return Outcome([Change.of(staffing, events)], CommandResult(200, body))

    return await carry_out(rt.store, ctx, decide)
