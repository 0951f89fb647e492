"""The diary (dienasgrāmata): a student's week of lessons, grades and attendance."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel

from ezurnals.reporting.api.common import WallClock, reads, require_student
from ezurnals.reporting.domain.calendar import week_days, week_of
from ezurnals.reporting.domain.diary import ExcuseState
from ezurnals.shared.http.audit import AuditedRoute, record_read
from ezurnals.shared.http.auth import CurrentPrincipal

router = APIRouter(route_class=AuditedRoute, tags=["diary"])


class HomeworkOut(BaseModel):
    text: str
    links: list[str]
    due_date: date


class MarkOut(BaseModel):
    code: str
    counts_as_absence: bool
    is_late: bool
    minutes_late: int | None
    excuse: ExcuseState
    document_type: str | None


class GradeOut(BaseModel):
    grade_id: UUID
    subject_id: UUID
    subject: str | None
    given_on: date
    work_title: str
    work_kind: str
    summative: bool
    value: str
    #: "5|7" when 5 was corrected to 7.
    shown: str
    corrected: bool
    earlier_values: list[str]


class LessonOut(BaseModel):
    lesson_id: UUID
    date: date
    period: int | None
    starts_at: WallClock | None
    ends_at: WallClock | None
    room: str | None
    subject_id: UUID | None
    subject: str | None
    teacher_id: UUID | None
    substitute_teacher_id: UUID | None
    cancelled: bool
    recorded: bool
    topic: str | None
    homework: HomeworkOut | None
    no_homework: bool
    corrected: bool
    grades: list[GradeOut]
    mark: MarkOut | None


class DiaryOut(BaseModel):
    student_id: UUID
    week: str
    first_day: date
    last_day: date
    lessons: list[LessonOut]
    #: Grades of the week not tied to one of its lessons.
    other_grades: list[GradeOut]


def grade_out(r: Any) -> GradeOut:
    earlier = list(r["earlier_values"])
    return GradeOut(
        grade_id=r["grade_id"],
        subject_id=r["subject_id"],
        subject=r["subject"],
        given_on=r["given_on"],
        work_title=r["work_title"],
        work_kind=r["work_kind"],
        summative=r["summative"],
        value=r["value"],
        shown="|".join([*earlier, r["value"]]),
        corrected=bool(earlier),
        earlier_values=earlier,
    )


@router.get("/students/{student_id}/diary", response_model=DiaryOut)
async def diary(
    student_id: UUID,
    request: Request,
    principal: CurrentPrincipal,
    week: Annotated[str | None, Query(description="ISO week, e.g. 2025-W41")] = None,
    on: Annotated[date | None, Query(description="Any day of the week")] = None,
) -> DiaryOut:
    """Guardians see their own children, students themselves, staff per role; else 404."""
    name = week or week_of(on or date.today())
    first, last = week_days(name)
    async with reads(request) as db:
        await require_student(db, principal, student_id)
        record_read(request, [student_id], "diary")
        found = await db.diary(student_id, first, last)
    marks = {m["lesson_id"]: m for m in found["marks"]}
    lesson_ids = {r["lesson_id"] for r in found["lessons"]}
    by_lesson: dict[UUID, list[GradeOut]] = {}
    other: list[GradeOut] = []
    for raw in found["grades"]:
        grade = grade_out(raw)
        if raw["lesson_id"] in lesson_ids:
            by_lesson.setdefault(raw["lesson_id"], []).append(grade)
        else:
            other.append(grade)
    lessons = [
        LessonOut(
            lesson_id=r["lesson_id"],
            date=r["lesson_date"],
            period=r["period"],
            starts_at=r["starts_at"],
            ends_at=r["ends_at"],
            room=r["room"],
            subject_id=r["subject_id"],
            subject=r["subject"],
            teacher_id=r["teacher_id"],
            substitute_teacher_id=r["substitute_teacher_id"],
            cancelled=r["cancelled"],
            recorded=r["topic"] is not None,
            topic=r["topic"],
            homework=HomeworkOut.model_validate(r["homework"]) if r["homework"] else None,
            no_homework=r["no_homework"],
            corrected=r["corrected"],
            grades=by_lesson.get(r["lesson_id"], []),
            mark=MarkOut.model_validate(marks[r["lesson_id"]]) if r["lesson_id"] in marks else None,
        )
        for r in found["lessons"]
    ]
    return DiaryOut(
        student_id=student_id,
        week=name,
        first_day=first,
        last_day=last,
        lessons=lessons,
        other_grades=other,
    )
