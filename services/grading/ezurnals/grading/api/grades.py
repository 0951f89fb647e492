"""A class-subject grade book: grades, corrections, period grades, finalisation and unlocking."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from ezurnals.grading import handlers
from ezurnals.grading.api.common import respond_on_book
from ezurnals.grading.domain import CorrectGrade, PeriodGradeEntry, SetPeriodGrades, UnlockPeriod
from ezurnals.shared.contracts.grading import PeriodKind
from ezurnals.shared.http.auth import CurrentPrincipal

router = APIRouter(tags=["grades"])
BOOK = "/classes/{class_id}/subjects/{subject_id}"
Reason = Annotated[str, Field(min_length=1, max_length=500)]


class CorrectionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    value: Annotated[str, Field(min_length=1, max_length=16)]
    reason: Reason


class PeriodGradesIn(BaseModel):
    """Period grades for one student or many; an entry without a value confirms the suggestion."""

    model_config = ConfigDict(extra="forbid")

    entries: Annotated[tuple[PeriodGradeEntry, ...], Field(min_length=1, max_length=60)]


class UnlockIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Reason


@router.post(f"{BOOK}/grades", status_code=201)
async def record_grades(
    class_id: UUID,
    subject_id: UUID,
    body: handlers.GradeWork,
    request: Request,
    principal: CurrentPrincipal,
    response: Response,
) -> Any:
    """Grade one student or the whole class for one piece of work (the assigned teacher)."""
    return await respond_on_book(
        request,
        principal,
        response,
        handlers.record_grades,
        class_id,
        subject_id,
        body,
        lesson_id=body.work.lesson_id,
        calendar=True,
    )


@router.post(f"{BOOK}/grades/{{grade_id}}/corrections")
async def correct_grade(
    class_id: UUID,
    subject_id: UUID,
    grade_id: UUID,
    body: CorrectionIn,
    request: Request,
    principal: CurrentPrincipal,
    response: Response,
) -> Any:
    """Change a grade, saying why; the old value stays in its history (the assigned teacher)."""
    cmd = CorrectGrade(grade_id=grade_id, value=body.value, reason=body.reason)
    return await respond_on_book(
        request, principal, response, handlers.correct_grade, class_id, subject_id, cmd
    )


@router.put(f"{BOOK}/periods/{{period}}/grades")
async def set_period_grades(
    class_id: UUID,
    subject_id: UUID,
    period: PeriodKind,
    body: PeriodGradesIn,
    request: Request,
    principal: CurrentPrincipal,
    response: Response,
) -> Any:
    """Confirm or override the suggested period grades (the assigned teacher)."""
    cmd = SetPeriodGrades(period=period, entries=body.entries)
    return await respond_on_book(
        request, principal, response, handlers.set_period_grades, class_id, subject_id, cmd
    )


@router.post(f"{BOOK}/periods/{{period}}/finalize")
async def finalize_period(
    class_id: UUID,
    subject_id: UUID,
    period: PeriodKind,
    request: Request,
    principal: CurrentPrincipal,
    response: Response,
) -> Any:
    """Make every student's period grade final and lock the period (the assigned teacher or
    the administration)."""
    return await respond_on_book(
        request, principal, response, handlers.finalize_period, class_id, subject_id, period
    )


@router.post(f"{BOOK}/periods/{{period}}/unlock")
async def unlock_period(
    class_id: UUID,
    subject_id: UUID,
    period: PeriodKind,
    body: UnlockIn,
    request: Request,
    principal: CurrentPrincipal,
    response: Response,
) -> Any:
    """Reopen a finalised period, saying why (deputy director or director)."""
    cmd = UnlockPeriod(period=period, reason=body.reason)
    return await respond_on_book(
        request, principal, response, handlers.unlock_period, class_id, subject_id, cmd
    )
