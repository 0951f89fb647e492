"""The administration's views of the school: entry compliance (rule 2), open lessons, absence
statistics per class and month, grade distributions per subject."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Annotated
from uuid import UUID

import asyncpg
from fastapi import APIRouter, Query, Request
from pydantic import BaseModel

from ezurnals.reporting.api.common import reads
from ezurnals.reporting.domain.access import may_administer
from ezurnals.reporting.domain.calendar import (
    day_span,
    local_day,
    month_days,
    school_year,
    school_year_of,
)
from ezurnals.reporting.domain.compliance import EntryState, entry_deadline, entry_state
from ezurnals.reporting.queries import Reads
from ezurnals.shared.auth.principal import Principal
from ezurnals.shared.contracts.base import utcnow
from ezurnals.shared.contracts.grading import Term
from ezurnals.shared.contracts.reporting import Month
from ezurnals.shared.domain import Forbidden, NotFound
from ezurnals.shared.http.auth import CurrentPrincipal

router = APIRouter(prefix="/administration", tags=["administration"])

#: The longest span one compliance or open-lessons request covers.
MAX_DAYS = 92
FromQuery = Annotated[
    date | None, Query(alias="from", description="First day (default: 92 days up to the last)")
]
ToQuery = Annotated[date | None, Query(alias="to", description="Last day (default: today)")]


class EntryCounts(BaseModel):
    lessons: int = 0
    on_time: int = 0
    late: int = 0
    overdue: int = 0
    open: int = 0


class TeacherDay(EntryCounts):
    teacher_id: UUID
    day: date


class ComplianceOut(BaseModel):
    first_day: date
    last_day: date
    rows: list[TeacherDay]
    totals: EntryCounts


class OpenLesson(BaseModel):
    lesson_id: UUID
    date: date
    period: int | None
    class_id: UUID
    subject_id: UUID | None
    teacher_id: UUID | None
    state: EntryState
    #: None while lessons' deadline policy for the day has not arrived.
    deadline: datetime | None
    missing: list[str]


class ClassAbsences(BaseModel):
    class_id: UUID
    label: str
    grade_level: int
    absences_excused: int
    absences_unexcused: int
    lates: int
    students_absent: int


class AbsencesOut(BaseModel):
    month: str
    classes: list[ClassAbsences]


class SubjectDistribution(BaseModel):
    subject_id: UUID
    subject: str | None
    scale: str
    grades: int
    counts: dict[str, int]
    average: str | None


async def _administration(db: Reads, principal: Principal) -> None:
    if not may_administer(await db.reader(principal)):
        raise Forbidden("these views are for the school's administration")


async def _span(
    db: Reads, principal: Principal, first: date | None, last: date | None
) -> tuple[date, date, str]:
    school = await db.school(principal.school_id)
    if school is None:
        raise NotFound("no such school", field="school_id")
    last = last or local_day(utcnow(), school["time_zone"])
    first, last = day_span(first, last, default_first=None, max_days=MAX_DAYS)
    return first, last, str(school["time_zone"])


async def _entries(
    db: Reads, principal: Principal, first: date, last: date, zone: str, teacher: UUID | None
) -> list[tuple[asyncpg.Record, EntryState, datetime | None]]:
    policies = await db.deadline_policies(principal.school_id)
    now = utcnow()
    out = []
    for r in await db.entry_lessons(principal.school_id, first, last, teacher):
        deadline = entry_deadline(r["lesson_date"], r["grade_level"] or 12, policies, zone)
        state = entry_state(
            recorded=r["recorded"],
            flagged_late=r["entry_late"],
            flagged_overdue=r["overdue"],
            deadline=deadline,
            now=now,
        )
        out.append((r, state, deadline))
    return out


@router.get("/compliance", response_model=ComplianceOut)
async def compliance(
    request: Request,
    principal: CurrentPrincipal,
    first: FromQuery = None,
    last: ToQuery = None,
    teacher_id: UUID | None = None,
) -> ComplianceOut:
    """Per teacher and day: lessons entered on time, late, overdue, or still open (rule 2)."""
    async with reads(request) as db:
        await _administration(db, principal)
        first, last, zone = await _span(db, principal, first, last)
        entries = await _entries(db, principal, first, last, zone, teacher_id)
    days: dict[tuple[UUID, date], TeacherDay] = {}
    totals = EntryCounts()
    for lesson, state, _ in entries:
        key = (lesson["teacher_id"], lesson["lesson_date"])
        row = days.setdefault(key, TeacherDay(teacher_id=key[0], day=key[1]))
        for counts in (row, totals):
            counts.lessons += 1
            setattr(counts, state.value, getattr(counts, state.value) + 1)
    rows = sorted(days.values(), key=lambda r: (r.day, str(r.teacher_id)))
    return ComplianceOut(first_day=first, last_day=last, rows=rows, totals=totals)


@router.get("/open-lessons", response_model=list[OpenLesson])
async def open_lessons(
    request: Request,
    principal: CurrentPrincipal,
    first: FromQuery = None,
    last: ToQuery = None,
    teacher_id: UUID | None = None,
) -> list[OpenLesson]:
    """Lessons given so far that lack their topic or their attendance."""
    async with reads(request) as db:
        await _administration(db, principal)
        first, last, zone = await _span(db, principal, first, last)
        entries = await _entries(db, principal, first, last, zone, teacher_id)
        today = local_day(utcnow(), zone)
    out = []
    for lesson, state, deadline in entries:
        missing = [
            what
            for what, done in (
                ("topic", lesson["recorded"]),
                ("attendance", lesson["attendance_taken"]),
            )
            if not done
        ]
        if missing and lesson["lesson_date"] <= today:
            out.append(
                OpenLesson(
                    lesson_id=lesson["lesson_id"],
                    date=lesson["lesson_date"],
                    period=lesson["period"],
                    class_id=lesson["class_id"],
                    subject_id=lesson["subject_id"],
                    teacher_id=lesson["teacher_id"],
                    state=state,
                    deadline=deadline,
                    missing=missing,
                )
            )
    return out


@router.get("/absences", response_model=AbsencesOut)
async def absences(month: Month, request: Request, principal: CurrentPrincipal) -> AbsencesOut:
    """Per class of the month's school year: missed lessons (excused, unexcused), late arrivals."""
    first, last = month_days(month)
    async with reads(request) as db:
        await _administration(db, principal)
        rows = await db.absence_statistics(principal.school_id, school_year_of(first), first, last)
    return AbsencesOut(
        month=month,
        classes=[
            ClassAbsences(
                class_id=r["class_id"],
                label=r["label"],
                grade_level=r["grade_level"],
                absences_excused=r["excused"],
                absences_unexcused=r["unexcused"],
                lates=r["lates"],
                students_absent=r["students_absent"],
            )
            for r in rows
        ],
    )


@router.get("/grades", response_model=list[SubjectDistribution])
async def grade_distribution(
    request: Request,
    principal: CurrentPrincipal,
    year: Annotated[str, Query(alias="school_year", description="e.g. 2025/2026")],
    class_id: UUID | None = None,
    term: Term | None = None,
) -> list[SubjectDistribution]:
    """How often each value was given per subject (current values; corrections count once)."""
    year = school_year(year)
    async with reads(request) as db:
        await _administration(db, principal)
        rows = await db.grade_distribution(
            principal.school_id, year, class_id, str(term) if term else None
        )
    grouped: dict[tuple[UUID, str], list[asyncpg.Record]] = defaultdict(list)
    for r in rows:
        grouped[(r["subject_id"], r["scale"])].append(r)
    out = []
    for (subject_id, scale), group in grouped.items():
        points = sum(r["points"] or 0 for r in group)
        with_points = sum(r["with_points"] for r in group)
        average = (
            str((Decimal(points) / with_points).quantize(Decimal("0.01"), ROUND_HALF_UP))
            if with_points
            else None
        )
        out.append(
            SubjectDistribution(
                subject_id=subject_id,
                subject=group[0]["subject"],
                scale=scale,
                grades=sum(r["n"] for r in group),
                counts={r["value"]: r["n"] for r in group},
                average=average,
            )
        )
    return out
