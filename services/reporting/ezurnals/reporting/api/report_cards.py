"""Report cards (rule 8) per student and per class, and the class's summary journal."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

import asyncpg
from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel

from ezurnals.reporting.api.common import (
    PDF,
    DocumentRequest,
    acting,
    reads,
    require_class,
    require_student,
)
from ezurnals.reporting.documents import DisplayNames, report_cards_pdf, summary_journal_pdf
from ezurnals.reporting.domain.calendar import school_year
from ezurnals.reporting.domain.report_cards import (
    MissingGrade,
    ReportCard,
    SummaryJournal,
    assemble_report_cards,
    assemble_summary_journal,
)
from ezurnals.reporting.handlers import issue_report_cards
from ezurnals.reporting.queries import Reads
from ezurnals.shared.contracts.base import utcnow
from ezurnals.shared.contracts.reporting import ReportPeriod
from ezurnals.shared.domain import Conflict, NotFound
from ezurnals.shared.http.audit import AuditedRoute, record_read
from ezurnals.shared.http.auth import CurrentPrincipal
from ezurnals.shared.service import Runtime

router = APIRouter(route_class=AuditedRoute, tags=["report cards"])

SchoolYearQuery = Annotated[
    str, Query(alias="school_year", description="The school year, e.g. 2025/2026")
]


class IssueOut(BaseModel):
    school_year: str
    period: ReportPeriod
    issued: int
    unchanged: int


class ReadinessOut(BaseModel):
    school_year: str
    period: ReportPeriod
    students: int
    issued: int
    missing: list[MissingGrade]


class ReportCardSummary(BaseModel):
    school_year: str
    period: ReportPeriod
    class_id: UUID
    version: int
    issued_at: datetime


class ReportCardOut(BaseModel):
    report_card: ReportCard
    version: int
    content_sha256: str


def _missing(missing: list[MissingGrade]) -> Conflict:
    return Conflict(
        f"{len(missing)} finalised grade(s) missing; the report card cannot be issued yet",
        field="period",
        code="grades_missing",
        details={"missing": [m.model_dump(mode="json") for m in missing]},
    )


async def _class(db: Reads, principal: Any, class_id: UUID) -> asyncpg.Record:
    await require_class(db, principal, class_id)
    klass = await db.class_row(class_id, principal.school_id)
    assert klass is not None
    return klass


async def _school_name(db: Reads, school_id: UUID) -> str:
    school = await db.school(school_id)
    return str(school["name"]) if school else ""


@router.post("/classes/{class_id}/report-cards/{period}", response_model=IssueOut)
async def issue(
    class_id: UUID, period: ReportPeriod, request: Request, principal: CurrentPrincipal
) -> IssueOut:
    """The class teacher or the administration issues a class's cards; 409 lists what is
    missing. Unchanged cards stay as they are."""
    runtime: Runtime = request.app.state.runtime
    async with reads(request) as db:
        klass = await _class(db, principal, class_id)
    run = await issue_report_cards(runtime, klass, period, now=utcnow(), actor=acting(principal))
    return IssueOut(
        school_year=klass["school_year"], period=period, issued=run.issued, unchanged=run.unchanged
    )


@router.get("/classes/{class_id}/report-cards/{period}", response_model=ReadinessOut)
async def readiness(
    class_id: UUID, period: ReportPeriod, request: Request, principal: CurrentPrincipal
) -> ReadinessOut:
    """What still blocks the class's cards, and how many are issued."""
    async with reads(request) as db:
        klass = await _class(db, principal, class_id)
        facts = await db.class_facts(klass, period)
        issued = await db.conn.fetchval(
            "SELECT count(*) FROM report_cards WHERE class_id = $1 AND school_year = $2 "
            "AND period = $3",
            class_id,
            klass["school_year"],
            str(period),
        )
    _, missing = assemble_report_cards(facts, period)
    return ReadinessOut(
        school_year=klass["school_year"],
        period=period,
        students=len(facts.students),
        issued=issued,
        missing=missing,
    )


@router.post(
    "/classes/{class_id}/report-cards/{period}/pdf",
    response_class=Response,
    responses={200: {"content": {PDF: {}}}},
)
async def class_pdf(
    class_id: UUID,
    period: ReportPeriod,
    body: DocumentRequest,
    request: Request,
    principal: CurrentPrincipal,
) -> Response:
    """Every issued card of the class, one page each, in the order of the names given."""
    names = DisplayNames(body.names)
    async with reads(request) as db:
        klass = await _class(db, principal, class_id)
        rows = await db.conn.fetch(
            "SELECT content FROM report_cards WHERE class_id = $1 AND school_year = $2 "
            "AND period = $3",
            class_id,
            klass["school_year"],
            str(period),
        )
        if not rows:
            _, missing = assemble_report_cards(await db.class_facts(klass, period), period)
            if missing:
                raise _missing(missing)
            raise NotFound(f"no {period} report cards issued yet", field="period")
        school = await _school_name(db, principal.school_id)
    cards = sorted((r["content"] for r in rows), key=lambda c: names(c["student_id"]))
    pdf = await asyncio.to_thread(report_cards_pdf, school=school, cards=cards, names=names)
    return Response(pdf, media_type=PDF)


@router.get("/students/{student_id}/report-cards", response_model=list[ReportCardSummary])
async def list_cards(
    student_id: UUID, request: Request, principal: CurrentPrincipal
) -> list[ReportCardSummary]:
    async with reads(request) as db:
        await require_student(db, principal, student_id)
        record_read(request, [student_id], "report_card")
        rows = await db.conn.fetch(
            "SELECT school_year, period, class_id, version, issued_at FROM report_cards "
            "WHERE student_id = $1 AND school_id = $2 ORDER BY school_year DESC, period",
            student_id,
            principal.school_id,
        )
    return [ReportCardSummary.model_validate(dict(r)) for r in rows]


async def _card(db: Reads, school_id: UUID, student_id: UUID, year: str, period: str) -> Any:
    """The issued card; else 409 with the student's missing grades, or 404 while none are."""
    row = await db.conn.fetchrow(
        "SELECT content, version, content_sha256 FROM report_cards "
        "WHERE student_id = $1 AND school_year = $2 AND period = $3 AND school_id = $4",
        student_id,
        year,
        period,
        school_id,
    )
    if row is not None:
        return row
    enrolment = await db.fetchrow(
        """SELECT class_id FROM rm.enrolments WHERE student_id = $1 AND school_year = $2
           AND school_id = $3 ORDER BY from_day DESC LIMIT 1""",
        student_id,
        year,
        school_id,
    )
    klass = await db.class_row(enrolment["class_id"], school_id) if enrolment else None
    if klass is not None:
        _, missing = assemble_report_cards(
            await db.class_facts(klass, period), ReportPeriod(period)
        )
        own = [m for m in missing if m.student_id == student_id]
        if own:
            raise _missing(own)
    raise NotFound(f"no {period} report card for {year} issued yet", field="period")


@router.get("/students/{student_id}/report-cards/{period}", response_model=ReportCardOut)
async def get_card(
    student_id: UUID,
    period: ReportPeriod,
    request: Request,
    principal: CurrentPrincipal,
    year: SchoolYearQuery,
) -> ReportCardOut:
    year = school_year(year)
    async with reads(request) as db:
        await require_student(db, principal, student_id)
        record_read(request, [student_id], "report_card")
        row = await _card(db, principal.school_id, student_id, year, str(period))
    return ReportCardOut(
        report_card=ReportCard.model_validate(row["content"]),
        version=row["version"],
        content_sha256=row["content_sha256"],
    )


@router.post(
    "/students/{student_id}/report-cards/{period}/pdf",
    response_class=Response,
    responses={200: {"content": {PDF: {}}}},
)
async def student_pdf(
    student_id: UUID,
    period: ReportPeriod,
    body: DocumentRequest,
    request: Request,
    principal: CurrentPrincipal,
    year: SchoolYearQuery,
) -> Response:
    year = school_year(year)
    async with reads(request) as db:
        await require_student(db, principal, student_id)
        record_read(request, [student_id], "report_card")
        row = await _card(db, principal.school_id, student_id, year, str(period))
        school = await _school_name(db, principal.school_id)
    pdf = await asyncio.to_thread(
        report_cards_pdf, school=school, cards=[row["content"]], names=DisplayNames(body.names)
    )
    return Response(pdf, media_type=PDF)


async def _journal(db: Reads, klass: asyncpg.Record, order: DisplayNames | None) -> SummaryJournal:
    facts = await db.class_facts(klass, ReportPeriod.YEAR)
    students = sorted(facts.students, key=(lambda s: order(s)) if order else str)
    return assemble_summary_journal(facts, students)


@router.get("/classes/{class_id}/summary-journal", response_model=SummaryJournal)
async def summary_journal(
    class_id: UUID, request: Request, principal: CurrentPrincipal
) -> SummaryJournal:
    """The class's year: annual (or final), exam and re-exam grades, absence totals."""
    async with reads(request) as db:
        klass = await _class(db, principal, class_id)
        return await _journal(db, klass, None)


@router.post(
    "/classes/{class_id}/summary-journal/pdf",
    response_class=Response,
    responses={200: {"content": {PDF: {}}}},
)
async def summary_journal_document(
    class_id: UUID, body: DocumentRequest, request: Request, principal: CurrentPrincipal
) -> Response:
    names = DisplayNames(body.names)
    async with reads(request) as db:
        klass = await _class(db, principal, class_id)
        journal = await _journal(db, klass, names)
        school = await _school_name(db, principal.school_id)
    pdf = await asyncio.to_thread(
        summary_journal_pdf, school=school, journal=journal.model_dump(mode="json"), names=names
    )
    return Response(pdf, media_type=PDF)
