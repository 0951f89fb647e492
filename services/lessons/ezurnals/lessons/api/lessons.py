"""Lessons: reading them, recording and correcting them, substitutions, cancellations, and what
is still open."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from uuid import UUID

from fastapi import APIRouter, Request

from ezurnals.lessons import commands
from ezurnals.lessons.access import (
    may_read_class,
    require_administration,
    require_seen_lesson,
    require_staff,
)
from ezurnals.lessons.api.common import carry_out, reader_of, today
from ezurnals.lessons.api.models import CancellationIn, CorrectionIn, RecordIn, SubstitutionIn
from ezurnals.lessons.clock import now
from ezurnals.lessons.domain import (
    CorrectLessonRecord,
    RecordLesson,
    entry_deadline,
    local_instant,
)
from ezurnals.shared.domain import Forbidden, Invalid, require_seen
from ezurnals.shared.http.auth import CurrentPrincipal

router = APIRouter(tags=["lessons"])

#: How far back "open lessons" looks when no first day is given.
OPEN_LOOKBACK_DAYS = 90
MAX_LIST_DAYS = 400


@router.get("/lessons/{lesson_id}", operation_id="get_lesson")
async def get_lesson(lesson_id: UUID, request: Request, principal: CurrentPrincipal) -> Any:
    """The lesson with its record and every earlier version of it."""
    await require_seen_lesson(reader_of(request), principal, lesson_id)
    lesson = await reader_of(request).lesson_of(principal.school_id, lesson_id)
    return commands.LessonView.of(lesson)


@router.post("/lessons/{lesson_id}/record", status_code=201, operation_id="record_lesson")
async def record_lesson(
    lesson_id: UUID, body: RecordIn, request: Request, principal: CurrentPrincipal
) -> Any:
    """The topic and either homework or ``no_homework``; only the lesson's teacher or its
    substitute. After the entry deadline the record is kept and marked late."""
    await require_seen_lesson(reader_of(request), principal, lesson_id)
    entry = RecordLesson(**body.model_dump(), recorded_by=principal.person_id)
    cmd = commands.RecordLesson(school_id=principal.school_id, lesson_id=lesson_id, entry=entry)
    return await carry_out(request, principal, cmd)


@router.post("/lessons/{lesson_id}/corrections", status_code=201, operation_id="correct_lesson")
async def correct_lesson(
    lesson_id: UUID, body: CorrectionIn, request: Request, principal: CurrentPrincipal
) -> Any:
    """A new version of the record; the earlier ones stay in the history."""
    await require_seen_lesson(reader_of(request), principal, lesson_id)
    correction = CorrectLessonRecord(
        topic=body.topic,
        homework=body.homework,
        no_homework=body.no_homework,
        reason=body.reason,
        corrected_by=principal.person_id,
    )
    cmd = commands.CorrectLessonRecord(
        school_id=principal.school_id, lesson_id=lesson_id, correction=correction
    )
    return await carry_out(request, principal, cmd)


@router.post(
    "/lessons/{lesson_id}/substitution", status_code=201, operation_id="substitute_teacher"
)
async def substitute_teacher(
    lesson_id: UUID, body: SubstitutionIn, request: Request, principal: CurrentPrincipal
) -> Any:
    await require_seen_lesson(reader_of(request), principal, lesson_id)
    require_administration(principal)
    cmd = commands.SubstituteTeacher(
        school_id=principal.school_id,
        lesson_id=lesson_id,
        substitute_teacher_id=body.substitute_teacher_id,
    )
    return await carry_out(request, principal, cmd)


@router.post("/lessons/{lesson_id}/cancellation", status_code=201, operation_id="cancel_lesson")
async def cancel_lesson(
    lesson_id: UUID, body: CancellationIn, request: Request, principal: CurrentPrincipal
) -> Any:
    await require_seen_lesson(reader_of(request), principal, lesson_id)
    require_administration(principal)
    cmd = commands.CancelLesson(
        school_id=principal.school_id, lesson_id=lesson_id, reason=body.reason
    )
    return await carry_out(request, principal, cmd)


async def _scope(
    request: Request,
    principal: CurrentPrincipal,
    class_id: UUID | None,
    teacher_id: UUID | None,
    on: date,
) -> None:
    """A class's lessons for those who may read the class; a teacher's own lessons for that
    teacher; anyone else's, or the whole school's, for the administration."""
    if class_id is not None:
        known = await reader_of(request).school_class(principal.school_id, class_id)
        require_seen(known is not None, "class", "class_id")
        await may_read_class(reader_of(request), principal, class_id, on)
        return
    require_staff(principal)
    if teacher_id != principal.person_id and not principal.is_administration:
        raise Forbidden("only the administration may see other teachers' or the school's lessons")


@router.get("/lessons", operation_id="list_lessons")
async def list_lessons(
    first_day: date,
    last_day: date,
    request: Request,
    principal: CurrentPrincipal,
    class_id: UUID | None = None,
    teacher_id: UUID | None = None,
) -> list[dict[str, Any]]:
    if last_day < first_day or (last_day - first_day).days > MAX_LIST_DAYS:
        raise Invalid(f"give a range of 0–{MAX_LIST_DAYS} days", field="last_day")
    await _scope(request, principal, class_id, teacher_id, first_day)
    rows = await reader_of(request).lessons(
        principal.school_id,
        first_day=first_day,
        last_day=last_day,
        class_id=class_id,
        teacher_id=teacher_id,
    )
    return [_listed(r) for r in rows]


@router.get("/open-lessons", operation_id="open_lessons")
async def open_lessons(
    request: Request,
    principal: CurrentPrincipal,
    class_id: UUID | None = None,
    teacher_id: UUID | None = None,
    first_day: date | None = None,
) -> list[dict[str, Any]]:
    """Lessons that have started and still have no record, with their deadline and whether it
    has passed — for a teacher (yourself by default), a class, or the whole school."""
    if class_id is None and teacher_id is None and not principal.is_administration:
        teacher_id = principal.person_id
    zone, local_today = await today(request, principal.school_id)
    earliest = local_today - timedelta(days=MAX_LIST_DAYS)
    if first_day is not None and not earliest <= first_day <= local_today:
        raise Invalid(
            f"first_day must be from {earliest.isoformat()} to {local_today.isoformat()} "
            f"(at most {MAX_LIST_DAYS} days back)",
            field="first_day",
            code="out_of_range",
            details={"first_day": earliest.isoformat(), "last_day": local_today.isoformat()},
        )
    await _scope(request, principal, class_id, teacher_id, local_today)
    at = now(request)
    policy = await reader_of(request).deadline_schedule(principal.school_id)
    rows = await reader_of(request).lessons(
        principal.school_id,
        first_day=first_day or local_today - timedelta(days=OPEN_LOOKBACK_DAYS),
        last_day=local_today,
        class_id=class_id,
        teacher_id=teacher_id,
        only_open=True,
    )
    found = []
    for row in rows:
        if local_instant(row["lesson_date"], row["starts_at"], zone) > at:
            continue
        deadline = entry_deadline(row["lesson_date"], row["grade_level"], policy, zone)
        found.append({**_listed(row), "deadline": deadline.isoformat(), "overdue": deadline <= at})
    return found


#: What a lesson list shows of each lesson (everything but the internal ids of the row).
LISTED = (
    "lesson_id",
    "class_id",
    "subject_id",
    "teacher_id",
    "substitute_teacher_id",
    "timetable_id",
    "slot_id",
    "lesson_date",
    "starts_at",
    "ends_at",
    "period",
    "room",
    "grade_level",
    "cancelled",
    "recorded",
    "topic",
    "no_homework",
    "late",
    "minutes_late",
    "overdue",
)


def _listed(row: dict[str, Any]) -> dict[str, Any]:
    return {k: row[k] for k in (*LISTED, "homework")}
