"""Families and personal files: an adult student's say over guardians, changing personal data
and contacts, and the printable family access letters of a class."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, ConfigDict

from ezurnals.identity.api import deps
from ezurnals.identity.api.accounts import may_issue_for_class
from ezurnals.identity.delivery import Courier
from ezurnals.identity.handlers import adults, letters
from ezurnals.identity.handlers import people as handle
from ezurnals.shared.http.audit import AuditedRoute, record_read
from ezurnals.shared.http.auth import CurrentPrincipal


class GuardianAccessIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    keeps_access: bool


def router() -> APIRouter:
    r = APIRouter(tags=["families"], route_class=AuditedRoute)

    @r.put("/students/{student_id}/guardians/{guardian_id}/access")
    async def decide_guardian_access(
        student_id: UUID,
        guardian_id: UUID,
        body: GuardianAccessIn,
        request: Request,
        principal: CurrentPrincipal,
        response: Response,
    ) -> Any:
        """The student, from their 18th birthday, decides whether a guardian keeps access."""
        ctx = await deps.context(request, principal, role="student")
        today = await deps.today(request, principal.school_id)
        result = await adults.decide_guardian_access(
            deps.runtime(request),
            ctx,
            principal.school_id,
            student_id,
            guardian_id,
            body.keeps_access,
            today,
        )
        response.status_code = result.status
        return result.body

    @r.patch("/people/{person_id}")
    async def change_personal_data(
        person_id: UUID,
        body: handle.PersonalDataChange,
        request: Request,
        principal: CurrentPrincipal,
        response: Response,
    ) -> Any:
        """Anyone may change their own contacts (e-mail, phone, address); everything else, and
        anyone else's file, only the class teacher or the administration (rule 1). Another
        guardian's file is a 404, like a stranger's."""
        change = body.changes()
        own_contacts = principal.person_id == person_id and set(change) <= handle.CONTACTS
        if not own_contacts:
            await deps.require_file_keeper(request, principal, person_id)
        ctx = await deps.context(request, principal)
        result = await handle.change_personal_data(
            deps.runtime(request), ctx, principal.school_id, person_id, change
        )
        response.status_code = result.status
        return result.body

    @r.post(
        "/classes/{class_id}/access-letters",
        status_code=201,
        response_class=Response,
        responses={201: {"content": {"application/pdf": {}}}},
    )
    async def access_letters(
        class_id: UUID,
        request: Request,
        principal: CurrentPrincipal,
        deliver: Annotated[bool, Query()] = True,
    ) -> Response:
        """New codes for everyone of the class without an account, as one PDF with a letter per
        family; with ``deliver`` each code also goes by e-mail or SMS where a contact exists.
        The headers say how many went which way (``X-Codes-Email``, ``-Sms``, ``-Letter``,
        ``-Failed``). Earlier codes stop working; a retry issues new ones."""
        await may_issue_for_class(request, principal, class_id)
        ctx = await deps.context(request, principal, idempotent=False)
        courier = Courier.from_config(deps.state(request).config) if deliver else None
        issued = await letters.issue_access_letters(
            deps.runtime(request), ctx, principal.school_id, class_id, courier
        )
        record_read(request, issued.people, "access_letters")
        headers = {
            f"X-Codes-{way.capitalize()}": str(issued.delivered[way])
            for way in ("email", "sms", "letter", "failed")
        }
        headers["Content-Disposition"] = 'attachment; filename="piekluves-vestules.pdf"'
        return Response(issued.pdf, 201, headers=headers, media_type="application/pdf")

    return r
