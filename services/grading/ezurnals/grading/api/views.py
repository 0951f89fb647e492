"""Reading grades: the teacher's grade sheet, a student's grades, missing period grades."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query, Request

from ezurnals.grading import views
from ezurnals.grading.api.common import runtime_of
from ezurnals.shared.contracts.base import utcnow
from ezurnals.shared.contracts.grading import PeriodKind
from ezurnals.shared.contracts.school_year import SchoolYearInput
from ezurnals.shared.http.audit import AuditedRoute, record_read
from ezurnals.shared.http.auth import CurrentPrincipal

router = APIRouter(tags=["grade views"], route_class=AuditedRoute)
Year = Annotated[SchoolYearInput, Query()]


@router.get("/classes/{class_id}/subjects/{subject_id}/sheet")
async def grade_sheet(
    class_id: UUID, subject_id: UUID, request: Request, principal: CurrentPrincipal
) -> Any:
    """The class-subject grade sheet (its teacher, the class teacher, the administration)."""
    sheet = await views.grade_sheet(runtime_of(request), principal, class_id, subject_id, utcnow())
    record_read(request, [UUID(row["student_id"]) for row in sheet["students"]], "grade_sheet")
    return sheet


@router.get("/students/{student_id}/grades")
async def student_grades(
    student_id: UUID,
    request: Request,
    principal: CurrentPrincipal,
    school_year: Year | None = None,
) -> Any:
    """A student's grades: the student, their unrestricted guardians, their teachers for the
    subjects they teach, and the administration."""
    grades = await views.student_grades(
        runtime_of(request), principal, student_id, school_year, utcnow()
    )
    record_read(request, [student_id], "grades")
    return grades


@router.get("/missing-period-grades")
async def missing_period_grades(
    request: Request,
    principal: CurrentPrincipal,
    period: PeriodKind,
    school_year: Year,
    class_id: UUID | None = None,
    teacher_id: UUID | None = None,
) -> Any:
    """Class-subject periods still lacking period grades (administration: all; teacher: own)."""
    return await views.missing(
        runtime_of(request),
        principal,
        period,
        school_year,
        utcnow(),
        class_id=class_id,
        teacher_id=teacher_id,
    )
