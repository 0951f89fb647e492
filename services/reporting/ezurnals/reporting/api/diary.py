"""The diary (dienasgrāmata): a student's week of lessons, grades and attendance."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date, datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel
from pydantic_core import to_json

from ezurnals.reporting.api.common import WallClock, check_student, reads
from ezurnals.reporting.diary_cache import DiaryCache
from ezurnals.reporting.domain.calendar import week_days, week_of
from ezurnals.reporting.domain.diary import ExcuseState
from ezurnals.reporting.queries import DiaryWeek, excuse_record, mark_fields, reader_of
from ezurnals.shared.http.audit import AuditedRoute, record_read
from ezurnals.shared.http.auth import CurrentPrincipal

router = APIRouter(route_class=AuditedRoute, tags=["diary"])


class HomeworkOut(BaseModel):
    text: str
    links: list[str]
    due_date: date


class ExcuseOut(BaseModel):
    """Who excused an absence, when, as what and against which document (rule 4). ``excused_as``
    is None when the system settled it from a family's request the person had accepted."""

    excuse_id: UUID
    source: str
    document_type: str
    reference: str | None
    excused_by: UUID
    excused_as: str | None
    excused_at: datetime


class MarkOut(BaseModel):
    code: str
    counts_as_absence: bool
    is_late: bool
    minutes_late: int | None
    excuse: ExcuseState
    document_type: str | None
    excuse_record: ExcuseOut | None


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
    return GradeOut(**_grade_fields(*(r[name] for name in _GRADE_COLUMNS)))


#: What a grade row holds for ``GradeOut``, in the order ``_grade_fields`` takes it.
_GRADE_COLUMNS = (
    "grade_id",
    "subject_id",
    "subject",
    "given_on",
    "work_title",
    "work_kind",
    "summative",
    "value",
    "earlier_values",
)


def _grade_fields(
    grade_id: Any,
    subject_id: Any,
    subject: str | None,
    given_on: date,
    work_title: str,
    work_kind: str,
    summative: bool,
    value: str,
    earlier: Sequence[str],
) -> dict[str, Any]:
    """A ``GradeOut``'s fields, in its order: what was shown is every earlier value, then this."""
    earlier = list(earlier)
    return {
        "grade_id": grade_id,
        "subject_id": subject_id,
        "subject": subject,
        "given_on": given_on,
        "work_title": work_title,
        "work_kind": work_kind,
        "summative": summative,
        "value": value,
        "shown": "|".join([*earlier, value]),
        "corrected": bool(earlier),
        "earlier_values": earlier,
    }


def _grade(row: Sequence[Any]) -> dict[str, Any]:
    """A ``GradeOut`` as JSON-ready values from a row of the diary query's grades (its second
    column, the lesson, places the grade and is not part of it)."""
    grade_id, _, *rest = row
    return _grade_fields(grade_id, *rest)


def _homework(stored: Any) -> dict[str, Any] | None:
    """A ``HomeworkOut`` from the stored contract value (its canonical JSON), in its field order."""
    if not stored:
        return None
    return {"text": stored["text"], "links": stored["links"], "due_date": stored["due_date"]}


def _lesson(row: Sequence[Any], grades: list[dict[str, Any]]) -> dict[str, Any]:
    """A ``LessonOut`` as JSON-ready values, in its field order."""
    (lesson_id, day, period, starts_at, ends_at, room, subject_id, subject, teacher_id,
     substitute_teacher_id, cancelled, topic, homework, no_homework, corrected,
     code, counts_as_absence, is_late, minutes_late, excused_by_code, excused, document_type,
     pending, rejected, excuse_id, excuse_source, reference, excused_by, excused_as, excused_at,
     *_) = row  # fmt: skip
    return {
        "lesson_id": lesson_id,
        "date": day,
        "period": period,
        "starts_at": starts_at,
        "ends_at": ends_at,
        "room": room,
        "subject_id": subject_id,
        "subject": subject,
        "teacher_id": teacher_id,
        "substitute_teacher_id": substitute_teacher_id,
        "cancelled": cancelled,
        "recorded": topic is not None,
        "topic": topic,
        "homework": _homework(json.loads(homework)) if homework is not None else None,
        "no_homework": no_homework,
        "corrected": corrected,
        "grades": grades,
        "mark": None
        if code is None
        else mark_fields(
            code,
            counts_as_absence,
            is_late,
            minutes_late,
            excused_by_code,
            excused,
            document_type,
            pending,
            rejected,
            excuse_record(
                excuse_id,
                excuse_source,
                document_type,
                reference,
                excused_by,
                excused_as,
                excused_at,
            ),
        ),
    }


# The hot read of a school day: one query for the access check and the whole week, and the answer
# serialised straight from its rows (``DiaryOut``'s fields, order and JSON; the docstring is the
# OpenAPI description), not built as models that FastAPI would then validate and dump again.
# A family's week is kept answered in memory (``diary_cache``) until its rows change; the access
# check and the record of the read are made on every read all the same.
@router.get("/students/{student_id}/diary", response_model=DiaryOut)
async def diary(
    student_id: UUID,
    request: Request,
    principal: CurrentPrincipal,
    week: Annotated[str | None, Query(description="ISO week, e.g. 2025-W41")] = None,
    on: Annotated[date | None, Query(description="Any day of the week")] = None,
) -> Response:
    """Guardians see their own children, students themselves, staff per role; else 404."""
    name = week or week_of(on or date.today())
    first, last = week_days(name)
    cache: DiaryCache = request.app.state.diary_cache
    key = (principal.school_id, student_id, first)
    kept = None if principal.is_staff else cache.get(key)
    if kept is not None:
        check_student(reader_of(principal), kept.facts)
        record_read(request, [student_id], "diary")
        return Response(kept.body, media_type="application/json")
    with cache.filling() as ticket:
        async with reads(request) as db:
            found = await db.diary(principal, student_id, first, last)
        check_student(found.reader, found.student)
        record_read(request, [student_id], "diary")
        body = to_json(_document(found, student_id, name, first, last))
        if not principal.is_staff and found.student is not None:
            cache.put(key, found.student, body, ticket)
    return Response(body, media_type="application/json")


def _document(
    found: DiaryWeek, student_id: UUID, name: str, first: date, last: date
) -> dict[str, Any]:
    """``DiaryOut``'s fields, in its order, from the rows of the diary query."""
    lesson_ids = {row[0] for row in found.lessons}
    by_lesson: dict[str, list[dict[str, Any]]] = {}
    other: list[dict[str, Any]] = []
    for row in found.grades:
        if row[1] in lesson_ids:
            by_lesson.setdefault(row[1], []).append(_grade(row))
        else:
            other.append(_grade(row))
    return {
        "student_id": student_id,
        "week": name,
        "first_day": first,
        "last_day": last,
        "lessons": [_lesson(row, by_lesson.get(row[0], [])) for row in found.lessons],
        "other_grades": other,
    }
