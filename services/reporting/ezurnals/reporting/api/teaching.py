"""Teachers' views: a subject's class journal (students × lessons) and the class teacher's
overview of the class (absences, unexcused, subjects without grades, pending excuse requests)."""

from __future__ import annotations

from datetime import date
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel

from ezurnals.reporting.api.common import reads, require_class
from ezurnals.reporting.api.diary import ExcuseOut, GradeOut, grade_out
from ezurnals.reporting.domain.access import may_read_class_journal
from ezurnals.reporting.domain.calendar import day_span, local_day, year_days
from ezurnals.reporting.domain.diary import ExcuseState
from ezurnals.reporting.queries import Reads
from ezurnals.shared.auth.principal import Principal
from ezurnals.shared.contracts.base import utcnow
from ezurnals.shared.domain import require_seen
from ezurnals.shared.http.auth import CurrentPrincipal

router = APIRouter(tags=["teaching"])

#: The longest span one journal or overview request covers: a school year.
MAX_DAYS = 366
FromQuery = Annotated[date | None, Query(alias="from")]
ToQuery = Annotated[date | None, Query(alias="to")]


class JournalLesson(BaseModel):
    lesson_id: UUID
    date: date
    period: int | None
    topic: str | None
    recorded: bool
    cancelled: bool
    no_homework: bool
    teacher_id: UUID | None


class Cell(BaseModel):
    code: str
    excuse: ExcuseState
    excuse_record: ExcuseOut | None


class JournalGrade(GradeOut):
    lesson_id: UUID | None


class JournalStudent(BaseModel):
    student_id: UUID
    #: Attendance marks by lesson id.
    marks: dict[UUID, Cell]
    grades: list[JournalGrade]


class ClassJournalOut(BaseModel):
    class_id: UUID
    subject_id: UUID
    first_day: date
    last_day: date
    lessons: list[JournalLesson]
    students: list[JournalStudent]


class PendingRequest(BaseModel):
    request_id: UUID
    student_id: UUID
    covers_from: date | None
    covers_to: date | None
    lessons: int


class StudentOverview(BaseModel):
    student_id: UUID
    absences: int
    unexcused: int
    lates: int
    subjects_without_grades: list[UUID]
    pending_excuse_requests: int


class ClassOverviewOut(BaseModel):
    class_id: UUID
    first_day: date
    last_day: date
    students: list[StudentOverview]
    pending_requests: list[PendingRequest]


async def _span(
    db: Reads, principal: Principal, klass_year: str, first: date | None, last: date | None
) -> tuple[date, date]:
    """Defaults: the class's school year up to today."""
    school = await db.school(principal.school_id)
    year_first, year_last = year_days(klass_year)
    today = local_day(utcnow(), school["time_zone"]) if school else date.today()
    last = last or min(today, year_last)
    in_year = year_first <= last <= year_last
    return day_span(first, last, default_first=year_first if in_year else None, max_days=MAX_DAYS)


@router.get("/classes/{class_id}/journal", response_model=ClassJournalOut)
async def class_journal(
    class_id: UUID,
    subject_id: UUID,
    request: Request,
    principal: CurrentPrincipal,
    first: FromQuery = None,
    last: ToQuery = None,
) -> ClassJournalOut:
    """For the subject's teachers, the class teacher and the administration; else 404."""
    async with reads(request) as db:
        klass = await db.class_row(class_id, principal.school_id)
        seen = klass is not None and may_read_class_journal(
            await db.reader(principal), class_id, subject_id
        )
        require_seen(seen, "class", "class_id")
        assert klass is not None
        first, last = await _span(db, principal, klass["school_year"], first, last)
        students = await db.students_between(principal.school_id, first, last, class_id)
        found = await db.class_journal(class_id, subject_id, first, last)
    marks: dict[UUID, dict[UUID, Cell]] = {s.student_id: {} for s in students}
    for m in found["marks"]:
        if m["student_id"] in marks:
            marks[m["student_id"]][m["lesson_id"]] = Cell(
                code=m["code"], excuse=m["excuse"], excuse_record=m["excuse_record"]
            )
    grades: dict[UUID, list[JournalGrade]] = {s.student_id: [] for s in students}
    for g in found["grades"]:
        if g["student_id"] in grades:
            grades[g["student_id"]].append(
                JournalGrade(**grade_out(g).model_dump(), lesson_id=g["lesson_id"])
            )
    return ClassJournalOut(
        class_id=class_id,
        subject_id=subject_id,
        first_day=first,
        last_day=last,
        lessons=[
            JournalLesson(
                lesson_id=r["lesson_id"],
                date=r["lesson_date"],
                period=r["period"],
                topic=r["topic"],
                recorded=r["topic"] is not None,
                cancelled=r["cancelled"],
                no_homework=r["no_homework"],
                teacher_id=r["teacher_id"],
            )
            for r in found["lessons"]
        ],
        students=[
            JournalStudent(
                student_id=s.student_id, marks=marks[s.student_id], grades=grades[s.student_id]
            )
            for s in students
        ],
    )


@router.get("/classes/{class_id}/overview", response_model=ClassOverviewOut)
async def class_overview(
    class_id: UUID,
    request: Request,
    principal: CurrentPrincipal,
    first: FromQuery = None,
    last: ToQuery = None,
) -> ClassOverviewOut:
    """For the class teacher and the administration; else 404."""
    async with reads(request) as db:
        await require_class(db, principal, class_id)
        klass = await db.class_row(class_id, principal.school_id)
        assert klass is not None
        first, last = await _span(db, principal, klass["school_year"], first, last)
        found = await db.class_overview(principal.school_id, class_id, first, last)
    pending: dict[UUID, int] = {}
    for r in found["pending"]:
        pending[r["student_id"]] = pending.get(r["student_id"], 0) + 1
    taught = sorted(found["taught"], key=lambda r: (r["name"] or "", str(r["subject_id"])))
    rows = []
    for student in found["students"]:
        a = found["absences"].get(student)
        rows.append(
            StudentOverview(
                student_id=student,
                absences=a["absences"] if a else 0,
                unexcused=a["unexcused"] if a else 0,
                lates=a["lates"] if a else 0,
                subjects_without_grades=[
                    t["subject_id"]
                    for t in taught
                    if (student, t["subject_id"]) not in found["graded"]
                ],
                pending_excuse_requests=pending.get(student, 0),
            )
        )
    return ClassOverviewOut(
        class_id=class_id,
        first_day=first,
        last_day=last,
        students=rows,
        pending_requests=[
            PendingRequest(
                request_id=r["request_id"],
                student_id=r["student_id"],
                covers_from=r["covers_from"],
                covers_to=r["covers_to"],
                lessons=len(r["lesson_ids"]),
            )
            for r in found["pending"]
        ],
    )
