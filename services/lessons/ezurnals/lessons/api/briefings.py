"""Safety briefings (rule 3): types, briefings, acknowledgements, who is not briefed yet, and the
printable form.

The form's names: identity holds people's names (encrypted, erasable), and this service keeps
only ids. The caller — who was shown the names by identity under its own access rules — sends the
display names with the request; they are printed and forgotten, so erasure in identity never has
to reach into this service.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import APIRouter, Request, Response

from ezurnals.lessons import commands
from ezurnals.lessons.access import may_read_class, require_administration, require_staff
from ezurnals.lessons.api.common import carry_out, reader_of, today
from ezurnals.lessons.api.models import (
    AcknowledgementIn,
    BriefingFormIn,
    BriefingIn,
    BriefingTypeIn,
)
from ezurnals.lessons.documents import BriefingForm, briefing_form_pdf
from ezurnals.lessons.domain import (
    AcknowledgeBriefing,
    ConductBriefing,
    DefineBriefingType,
    check_briefing_day,
    current_calendar,
    students_not_briefed,
)
from ezurnals.shared.auth.principal import Role
from ezurnals.shared.contracts.lessons import AcknowledgedBy
from ezurnals.shared.domain import Forbidden, Invalid, NotFound
from ezurnals.shared.http.audit import AuditedRoute, record_read
from ezurnals.shared.http.auth import CurrentPrincipal

router = APIRouter(tags=["safety briefings"], route_class=AuditedRoute)


@router.get("/briefing-types", operation_id="list_briefing_types")
async def list_briefing_types(
    request: Request, principal: CurrentPrincipal
) -> list[dict[str, Any]]:
    require_staff(principal)
    return await reader_of(request).briefing_types(principal.school_id)


@router.post("/briefing-types", status_code=201, operation_id="define_briefing_type")
async def define_briefing_type(
    body: BriefingTypeIn, request: Request, principal: CurrentPrincipal
) -> Any:
    require_administration(principal)
    kind = DefineBriefingType(**body.model_dump(), school_id=principal.school_id)
    return await carry_out(request, principal, commands.DefineBriefingType(briefing_type=kind))


@router.post("/briefings", status_code=201, operation_id="conduct_briefing")
async def conduct_briefing(body: BriefingIn, request: Request, principal: CurrentPrincipal) -> Any:
    """A class's briefing by its class teacher, one of its teachers or the administration; a
    group's (``student_ids`` without a class) by any staff member."""
    reader = reader_of(request)
    _, local_today = await today(request, principal.school_id)
    klass = (
        None
        if body.class_id is None
        else await reader.school_class(principal.school_id, body.class_id)
    )
    # A briefing dated outside its school year is the date's fault, whoever records it.
    calendar = (
        await reader.calendar(principal.school_id, klass.school_year)
        if klass is not None
        else current_calendar(await reader.calendars(principal.school_id), local_today)
    )
    check_briefing_day(body.conducted_on, calendar, local_today)
    students = body.student_ids
    if body.class_id is not None:
        if klass is None:
            raise NotFound("no such class", field="class_id")
        await may_read_class(reader, principal, body.class_id, body.conducted_on)
        if students is None:
            students = tuple(await reader.roster(body.class_id))
    require_staff(principal)
    if students is None:
        raise Invalid("name the class or the students", field="student_ids")
    briefing = ConductBriefing(
        briefing_id=body.briefing_id,
        school_id=principal.school_id,
        briefing_type_id=body.briefing_type_id,
        class_id=body.class_id,
        student_ids=students,
        conducted_on=body.conducted_on,
        conducted_by=principal.person_id,
        topic=body.topic,
    )
    return await carry_out(request, principal, commands.ConductBriefing(briefing=briefing))


@router.get("/briefings/{briefing_id}", operation_id="get_briefing")
async def get_briefing(briefing_id: UUID, request: Request, principal: CurrentPrincipal) -> Any:
    require_staff(principal)
    briefing = await reader_of(request).briefing_of(principal.school_id, briefing_id)
    record_read(
        request, [*briefing.acknowledged, *briefing.not_acknowledged], "briefing_acknowledgements"
    )
    return commands.BriefingView.of(briefing)


@router.post(
    "/briefings/{briefing_id}/acknowledgements",
    status_code=201,
    operation_id="acknowledge_briefing",
)
async def acknowledge_briefing(
    briefing_id: UUID,
    body: AcknowledgementIn,
    request: Request,
    principal: CurrentPrincipal,
) -> Any:
    """Staff record a signature on paper; a student confirms their own in the app."""
    if body.how is AcknowledgedBy.PAPER:
        require_staff(principal)
    elif not principal.has(Role.STUDENT):
        raise Forbidden("only the student can acknowledge a briefing in the app")
    acknowledgement = AcknowledgeBriefing(
        student_id=body.student_id, how=body.how, recorded_by=principal.person_id
    )
    cmd = commands.AcknowledgeBriefing(
        school_id=principal.school_id, briefing_id=briefing_id, acknowledgement=acknowledgement
    )
    return await carry_out(request, principal, cmd)


@router.get("/classes/{class_id}/not-briefed", operation_id="students_not_briefed")
async def not_briefed(
    class_id: UUID, briefing_type_id: UUID, request: Request, principal: CurrentPrincipal
) -> dict[str, Any]:
    """Students of the class who have acknowledged no briefing of this type yet."""
    reader = reader_of(request)
    if await reader.school_class(principal.school_id, class_id) is None:
        raise NotFound("no such class", field="class_id")
    _, local_today = await today(request, principal.school_id)
    await may_read_class(reader, principal, class_id, local_today)
    if await reader.briefing_type(principal.school_id, briefing_type_id) is None:
        raise NotFound("no such briefing type", field="briefing_type_id")
    briefings = [
        await reader.briefing_of(principal.school_id, row["briefing_id"])
        for row in await reader.briefings_of_type(principal.school_id, briefing_type_id)
    ]
    roster = await reader.roster(class_id)
    missing = students_not_briefed(roster, briefings, briefing_type_id)
    record_read(request, missing, "briefing_acknowledgements")
    return {"class_id": str(class_id), "student_ids": [str(s) for s in missing]}


@router.post(
    "/briefings/{briefing_id}/form",
    operation_id="briefing_form",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}},
)
async def briefing_form(
    briefing_id: UUID, body: BriefingFormIn, request: Request, principal: CurrentPrincipal
) -> Response:
    """The printable form in Latvian with a signature line for every student of the briefing,
    named by the display names sent with the request."""
    require_staff(principal)
    briefing = await reader_of(request).briefing_of(principal.school_id, briefing_id)
    conducted = briefing.conducted
    assert conducted is not None
    unknown = [str(s) for s in body.names if s not in conducted.student_ids]
    if unknown:
        raise Invalid(
            "names were given for students not in the briefing",
            field="names",
            details={"student_ids": unknown},
        )
    missing = [str(s) for s in conducted.student_ids if s not in body.names]
    if missing:
        raise Invalid(
            "give a name for every student of the briefing",
            field="names",
            details={"student_ids": missing},
        )
    reader = reader_of(request)
    kind = await reader.briefing_type(principal.school_id, conducted.briefing_type_id)
    school_class = (
        await reader.school_class(principal.school_id, conducted.class_id)
        if conducted.class_id
        else None
    )
    form = BriefingForm(
        type_name=kind["name"] if kind else "",
        topic=conducted.topic,
        conducted_on=conducted.conducted_on,
        class_label=school_class.label if school_class else None,
        conducted_by=body.conducted_by_name,
        student_names=tuple(sorted(body.names[s].strip() for s in conducted.student_ids)),
    )
    return Response(
        briefing_form_pdf(form),
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="instruktaza-{briefing_id}.pdf"'},
    )
