"""Excuse requests from families (rule 1) and the class teacher's decisions and direct excuses
against paper documents (rule 4)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, File, Form, Query, Request, Response, UploadFile
from pydantic import BaseModel, ConfigDict, Field

from ezurnals.attendance import handlers, queries
from ezurnals.attendance.api.common import answer, context, now, runtime_of
from ezurnals.attendance.domain import (
    MAX_ATTACHMENT_BYTES,
    AcceptExcuse,
    ExcuseAbsences,
    RejectExcuse,
)
from ezurnals.attendance.domain.access import may_read_student, require_read_student
from ezurnals.shared.auth import Principal
from ezurnals.shared.auth.principal import Role
from ezurnals.shared.contracts.attendance import DocumentType
from ezurnals.shared.domain import NotFound, require_seen
from ezurnals.shared.http.audit import AuditedRoute, record_read
from ezurnals.shared.http.auth import CurrentPrincipal

router = APIRouter(tags=["excuses"], route_class=AuditedRoute)


@router.post("/excuse-requests", status_code=201)
async def submit_excuse_request(
    request: Request,
    principal: CurrentPrincipal,
    response: Response,
    student_id: Annotated[UUID, Form()],
    reason: Annotated[str, Form(max_length=2000)],
    document_type: Annotated[DocumentType, Form()],
    covers_from: Annotated[dt.date | None, Form()] = None,
    covers_to: Annotated[dt.date | None, Form()] = None,
    lesson_ids: Annotated[list[UUID] | None, Form()] = None,
    attachment: Annotated[UploadFile | None, File()] = None,
) -> Any:
    """A guardian for their own child, or a student of 18 for themself, as multipart form data;
    the optional attachment must be a PDF, JPEG or PNG of at most 5 MB."""
    fields = {
        "student_id": student_id,
        "reason": reason,
        "document_type": document_type,
        "covers_from": covers_from,
        "covers_to": covers_to,
        "lesson_ids": tuple(lesson_ids or ()),
    }
    upload = None
    if attachment is not None:
        upload = handlers.Upload(await attachment.read(), MAX_ATTACHMENT_BYTES)
    role = "student" if principal.person_id == student_id else "guardian"
    ctx = await context(request, principal, role)
    result = await handlers.submit_excuse(runtime_of(request), ctx, principal, fields, upload)
    response.status_code = result.status
    return result.body


@router.get("/excuse-requests")
async def list_excuse_requests(
    request: Request,
    principal: CurrentPrincipal,
    student_id: Annotated[UUID | None, Query()] = None,
    status: Annotated[str | None, Query(pattern="^(submitted|accepted|rejected)$")] = None,
) -> list[dict[str, Any]]:
    """One student's requests (whoever may read the student; a student they do not see is a 404,
    never an empty list), or without ``student_id`` those of everyone the caller may see: own
    children, own class, or the whole school."""
    runtime = runtime_of(request)
    async with handlers.reading(runtime) as conn:
        today = await queries.today_in_school(conn, principal.school_id, now(request))
        rel = await queries.relationships(conn, principal, today)
        if student_id is not None:
            require_read_student(rel, student_id)
            in_school = await queries.student_in_school(conn, principal.school_id, student_id)
            require_seen(in_school, "student", "student_id")
            students: list[UUID] = [student_id]
        elif rel.administration:
            students = await queries.students_of_school(conn, principal.school_id)
        else:
            candidates = rel.homeroom_students | rel.children | {rel.person_id}
            students = [s for s in candidates if may_read_student(rel, s)]
        rows = await queries.excuse_requests(conn, principal.school_id, students)
    shown = [row for row in rows if status is None or row["status"] == status]
    record_read(request, dict.fromkeys(row["student_id"] for row in shown), "excuse_requests")
    return [{k: _json(v) for k, v in row.items()} for row in shown]


def _json(value: Any) -> Any:
    if isinstance(value, list):
        return [_json(v) for v in value]
    if isinstance(value, UUID | dt.date):
        return str(value) if isinstance(value, UUID) else value.isoformat()
    return value


@router.get("/excuse-requests/{request_id}/attachment")
async def read_attachment(request_id: UUID, request: Request, principal: CurrentPrincipal) -> Any:
    """The attached document, to whoever may read the student it is about."""
    runtime = runtime_of(request)
    async with handlers.reading(runtime) as conn:
        row = await conn.fetchrow(
            """SELECT a.student_id, a.content_type, a.sha256, a.content
               FROM excuse_requests r JOIN excuse_attachments a USING (attachment_id)
               WHERE r.request_id = $1 AND r.school_id = $2""",
            request_id,
            principal.school_id,
        )
        today = await queries.today_in_school(conn, principal.school_id, now(request))
        rel = await queries.relationships(conn, principal, today)
    if row is None or not may_read_student(rel, row["student_id"]):
        raise NotFound("no such attachment", field="request_id")
    record_read(request, [row["student_id"]], "excuse_document")
    return Response(
        content=bytes(row["content"]),
        media_type=row["content_type"],
        headers={"ETag": f'"{row["sha256"]}"'},
    )


class RejectIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(default="", max_length=2000)


@router.post("/excuse-requests/{request_id}/accept")
async def accept_excuse_request(
    request_id: UUID, request: Request, principal: CurrentPrincipal, response: Response
) -> Any:
    """The student's class teacher or the administration; every absence the request covers is
    excused, also those recorded later. An already decided request is a 409."""
    cmd = AcceptExcuse(request_id=request_id)
    role = excusing_as(principal)
    return await answer(request, principal, response, role, handlers.decide_excuse, cmd)


@router.post("/excuse-requests/{request_id}/reject")
async def reject_excuse_request(
    request_id: UUID,
    body: RejectIn,
    request: Request,
    principal: CurrentPrincipal,
    response: Response,
) -> Any:
    """The student's class teacher or the administration, with a reason."""
    cmd = RejectExcuse(request_id=request_id, reason=body.reason)
    role = excusing_as(principal)
    return await answer(request, principal, response, role, handlers.decide_excuse, cmd)


class ExcuseDirectlyIn(BaseModel):
    """Absences excused against a paper document the class teacher holds."""

    model_config = ConfigDict(extra="forbid")
    absence_ids: list[UUID] = Field(min_length=1, max_length=500)
    document_type: DocumentType
    reference: str = Field(min_length=1, max_length=200)


@router.post("/students/{student_id}/excuses", status_code=201)
async def excuse_directly(
    student_id: UUID,
    body: ExcuseDirectlyIn,
    request: Request,
    principal: CurrentPrincipal,
    response: Response,
) -> Any:
    """The student's class teacher or the administration (rule 4)."""
    cmd = ExcuseAbsences(
        excuse_id=uuid.uuid4(),
        student_id=student_id,
        absence_ids=tuple(body.absence_ids),
        document_type=body.document_type,
        reference=body.reference,
    )
    return await answer(
        request, principal, response, excusing_as(principal), handlers.excuse_directly, cmd
    )


#: The capacity an excuse is recorded in, highest first: a director who also administers the
#: school excused as director (alphabetical order would have said "admin").
EXCUSING_ROLES = (Role.DIRECTOR, Role.DEPUTY_DIRECTOR, Role.ADMIN)


def excusing_as(principal: Principal) -> str:
    """The capacity recorded with an excuse: the highest administration role the caller holds,
    else class teacher."""
    return next((str(r) for r in EXCUSING_ROLES if r in principal.roles), "class_teacher")
