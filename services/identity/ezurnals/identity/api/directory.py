"""The directory API: school structure (school admin or director), staff, students, families."""

from __future__ import annotations

import hmac
import uuid
from datetime import date
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Header, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from ezurnals.identity.api import deps
from ezurnals.identity.domain.employment import ChangeStaffRoles, EndEmployment, HireStaffMember
from ezurnals.identity.domain.passwords import STAFF_DEFAULT, PasswordPolicy
from ezurnals.identity.domain.roll import (
    ClassPromotion,
    KeepBack,
    MoveStudent,
    PromoteStudents,
    WithdrawStudent,
)
from ezurnals.identity.domain.school import (
    ChangePasswordPolicy,
    DefineSchoolYear,
    OpenClass,
    RegisterSchool,
    School,
)
from ezurnals.identity.domain.staffing import AssignClassTeacher, AssignTeaching, UnassignTeaching
from ezurnals.identity.handlers import directory as handle
from ezurnals.identity.handlers import imports, load
from ezurnals.identity.handlers.people import PersonalData
from ezurnals.shared.contracts.identity import (
    DEFAULT_TIME_ZONE,
    STAFF_ROLES,
    GradeEndDate,
    Holiday,
    Role,
    Semester,
    WithdrawalReason,
)
from ezurnals.shared.contracts.school_year import SchoolYearInput
from ezurnals.shared.domain import Forbidden, Invalid
from ezurnals.shared.eventstore import CommandResult
from ezurnals.shared.http.auth import CurrentPrincipal

STRUCTURE = frozenset({Role.ADMIN, Role.DIRECTOR})
STAFF_ADMIN = frozenset({Role.ADMIN, Role.DIRECTOR})


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SchoolIn(_In):
    name: str = Field(min_length=1, max_length=200)
    time_zone: str = DEFAULT_TIME_ZONE
    admin: PersonalData


class SchoolYearIn(_In):
    school_year: SchoolYearInput
    semesters: tuple[Semester, ...] = Field(min_length=1)
    grade_end_dates: tuple[GradeEndDate, ...] = ()
    holidays: tuple[Holiday, ...] = ()


class ClassIn(_In):
    class_id: UUID = Field(default_factory=uuid.uuid4)
    school_year: str
    grade_level: int = Field(ge=1, le=12)
    label: str = Field(min_length=1, max_length=10)


class PolicyIn(_In):
    role: Role
    effective_from: date
    max_age_days: int | None = Field(default=STAFF_DEFAULT.max_age_days, ge=1)
    warn_days: int = Field(default=STAFF_DEFAULT.warn_days, ge=0)
    history: int = Field(default=STAFF_DEFAULT.history, ge=0, le=24)
    min_length: int = Field(default=STAFF_DEFAULT.min_length, ge=8, le=64)
    require_totp: bool = STAFF_DEFAULT.require_totp


class PasswordPolicyOut(BaseModel):
    #: None: the rule holds from before the school was registered.
    effective_from: date | None
    max_age_days: int | None
    warn_days: int
    history: int
    min_length: int
    require_totp: bool

    @classmethod
    def of(cls, policy: PasswordPolicy) -> PasswordPolicyOut:
        fields = {name: getattr(policy, name) for name in PasswordPolicy.__dataclass_fields__}
        since = None if policy.effective_from == date.min else policy.effective_from
        return cls(**{**fields, "effective_from": since})


class RolePasswordPolicy(BaseModel):
    role: Role
    in_force: PasswordPolicyOut
    versions: list[PasswordPolicyOut]


class StaffIn(_In):
    person: PersonalData
    roles: tuple[Role, ...] = Field(min_length=1)
    hired_on: date


class RehireIn(_In):
    roles: tuple[Role, ...] = Field(min_length=1)
    hired_on: date


class RolesIn(_In):
    roles: tuple[Role, ...] = Field(min_length=1)
    changed_on: date


class EndIn(_In):
    ended_on: date


class StudentIn(_In):
    person: PersonalData
    class_id: UUID
    enrolled_on: date


class MoveIn(_In):
    to_class_id: UUID
    moved_on: date


class WithdrawIn(_In):
    withdrawn_on: date
    reason: WithdrawalReason = WithdrawalReason.OTHER


class GuardianIn(_In):
    """Either an already registered guardian (``guardian_id``) or a new one (``person``)."""

    guardian_id: UUID | None = None
    person: PersonalData | None = None
    linked_on: date
    restricted: bool = False


class UnlinkIn(_In):
    unlinked_on: date


class PromotionIn(_In):
    """Where each class of ``from_year`` goes (``to_class_id`` null: grade 12 graduates), and
    the students who repeat their grade."""

    from_year: SchoolYearInput
    promoted_on: date
    classes: tuple[ClassPromotion, ...]
    kept_back: tuple[KeepBack, ...] = ()


class RestrictionIn(_In):
    restricted: bool
    on: date


class ClassTeacherIn(_In):
    teacher_id: UUID
    valid_from: date


class TeachingIn(_In):
    assignment_id: UUID = Field(default_factory=uuid.uuid4)
    teacher_id: UUID
    subject_id: UUID
    valid_from: date
    valid_to: date | None = None
    substitute: bool = False


class UnassignIn(_In):
    last_day: date


def _answer(result: CommandResult, response: Response) -> Any:
    response.status_code = result.status
    return result.body


def router() -> APIRouter:
    r = APIRouter(tags=["directory"])

    @r.post("/schools", status_code=201)
    async def register_school(
        body: SchoolIn,
        request: Request,
        response: Response,
        x_bootstrap_token: Annotated[str | None, Header()] = None,
    ) -> Any:
        """Operator bootstrap: only with the secret from EZURNALS_BOOTSTRAP_TOKEN (or the file
        ``identity-bootstrap-token`` generated in EZURNALS_DATA_DIR). Answers with the first
        administrator's activation code."""
        secret = deps.state(request).config.operator_secret()
        given = x_bootstrap_token or ""
        if secret is None or not hmac.compare_digest(given.encode(), secret.encode()):
            raise Forbidden("registering a school needs the operator's bootstrap secret")
        school_id = uuid.uuid4()
        ctx = await deps.context(request, school_id=school_id, role="operator", idempotent=False)
        today = ctx.now.date()
        cmd = RegisterSchool(school_id=school_id, name=body.name, time_zone=body.time_zone)
        rt = deps.runtime(request)
        return _answer(await handle.register_school(rt, ctx, cmd, body.admin, today), response)

    @r.post("/school-years", status_code=201)
    async def define_school_year(
        body: SchoolYearIn, request: Request, principal: CurrentPrincipal, response: Response
    ) -> Any:
        await deps.require_role(request, principal, STRUCTURE, "define school years")
        ctx = await deps.context(request, principal)
        cmd = DefineSchoolYear(**body.model_dump())
        result = await handle.define_school_year(
            deps.runtime(request), ctx, principal.school_id, cmd
        )
        return _answer(result, response)

    @r.post("/classes", status_code=201)
    async def open_class(
        body: ClassIn, request: Request, principal: CurrentPrincipal, response: Response
    ) -> Any:
        await deps.require_role(request, principal, STRUCTURE, "open classes")
        ctx = await deps.context(request, principal)
        result = await handle.open_class(
            deps.runtime(request), ctx, principal.school_id, OpenClass(**body.model_dump())
        )
        return _answer(result, response)

    @r.get("/classes")
    async def list_classes(
        request: Request, principal: CurrentPrincipal, school_year: str | None = None
    ) -> list[dict[str, Any]]:
        """Class labels are not personal data: everyone of the school may list them, with the id
        of each class's class teacher (the latest assignment), so a class teacher finds theirs."""
        async with deps.runtime(request).db.raw() as conn:
            rows = await conn.fetch(
                """SELECT c.class_id, c.school_year, c.grade_level, c.label, t.teacher_id
                   FROM classes c
                   LEFT JOIN LATERAL (SELECT teacher_id FROM class_teachers ct
                                      WHERE ct.class_id = c.class_id
                                      ORDER BY valid_from DESC LIMIT 1) t ON TRUE
                   WHERE c.school_id = $1 AND ($2::text IS NULL OR c.school_year = $2)
                   ORDER BY c.school_year, c.grade_level, c.label""",
                principal.school_id,
                school_year,
            )
        return [
            {
                "class_id": str(r["class_id"]),
                "school_year": r["school_year"],
                "grade_level": r["grade_level"],
                "label": r["label"],
                "class_teacher_id": str(r["teacher_id"]) if r["teacher_id"] else None,
            }
            for r in rows
        ]

    @r.get("/password-policies", response_model=list[RolePasswordPolicy])
    async def password_policies(
        request: Request, principal: CurrentPrincipal
    ) -> list[RolePasswordPolicy]:
        """The password policy in force today for each role, and every version recorded (rule 9):
        staff may read the rules their passwords live by."""
        await deps.require_role(request, principal, STAFF_ROLES, "read password policies")
        today = await deps.today(request, principal.school_id)
        school = await load(deps.runtime(request).store, School, School.stream(principal.school_id))
        return [
            RolePasswordPolicy(
                role=role,
                in_force=PasswordPolicyOut.of(school.policy_at(role, today)),
                versions=[PasswordPolicyOut.of(v) for v in school.policy_versions(role)],
            )
            for role in Role
        ]

    @r.post("/password-policies", status_code=201)
    async def change_password_policy(
        body: PolicyIn, request: Request, principal: CurrentPrincipal, response: Response
    ) -> Any:
        await deps.require_role(request, principal, STRUCTURE, "change password policies")
        ctx = await deps.context(request, principal)
        today = await deps.today(request, principal.school_id)
        result = await handle.change_password_policy(
            deps.runtime(request),
            ctx,
            principal.school_id,
            ChangePasswordPolicy(**body.model_dump()),
            today,
        )
        return _answer(result, response)

    @r.post("/staff", status_code=201)
    async def hire_staff(
        body: StaffIn, request: Request, principal: CurrentPrincipal, response: Response
    ) -> Any:
        await deps.require_role(request, principal, STAFF_ADMIN, "hire staff")
        ctx = await deps.context(request, principal)
        cmd = HireStaffMember(roles=body.roles, hired_on=body.hired_on)
        result = await handle.hire_staff(
            deps.runtime(request), ctx, principal.school_id, body.person, cmd
        )
        return _answer(result, response)

    @r.post("/staff/{person_id}/rehire")
    async def rehire_staff(
        person_id: UUID,
        body: RehireIn,
        request: Request,
        principal: CurrentPrincipal,
        response: Response,
    ) -> Any:
        """Someone who worked here before: hired again and their access restored."""
        await deps.require_seen_colleague(request, principal, person_id)
        await deps.require_role(request, principal, STAFF_ADMIN, "hire staff")
        ctx = await deps.context(request, principal)
        cmd = HireStaffMember(roles=body.roles, hired_on=body.hired_on)
        result = await handle.rehire_staff(
            deps.runtime(request), ctx, principal.school_id, person_id, cmd
        )
        return _answer(result, response)

    @r.put("/staff/{person_id}/roles")
    async def change_roles(
        person_id: UUID,
        body: RolesIn,
        request: Request,
        principal: CurrentPrincipal,
        response: Response,
    ) -> Any:
        await deps.require_seen_colleague(request, principal, person_id)
        await deps.require_role(request, principal, STAFF_ADMIN, "change staff roles")
        ctx = await deps.context(request, principal)
        cmd = ChangeStaffRoles(roles=body.roles, changed_on=body.changed_on)
        result = await handle.change_staff_roles(
            deps.runtime(request), ctx, principal.school_id, person_id, cmd
        )
        return _answer(result, response)

    @r.post("/staff/{person_id}/end-employment")
    async def end_employment(
        person_id: UUID,
        body: EndIn,
        request: Request,
        principal: CurrentPrincipal,
        response: Response,
    ) -> Any:
        await deps.require_seen_colleague(request, principal, person_id)
        await deps.require_role(request, principal, STAFF_ADMIN, "end employment")
        ctx = await deps.context(request, principal)
        today = await deps.today(request, principal.school_id)
        result = await handle.end_employment(
            deps.runtime(request),
            ctx,
            principal.school_id,
            person_id,
            EndEmployment(ended_on=body.ended_on),
            today,
        )
        return _answer(result, response)

    @r.post("/students", status_code=201)
    async def enrol_student(
        body: StudentIn, request: Request, principal: CurrentPrincipal, response: Response
    ) -> Any:
        await deps.require_role(request, principal, STRUCTURE, "enrol students")
        ctx = await deps.context(request, principal)
        result = await handle.enrol_new_student(
            deps.runtime(request),
            ctx,
            principal.school_id,
            body.person,
            body.class_id,
            body.enrolled_on,
        )
        return _answer(result, response)

    @r.post("/students/{student_id}/move")
    async def move_student(
        student_id: UUID,
        body: MoveIn,
        request: Request,
        principal: CurrentPrincipal,
        response: Response,
    ) -> Any:
        await deps.require_seen_person(request, principal, student_id)
        await deps.require_role(request, principal, STRUCTURE, "move students")
        ctx = await deps.context(request, principal)
        cmd = MoveStudent(student_id=student_id, **body.model_dump())
        result = await handle.move_student(deps.runtime(request), ctx, principal.school_id, cmd)
        return _answer(result, response)

    @r.post("/students/{student_id}/withdraw")
    async def withdraw_student(
        student_id: UUID,
        body: WithdrawIn,
        request: Request,
        principal: CurrentPrincipal,
        response: Response,
    ) -> Any:
        await deps.require_seen_person(request, principal, student_id)
        await deps.require_role(request, principal, STRUCTURE, "withdraw students")
        ctx = await deps.context(request, principal)
        cmd = WithdrawStudent(student_id=student_id, **body.model_dump())
        result = await handle.withdraw_student(deps.runtime(request), ctx, principal.school_id, cmd)
        return _answer(result, response)

    @r.post("/promotions", status_code=201)
    async def promote_students(
        body: PromotionIn, request: Request, principal: CurrentPrincipal, response: Response
    ) -> Any:
        """Year-end promotion of the whole school into the next school year (StudentsPromoted)."""
        await deps.require_role(request, principal, STRUCTURE, "promote students")
        ctx = await deps.context(request, principal)
        cmd = PromoteStudents(
            promoted_on=body.promoted_on, classes=body.classes, kept_back=body.kept_back
        )
        result = await handle.promote_students(
            deps.runtime(request), ctx, principal.school_id, body.from_year, cmd
        )
        return _answer(result, response)

    @r.post("/students/{student_id}/guardians", status_code=201)
    async def link_guardian(
        student_id: UUID,
        body: GuardianIn,
        request: Request,
        principal: CurrentPrincipal,
        response: Response,
    ) -> Any:
        """The class teacher of the student's class or the administration (rule 1)."""
        await deps.require_file_keeper(request, principal, student_id)
        if (body.guardian_id is None) == (body.person is None):
            raise Invalid("give either guardian_id or person", field="guardian_id")
        guardian = body.guardian_id if body.guardian_id is not None else body.person
        assert guardian is not None
        ctx = await deps.context(request, principal)
        result = await handle.link_guardian(
            deps.runtime(request),
            ctx,
            principal.school_id,
            student_id,
            guardian,
            body.linked_on,
            body.restricted,
        )
        return _answer(result, response)

    @r.post("/students/{student_id}/guardians/{guardian_id}/unlink")
    async def unlink_guardian(
        student_id: UUID,
        guardian_id: UUID,
        body: UnlinkIn,
        request: Request,
        principal: CurrentPrincipal,
        response: Response,
    ) -> Any:
        """The class teacher of the student's class or the administration (rule 1)."""
        await deps.require_file_keeper(request, principal, student_id)
        ctx = await deps.context(request, principal)
        result = await handle.unlink_guardian(
            deps.runtime(request),
            ctx,
            principal.school_id,
            student_id,
            guardian_id,
            body.unlinked_on,
        )
        return _answer(result, response)

    @r.put("/students/{student_id}/guardians/{guardian_id}/restriction")
    async def set_restriction(
        student_id: UUID,
        guardian_id: UUID,
        body: RestrictionIn,
        request: Request,
        principal: CurrentPrincipal,
        response: Response,
    ) -> Any:
        await deps.require_seen_person(request, principal, student_id)
        await deps.require_role(request, principal, STRUCTURE, "record court restrictions")
        ctx = await deps.context(request, principal)
        result = await handle.set_restriction(
            deps.runtime(request),
            ctx,
            principal.school_id,
            student_id,
            guardian_id,
            body.restricted,
            body.on,
        )
        return _answer(result, response)

    @r.put("/classes/{class_id}/class-teacher")
    async def assign_class_teacher(
        class_id: UUID,
        body: ClassTeacherIn,
        request: Request,
        principal: CurrentPrincipal,
        response: Response,
    ) -> Any:
        await deps.require_seen_class(request, principal, class_id)
        await deps.require_role(request, principal, STRUCTURE, "assign class teachers")
        ctx = await deps.context(request, principal)
        result = await handle.assign_class_teacher(
            deps.runtime(request),
            ctx,
            principal.school_id,
            class_id,
            AssignClassTeacher(**body.model_dump()),
        )
        return _answer(result, response)

    @r.post("/classes/{class_id}/teaching", status_code=201)
    async def assign_teaching(
        class_id: UUID,
        body: TeachingIn,
        request: Request,
        principal: CurrentPrincipal,
        response: Response,
    ) -> Any:
        await deps.require_seen_class(request, principal, class_id)
        await deps.require_role(request, principal, STRUCTURE, "assign teaching")
        ctx = await deps.context(request, principal)
        result = await handle.assign_teaching(
            deps.runtime(request),
            ctx,
            principal.school_id,
            class_id,
            AssignTeaching(**body.model_dump()),
        )
        return _answer(result, response)

    @r.post("/classes/{class_id}/teaching/{assignment_id}/end")
    async def unassign_teaching(
        class_id: UUID,
        assignment_id: UUID,
        body: UnassignIn,
        request: Request,
        principal: CurrentPrincipal,
        response: Response,
    ) -> Any:
        await deps.require_seen_class(request, principal, class_id)
        await deps.require_role(request, principal, STRUCTURE, "end teaching assignments")
        ctx = await deps.context(request, principal)
        cmd = UnassignTeaching(assignment_id=assignment_id, last_day=body.last_day)
        result = await handle.unassign_teaching(
            deps.runtime(request), ctx, principal.school_id, class_id, cmd
        )
        return _answer(result, response)

    return r


def import_router() -> APIRouter:
    r = APIRouter(tags=["directory"])

    @r.post(
        "/imports/students",
        openapi_extra={"requestBody": {"content": {"text/csv": {"schema": {"type": "string"}}}}},
    )
    async def import_students(
        request: Request,
        principal: CurrentPrincipal,
        response: Response,
        school_year: Annotated[SchoolYearInput, Query()],
        dry_run: bool = True,
    ) -> Any:
        """A students-and-guardians CSV (see ``domain.student_import``): 422 with every bad row
        by number and nothing imported; ``dry_run`` (the default) only checks."""
        await deps.require_role(request, principal, STRUCTURE, "import students")
        raw = await request.body()
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise Invalid("the file must be UTF-8 text", field="file") from None
        ctx = await deps.context(request, principal)
        today = await deps.today(request, principal.school_id)
        result = await imports.import_students(
            deps.runtime(request), ctx, principal.school_id, school_year, text, today, dry_run
        )
        return _answer(result, response)

    return r
