"""Monthly statements (rule 5): the family view, PDFs per student and per class, and re-runs."""

from __future__ import annotations

import asyncio
from typing import Any
from uuid import UUID

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from ezurnals.reporting.api.common import (
    PDF,
    DocumentRequest,
    acting,
    reads,
    require_class,
    require_student,
)
from ezurnals.reporting.documents import DisplayNames, statements_pdf
from ezurnals.reporting.domain.calendar import month_days, require_issuable_month
from ezurnals.reporting.domain.statements import MonthlyStatement
from ezurnals.reporting.handlers import issue_statements
from ezurnals.reporting.queries import Reads
from ezurnals.shared.contracts.base import utcnow
from ezurnals.shared.contracts.identity import DEFAULT_TIME_ZONE
from ezurnals.shared.contracts.reporting import Month
from ezurnals.shared.domain import Forbidden, NotFound
from ezurnals.shared.http.audit import AuditedRoute, record_read
from ezurnals.shared.http.auth import CurrentPrincipal
from ezurnals.shared.service import Runtime

router = APIRouter(route_class=AuditedRoute, tags=["statements"])


class StatementSummary(BaseModel):
    month: str
    class_id: UUID
    grades: int
    absences_excused: int
    absences_unexcused: int
    version: int


class StatementOut(BaseModel):
    statement: MonthlyStatement
    version: int
    content_sha256: str


class RunStatements(BaseModel):
    model_config = ConfigDict(extra="forbid")
    month: Month
    class_id: UUID | None = Field(default=None, description="Only this class")


class RunOut(BaseModel):
    month: str
    issued: int
    unchanged: int


async def _statement(db: Reads, student_id: UUID, month: str) -> Any:
    month_days(month)
    row = await db.conn.fetchrow(
        "SELECT content, version, content_sha256 FROM statements "
        "WHERE student_id = $1 AND month = $2",
        student_id,
        month,
    )
    if row is None:
        raise NotFound(f"no statement for {month} yet", field="month")
    return row


async def _pdf(
    db: Reads,
    school_id: UUID,
    class_id: UUID,
    month: str,
    contents: list[Any],
    names: DisplayNames,
) -> Response:
    school = await db.school(school_id)
    klass = await db.class_row(class_id, school_id)
    teacher = await db.class_teacher(class_id, month_days(month)[1])
    pdf = await asyncio.to_thread(
        statements_pdf,
        school=school["name"] if school else "",
        month=month,
        class_teacher=names(teacher),
        statements=contents,
        class_label=klass["label"] if klass else "",
        names=names,
    )
    return Response(pdf, media_type=PDF)


@router.get("/students/{student_id}/statements", response_model=list[StatementSummary])
async def list_statements(
    student_id: UUID, request: Request, principal: CurrentPrincipal
) -> list[StatementSummary]:
    async with reads(request) as db:
        await require_student(db, principal, student_id)
        record_read(request, [student_id], "statement")
        rows = await db.conn.fetch(
            "SELECT month, class_id, content, version FROM statements "
            "WHERE student_id = $1 AND school_id = $2 ORDER BY month DESC",
            student_id,
            principal.school_id,
        )
    return [
        StatementSummary(
            month=r["month"],
            class_id=r["class_id"],
            grades=r["content"]["grades"],
            absences_excused=r["content"]["absences_excused"],
            absences_unexcused=r["content"]["absences_unexcused"],
            version=r["version"],
        )
        for r in rows
    ]


@router.get("/students/{student_id}/statements/{month}", response_model=StatementOut)
async def get_statement(
    student_id: UUID, month: str, request: Request, principal: CurrentPrincipal
) -> StatementOut:
    async with reads(request) as db:
        await require_student(db, principal, student_id)
        record_read(request, [student_id], "statement")
        row = await _statement(db, student_id, month)
    return StatementOut(
        statement=MonthlyStatement.model_validate(row["content"]),
        version=row["version"],
        content_sha256=row["content_sha256"],
    )


@router.post(
    "/students/{student_id}/statements/{month}/pdf",
    response_class=Response,
    responses={200: {"content": {PDF: {}}}},
)
async def statement_pdf(
    student_id: UUID,
    month: str,
    body: DocumentRequest,
    request: Request,
    principal: CurrentPrincipal,
) -> Response:
    """POST because it carries the display names to print (never stored)."""
    async with reads(request) as db:
        await require_student(db, principal, student_id)
        record_read(request, [student_id], "statement")
        row = await _statement(db, student_id, month)
        content = row["content"]
        return await _pdf(
            db,
            principal.school_id,
            UUID(content["class_id"]),
            month,
            [content],
            DisplayNames(body.names),
        )


@router.post(
    "/classes/{class_id}/statements/{month}/pdf",
    response_class=Response,
    responses={200: {"content": {PDF: {}}}},
)
async def class_statements_pdf(
    class_id: UUID,
    month: str,
    body: DocumentRequest,
    request: Request,
    principal: CurrentPrincipal,
) -> Response:
    """Every statement of the class for the month, one page each, for the class teacher."""
    month_days(month)
    async with reads(request) as db:
        await require_class(db, principal, class_id)
        rows = await db.conn.fetch(
            "SELECT content FROM statements WHERE class_id = $1 AND month = $2",
            class_id,
            month,
        )
        if not rows:
            raise NotFound(f"no statements for {month} yet", field="month")
        names = DisplayNames(body.names)
        contents = sorted((r["content"] for r in rows), key=lambda c: names(c["student_id"]))
        return await _pdf(db, principal.school_id, class_id, month, contents, names)


@router.post("/statements/runs", response_model=RunOut)
async def run_statements(
    body: RunStatements, request: Request, principal: CurrentPrincipal
) -> RunOut:
    """Issue (again) a month's statements for the school or one class; unchanged ones stay."""
    runtime: Runtime = request.app.state.runtime
    now = utcnow()
    async with reads(request) as db:
        school = await db.school(principal.school_id)
        require_issuable_month(
            body.month,
            now,
            school["time_zone"] if school else DEFAULT_TIME_ZONE,
            await db.first_school_day(principal.school_id),
        )
        if body.class_id is not None:
            await require_class(db, principal, body.class_id)
        elif not principal.is_administration:
            raise Forbidden(
                "only the administration runs a whole school's statements", field="class_id"
            )
    run = await issue_statements(
        runtime,
        principal.school_id,
        body.month,
        now=now,
        class_id=body.class_id,
        actor=acting(principal),
    )
    return RunOut(month=run.month, issued=run.issued, unchanged=run.unchanged)
