"""Reading personal files (every read audited), data-subject export and erasure, access logs."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import APIRouter, Request, Response

from ezurnals.identity import queries
from ezurnals.identity.access_log import accesses
from ezurnals.identity.api import deps
from ezurnals.identity.handlers import privacy as handle
from ezurnals.shared.auth.principal import ADMINISTRATION, Principal
from ezurnals.shared.contracts.identity import Role
from ezurnals.shared.domain import require_permitted, require_seen
from ezurnals.shared.http.audit import AuditedRoute, record_read
from ezurnals.shared.http.auth import CurrentPrincipal

ERASERS = frozenset({Role.ADMIN, Role.DIRECTOR})


async def _is_administration(request: Request, principal: Principal) -> bool:
    async with deps.runtime(request).db.raw() as conn:
        held = await queries.staff_roles(conn, principal.school_id, principal.person_id)
    return bool(held & principal.roles & ADMINISTRATION)


def router() -> APIRouter:
    r = APIRouter(tags=["personal data"], route_class=AuditedRoute)

    @r.get("/me")
    async def me(request: Request, principal: CurrentPrincipal) -> dict[str, Any]:
        async with deps.runtime(request).db.raw() as conn:
            data = await queries.personal_data(conn, principal.person_id)
            roles = await queries.person_roles(conn, principal.school_id, principal.person_id)
        return {
            "person_id": str(principal.person_id),
            "school_id": str(principal.school_id),
            "roles": sorted(roles),
            "personal_data": data,
        }

    @r.get("/people/{person_id}")
    async def personal_file(
        person_id: UUID, request: Request, principal: CurrentPrincipal
    ) -> dict[str, Any]:
        """The personal file (personas lieta): for whoever the access rules allow; else 404."""
        today = await deps.today(request, principal.school_id)
        async with deps.runtime(request).db.raw() as conn:
            await queries.require_readable(conn, principal, person_id, today)
            data = await queries.personal_data(conn, person_id)
            enrolments = await queries.class_history(conn, person_id)
            guardians = await queries.guardians_of(conn, person_id)
        record_read(request, [person_id], "personal_file")
        return {
            "person_id": str(person_id),
            "personal_data": data,
            "enrolments": enrolments,
            "guardians": [
                {"guardian_id": str(g["guardian_id"]), "restricted": g["restricted"]}
                for g in guardians
            ],
        }

    @r.get("/classes/{class_id}/students")
    async def class_list(
        class_id: UUID, request: Request, principal: CurrentPrincipal
    ) -> list[dict[str, Any]]:
        """Names of a class's students: for its teachers, class teacher and the administration."""
        today = await deps.today(request, principal.school_id)
        out = []
        async with deps.runtime(request).db.raw() as conn:
            seen = await queries.may_read_class(conn, principal, class_id, today)
            require_seen(seen, "class", "class_id")
            students = await queries.students_of_class(conn, class_id)
            for student in students:
                data = await queries.personal_data(conn, student) or {}
                out.append(
                    {
                        "person_id": str(student),
                        "first_name": data.get("first_name"),
                        "last_name": data.get("last_name"),
                    }
                )
        record_read(request, students, "class_list")
        return sorted(out, key=lambda s: (s["last_name"] or "", s["first_name"] or ""))

    @r.get("/people/{person_id}/export")
    async def export(person_id: UUID, request: Request, principal: CurrentPrincipal) -> Any:
        """A data-subject request: the person themself or the school's administration."""
        allowed = principal.person_id == person_id or await _is_administration(request, principal)
        await _seen_then_permitted(request, principal, person_id, allowed, "export this file")
        body = await handle.export(deps.runtime(request), principal.school_id, person_id)
        record_read(request, [person_id], "export")
        return body

    @r.post("/people/{person_id}/erase")
    async def erase(
        person_id: UUID, request: Request, principal: CurrentPrincipal, response: Response
    ) -> Any:
        await deps.require_seen_person(request, principal, person_id)
        await deps.require_role(request, principal, ERASERS, "erase personal data")
        ctx = await deps.context(request, principal)
        result = await handle.erase(
            deps.runtime(request), ctx, principal.school_id, person_id, ctx.now
        )
        response.status_code = result.status
        return result.body

    @r.get("/people/{person_id}/access-log")
    async def access_log(
        person_id: UUID, request: Request, principal: CurrentPrincipal
    ) -> list[dict[str, Any]]:
        """Who read this person's data: the person, a guardian who may see the child, or the
        administration. Others who see the person are refused; anyone else gets the same 404 as
        for a stranger."""
        today = await deps.today(request, principal.school_id)
        async with deps.runtime(request).db.raw() as conn:
            await queries.person_school(conn, principal.school_id, person_id)
            link = await conn.fetchrow(
                "SELECT restricted, kept_by_student FROM guardians "
                "WHERE student_id = $1 AND guardian_id = $2",
                person_id,
                principal.person_id,
            )
            guardian_sees = (
                link is not None
                and not link["restricted"]
                and link["kept_by_student"] is not False
                and await queries.may_read_person(conn, principal, person_id, today)
            )
        allowed = (
            principal.person_id == person_id
            or guardian_sees
            or await _is_administration(request, principal)
        )
        await _seen_then_permitted(request, principal, person_id, allowed, "read this access log")
        return await accesses(deps.runtime(request), principal.school_id, subject_ids=[person_id])

    @r.get("/staff/{person_id}/accesses")
    async def staff_accesses(
        person_id: UUID, request: Request, principal: CurrentPrincipal
    ) -> list[dict[str, Any]]:
        """The director audits whose data a staff member read. The school's staff see their
        colleagues (403); families and other schools are told there is no such person."""
        await deps.require_seen_colleague(request, principal, person_id)
        await deps.require_role(
            request, principal, frozenset({Role.DIRECTOR}), "audit staff accesses"
        )
        return await accesses(deps.runtime(request), principal.school_id, actor_id=person_id)

    return r


async def _seen_then_permitted(
    request: Request, principal: Principal, person_id: UUID, allowed: bool, what: str
) -> None:
    """The shared rule: a person the caller may not read is missing; one they read but may
    not do ``what`` with is a 403."""
    if allowed:
        async with deps.runtime(request).db.raw() as conn:
            await queries.person_school(conn, principal.school_id, person_id)
        return
    today = await deps.today(request, principal.school_id)
    async with deps.runtime(request).db.raw() as conn:
        await queries.require_readable(conn, principal, person_id, today)
    require_permitted(False, f"you may not {what}")
