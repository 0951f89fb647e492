"""What families, class teachers and the administration read: a class's unexcused absences, a
student's absences per month, and the school's daily attendance report as CSV."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query, Request, Response

from ezurnals.attendance import handlers, queries
from ezurnals.attendance.api.common import now, runtime_of
from ezurnals.attendance.domain import Relationships, monthly_absences, unexcused_absences
from ezurnals.attendance.domain.access import require_read_class, require_read_student
from ezurnals.shared.auth import Principal
from ezurnals.shared.domain import Forbidden, NotFound, missing, require_seen
from ezurnals.shared.http.audit import AuditedRoute, record_read
from ezurnals.shared.http.auth import CurrentPrincipal

router = APIRouter(tags=["views"], route_class=AuditedRoute)


@router.get("/classes/{class_id}/unexcused-absences")
async def class_unexcused_absences(
    class_id: UUID, request: Request, principal: CurrentPrincipal
) -> list[dict[str, Any]]:
    """The class teacher of the class and the administration."""
    async with handlers.reading(runtime_of(request)) as conn:
        known = await conn.fetchval(
            "SELECT 1 FROM rm.classes WHERE class_id = $1 AND school_id = $2",
            class_id,
            principal.school_id,
        )
        if not known:
            raise missing("class", "class_id")
        today = await queries.today_in_school(conn, principal.school_id, now(request))
        rel = await queries.relationships(conn, principal, today)
        require_read_class(rel, class_id)
        members = await queries.class_members_ever(conn, class_id)
        students = await queries.students_absences(conn, principal.school_id, members)
    rows = unexcused_absences(students.values(), class_id)
    record_read(request, dict.fromkeys(r.student_id for r in rows), "unexcused_absences")
    return [row.model_dump(mode="json") for row in rows]


@router.get("/students/{student_id}/absences")
async def student_absences(
    student_id: UUID, request: Request, principal: CurrentPrincipal
) -> dict[str, Any]:
    """Per month, excused and unexcused lesson hours and late arrivals, and who excused which
    absence, when and against which document: the student, their guardians (unless
    restricted), their class teacher and the administration."""
    async with handlers.reading(runtime_of(request)) as conn:
        today = await queries.today_in_school(conn, principal.school_id, now(request))
        rel = await queries.relationships(conn, principal, today)
        require_read_student(rel, student_id)
        require_seen(
            await queries.student_in_school(conn, principal.school_id, student_id),
            "student",
            "student_id",
        )
        student = (await queries.students_absences(conn, principal.school_id, [student_id]))[
            student_id
        ]
        excuses = await queries.excuse_history(conn, principal.school_id, [student_id])
    record_read(request, [student_id], "absences")
    return {
        "student_id": str(student_id),
        "months": [
            {**row.model_dump(mode="json"), "absent_hours": row.absent_hours}
            for row in monthly_absences(student)
        ],
        "excuses": [e.model_dump(mode="json") for e in excuses],
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
        require_daily_report_reader(rel)
        day = date or today
        content = await queries.daily_report_csv(conn, principal.school_id, day)
    return csv_response(content, f"attendance-{day}.csv")


def csv_response(content: str, filename: str) -> Response:
    return Response(
        content=content,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def require_daily_report_reader(rel: Relationships) -> None:
    if not rel.administration:
        raise Forbidden("only the school administration reads the daily report")


async def _administration(request: Request, principal: Principal, conn: Any) -> None:
    today = await queries.today_in_school(conn, principal.school_id, now(request))
    require_daily_report_reader(await queries.relationships(conn, principal, today))


@router.get("/reports/daily")
async def stored_daily_reports(
    request: Request,
    principal: CurrentPrincipal,
    limit: Annotated[int, Query(ge=1, le=400)] = 60,
) -> list[dict[str, Any]]:
    """The reports the worker made at the school's set time, newest first: the administration
    only. Each is downloaded from ``download``."""
    async with handlers.reading(runtime_of(request)) as conn:
        await _administration(request, principal, conn)
        rows = await queries.stored_daily_reports(conn, principal.school_id, limit)
    return [
        {
            "date": row["report_date"].isoformat(),
            "generated_at": row["generated_at"].isoformat(),
            "download": f"/api/attendance/reports/daily/{row['report_date']}.csv",
        }
        for row in rows
    ]


@router.get("/reports/daily/{day}.csv")
async def stored_daily_report(
    day: dt.date, request: Request, principal: CurrentPrincipal
) -> Response:
    """One stored daily report as it was made: the administration only."""
    async with handlers.reading(runtime_of(request)) as conn:
        await _administration(request, principal, conn)
        content = await queries.stored_daily_report(conn, principal.school_id, day)
    if content is None:
        raise NotFound("no daily report was made for this day", field="day")
    return csv_response(content, f"attendance-{day}.csv")
