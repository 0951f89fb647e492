"""Taking and correcting a lesson's attendance (rule 2), and reading it back."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from ezurnals.attendance import handlers, queries
from ezurnals.attendance.api.common import answer, now, runtime_of
from ezurnals.attendance.domain import CorrectMark, MarkEntry, TakeAttendance
from ezurnals.attendance.domain.access import require_read_lesson
from ezurnals.shared.http.audit import AuditedRoute, record_read
from ezurnals.shared.http.auth import CurrentPrincipal

router = APIRouter(tags=["lesson attendance"], route_class=AuditedRoute)


class MarkIn(BaseModel):
    """No code: the school's default absent code, or its late code when minutes are given."""

    model_config = ConfigDict(extra="forbid")
    student_id: UUID
    code: str | None = Field(default=None, min_length=1, max_length=8)
    minutes_late: int | None = None


class TakeAttendanceIn(BaseModel):
    """Marks for the absent and late students only; ``all_present`` says explicitly that there
    are none."""

    model_config = ConfigDict(extra="forbid")
    all_present: bool = False
    marks: list[MarkIn] = Field(default_factory=list, max_length=60)


class CorrectMarkIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    student_id: UUID
    present: bool = False
    code: str | None = Field(default=None, min_length=1, max_length=8)
    minutes_late: int | None = None
    reason: str | None = Field(default=None, max_length=500)


@router.post("/lessons/{lesson_id}/attendance", status_code=201)
async def take_attendance(
    lesson_id: UUID,
    body: TakeAttendanceIn,
    request: Request,
    principal: CurrentPrincipal,
    response: Response,
) -> Any:
    """The lesson's teacher or substitute, in one action; after the entry deadline it is
    accepted and marked as a late entry."""
    cmd = TakeAttendance(
        lesson_id=lesson_id,
        all_present=body.all_present,
        marks=tuple(MarkEntry(**m.model_dump()) for m in body.marks),
    )
    return await answer(request, principal, response, "teacher", handlers.take_attendance, cmd)


@router.post("/lessons/{lesson_id}/attendance/corrections")
async def correct_mark(
    lesson_id: UUID,
    body: CorrectMarkIn,
    request: Request,
    principal: CurrentPrincipal,
    response: Response,
) -> Any:
    """Change one student's mark; the earlier marks stay in the history."""
    cmd = CorrectMark(lesson_id=lesson_id, **body.model_dump())
    return await answer(request, principal, response, "teacher", handlers.correct_mark, cmd)


@router.get("/lessons/{lesson_id}/attendance")
async def read_attendance(
    lesson_id: UUID, request: Request, principal: CurrentPrincipal
) -> dict[str, Any]:
    """The lesson's teacher, the class teacher and the administration see the marks, every
    correction and who excused which absence, when and against which document."""
    runtime = runtime_of(request)
    async with handlers.reading(runtime) as conn:
        lesson = await queries.lesson(conn, principal.school_id, lesson_id)
        today = await queries.today_in_school(conn, principal.school_id, now(request))
        rel = await queries.relationships(conn, principal, today, lesson=lesson)
        require_read_lesson(rel, lesson_id, lesson.context.class_id)
        attendance = await queries.lesson_attendance(runtime.store, lesson_id, conn=conn)
        marked = [*attendance.marks, *(c.student_id for c in attendance.corrections)]
        excuses = await queries.excuse_history(
            conn, principal.school_id, dict.fromkeys(marked), lesson_id=lesson_id
        )
    record_read(request, dict.fromkeys(marked), "lesson_attendance")
    return {
        "lesson_id": str(lesson_id),
        "class_id": str(lesson.context.class_id),
        "date": lesson.context.date.isoformat(),
        "taken": attendance.taken,
        "all_present": attendance.all_present,
        "late_entry": attendance.late_entry,
        "marks": [m.model_dump(mode="json") for m in attendance.marks.values()],
        "corrections": [c.model_dump(mode="json") for c in attendance.corrections],
        "excuses": [e.model_dump(mode="json") for e in excuses],
    }
