"""What families, class teachers and the administration read: a class's unexcused absences, a
student's absences per month, and the school's daily attendance report as CSV."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query, Request, Response

from ezurnals.attendance import handlers, queries
from ezurnals.attendance.api.common import now, runtime_of
from ezurnals.attendance.domain import (
    ClassOfDay,
    daily_attendance,
    daily_attendance_csv,
    monthly_absences,
    unexcused_absences,
)
from ezurnals.attendance.domain.access import require_read_class, require_read_student
from ezurnals.shared.domain import Forbidden, NotFound
from ezurnals.shared.http.auth import CurrentPrincipal

router = APIRouter(tags=["views"])


@router.get("/classes/{class_id}/unexcused-absences")
async def class_unexcused_absences(
    class_id: UUID, request: Request, principal: CurrentPrincipal
) -> list[dict[str, Any]]:
    """The class teacher of the class and the administration."""
    async with handlers.reading(runtime_of(request)) as conn:
        known = await conn.fetchval(
            "SELECT 1 FROM rm.att_classes WHERE class_id = $1 AND school_id = $2",
            class_id,
            principal.school_id,
        )
        if not known:
            raise NotFound("no such class", field="class_id")
        today = await queries.today_in_school(conn, principal.school_id, now(request))
        rel = await queries.relationships(conn, principal, today)
        require_read_class(rel, class_id)
        members = await queries.class_members_ever(conn, class_id)
        students = await queries.students_absences(conn, principal.school_id, members)
    return [row.model_dump(mode="json") for row in unexcused_absences(students.values(), class_id)]


@router.get("/students/{student_id}/absences")
async def student_absences(
    student_id: UUID, request: Request, principal: CurrentPrincipal
) -> dict[str, Any]:
    """Per month, excused and unexcused lesson hours and late arrivals: the student, their
    guardians (unless restricted), their class teacher and the administration."""
    async with handlers.reading(runtime_of(request)) as conn:
        today = await queries.today_in_school(conn, principal.school_id, now(request))
        rel = await queries.relationships(conn, principal, today)
        require_read_student(rel, student_id)
        if not await queries.student_in_school(conn, principal.school_id, student_id):
            raise NotFound("no such student", field="student_id")
        student = (await queries.students_absences(conn, principal.school_id, [student_id]))[
            student_id
        ]
    return {
        "student_id": str(student_id),
        "months": [
            {**row.model_dump(mode="json"), "absent_hours": row.absent_hours}
            for row in monthly_absences(student)
        ],
    }


@router.get("/reports/daily.csv")
async def daily_report(
    request: Request,
    principal: CurrentPrincipal,
    date: Annotated[dt.date | None, Query(description="the school day; today if left out")] = None,
) -> Response:
    """Per class, how many students are in school on the day (e.g. for the canteen): the
    administration only."""
    async with handlers.reading(runtime_of(request)) as conn:
        today = await queries.today_in_school(conn, principal.school_id, now(request))
        rel = await queries.relationships(conn, principal, today)
        if not rel.administration:
            raise Forbidden("only the school administration reads the daily report")
        day = date or today
        classes = await queries.classes_on(conn, principal.school_id, day)
        lessons = await queries.lessons_attendance(
            conn, await queries.lessons_on(conn, principal.school_id, day)
        )
    rows = daily_attendance(
        day,
        [ClassOfDay(class_id=c.class_id, name=c.name, enrolled=len(c.roster)) for c in classes],
        lessons,
    )
    return Response(
        content=daily_attendance_csv(day, rows),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="attendance-{day}.csv"'},
    )
