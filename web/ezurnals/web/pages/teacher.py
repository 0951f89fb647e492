"""A teacher's day: the lessons of a day, those still not recorded, and one lesson's screen where
the topic, homework, attendance and grades are saved together."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from starlette.datastructures import FormData

from ezurnals.web import ui
from ezurnals.web.backend import ApiError, Backend, Session

router = APIRouter(dependencies=[Depends(ui.signed_in)])

#: The kinds of work a grade is given for, as the grading service names them.
WORK_KINDS = ("classwork", "test", "homework", "oral", "project", "practical", "other")


async def labels(backend: Backend, current: Session) -> tuple[dict[str, str], dict[str, str]]:
    """Subject names and class labels by id; neither is personal data."""
    subjects, classes = await asyncio.gather(
        backend.call(current, "GET", "lessons", "/subjects"),
        backend.call(current, "GET", "identity", "/classes"),
    )
    return (
        {s["subject_id"]: s["name"] for s in subjects},
        {c["class_id"]: c["label"] for c in classes},
    )


def entry_deadline(
    policy: dict[str, Any], lesson_date: date, grade_level: int, zone: tzinfo
) -> datetime | None:
    """The school's deadline for this lesson: the policy version in force on its date, the band
    of its grade. Shown to the teacher; the lessons service decides lateness itself."""
    in_force = [v for v in policy.get("versions", []) if v["effective_from"] <= str(lesson_date)]
    if not in_force:
        return None
    rules = max(in_force, key=lambda v: str(v["effective_from"]))
    for band in rules["deadlines"]:
        if band["first_grade"] <= grade_level <= band["last_grade"]:
            return datetime.combine(lesson_date, time.fromisoformat(band["deadline"]), zone)
    return None


@router.get("/teacher")
async def teacher_day(request: Request, day: date | None = None) -> Response:
    current, backend = ui.session(request), ui.backend(request)
    today = ui.local_today(request)
    shown = day or today
    params = {
        "first_day": str(shown),
        "last_day": str(shown),
        "teacher_id": str(current.person_id),
    }
    lessons, still_open, (subjects, classes) = await asyncio.gather(
        backend.call(current, "GET", "lessons", "/lessons", params=params),
        backend.call(current, "GET", "lessons", "/open-lessons"),
        labels(backend, current),
    )
    return ui.render(
        request,
        "teacher_day.html",
        day=shown,
        today=today,
        previous_day=shown - timedelta(days=1),
        next_day=shown + timedelta(days=1),
        lessons=sorted(lessons, key=lambda x: (x["starts_at"], x["period"])),
        open_lessons=still_open,
        subjects=subjects,
        classes=classes,
    )


@dataclass
class LessonForm:
    """What the teacher typed, kept when something must be fixed."""

    topic: str = ""
    homework_text: str = ""
    homework_due: str = ""
    no_homework: bool = False
    absent: set[str] = field(default_factory=set)
    #: New grades for this lesson by student id, as typed ("7", "nv", "i").
    grades: dict[str, str] = field(default_factory=dict)
    work_title: str = ""
    work_kind: str = "classwork"

    @classmethod
    def of(cls, form: FormData) -> LessonForm:
        kind = str(form.get("work_kind", "classwork"))
        return cls(
            topic=str(form.get("topic", "")).strip(),
            homework_text=str(form.get("homework_text", "")).strip(),
            homework_due=str(form.get("homework_due", "")),
            no_homework=form.get("no_homework") == "1",
            absent={str(v) for v in form.getlist("absent")},
            grades={
                key.removeprefix("grade-"): str(value).strip()
                for key, value in form.multi_items()
                if key.startswith("grade-") and str(value).strip()
            },
            work_title=str(form.get("work_title", "")).strip(),
            work_kind=kind if kind in WORK_KINDS else "other",
        )

    @classmethod
    def saved(cls, lesson: dict[str, Any], attendance: dict[str, Any] | None) -> LessonForm:
        record = lesson.get("record") or {}
        homework = record.get("homework") or {}
        return cls(
            topic=record.get("topic") or "",
            homework_text=homework.get("text", ""),
            homework_due=homework.get("due_date", ""),
            no_homework=bool(record.get("no_homework")),
            absent=_absent(attendance),
        )

    def record(self) -> dict[str, Any]:
        body: dict[str, Any] = {"topic": self.topic, "no_homework": self.no_homework}
        if self.homework_text and not self.no_homework:
            body["homework"] = {"text": self.homework_text, "due_date": self.homework_due or None}
        return body


def _absent(attendance: dict[str, Any] | None) -> set[str]:
    if not attendance or not attendance.get("taken"):
        return set()
    return {
        m["student_id"] for m in attendance["marks"] if m["counts_as_absence"] and not m["is_late"]
    }


async def _attendance(backend: Backend, current: Session, lesson_id: str) -> dict[str, Any] | None:
    """None while the attendance service has not yet heard of the lesson (events are on their
    way from the lessons service)."""
    try:
        found: dict[str, Any] = await backend.call(
            current, "GET", "attendance", f"/lessons/{lesson_id}/attendance"
        )
    except ApiError as error:
        if error.status == 404:
            return None
        raise
    return found


async def _lesson_page(
    request: Request,
    lesson_id: str,
    form: LessonForm | None = None,
    *,
    error: ApiError | None = None,
    error_key: str | None = None,
    status: int = 200,
) -> Response:
    current, backend = ui.session(request), ui.backend(request)
    lesson = await backend.call(current, "GET", "lessons", f"/lessons/{lesson_id}")
    students, attendance, policy, (subjects, classes) = await asyncio.gather(
        backend.call(current, "GET", "identity", f"/classes/{lesson['class_id']}/students"),
        _attendance(backend, current, lesson_id),
        backend.call(current, "GET", "lessons", "/deadline-policy"),
        labels(backend, current),
    )
    sheet = await _sheet(backend, current, lesson)
    lesson_date = date.fromisoformat(lesson["lesson_date"])
    deadline = entry_deadline(policy, lesson_date, lesson["grade_level"], ui.zone(request))
    late_marks = {m["student_id"]: m for m in (attendance or {}).get("marks", []) if m["is_late"]}
    return ui.render(
        request,
        "lesson.html",
        status=status,
        lesson=lesson,
        lesson_id=lesson_id,
        students=students,
        attendance=attendance,
        late_marks=late_marks,
        form=form or LessonForm.saved(lesson, attendance),
        deadline=deadline,
        deadline_passed=deadline is not None and ui.local_now(request) > deadline,
        subject=subjects.get(lesson["subject_id"], ""),
        class_label=classes.get(lesson["class_id"], ""),
        sheet=sheet,
        given=_given(sheet, lesson_id),
        work_kinds=WORK_KINDS,
        error=error,
        error_key=error_key,
        saved=request.query_params.get("saved") == "1",
        nonce=ui.nonce(),
    )


@router.get("/lessons/{lesson_id}")
async def lesson_screen(request: Request, lesson_id: str) -> Response:
    return await _lesson_page(request, lesson_id)


@router.post("/lessons/{lesson_id}")
async def save_lesson(request: Request, lesson_id: str) -> Response:
    """The record first (it is what the deadline is about), then the attendance; a failure
    shows the form again with what was typed, and saving again completes what is missing."""
    current, backend = ui.session(request), ui.backend(request)
    form_data = await request.form()
    form = LessonForm.of(form_data)
    key = str(form_data.get("nonce", "")) or ui.nonce()
    try:
        lesson = await backend.call(current, "GET", "lessons", f"/lessons/{lesson_id}")
        await _save_record(backend, current, lesson, form, key)
        attendance = await _attendance(backend, current, lesson_id)
        if attendance is None:
            return await _lesson_page(
                request, lesson_id, form, error_key="attendance_unavailable", status=409
            )
        await _save_attendance(backend, current, lesson, attendance, form, key)
        await _save_grades(backend, current, lesson, form, key)
    except ApiError as error:
        if error.status == 404 or error.status >= 500:
            raise
        return await _lesson_page(request, lesson_id, form, error=error, status=error.status)
    return ui.redirect(f"/lessons/{lesson_id}", saved=1)


async def _sheet(
    backend: Backend, current: Session, lesson: dict[str, Any]
) -> dict[str, Any] | None:
    """The class-subject grade sheet (its scale and grades), or None where grades cannot be given
    here: no grading service, or the caller is not this subject's teacher."""
    if "grading" not in backend.urls:
        return None
    path = f"/classes/{lesson['class_id']}/subjects/{lesson['subject_id']}/sheet"
    try:
        found: dict[str, Any] = await backend.call(current, "GET", "grading", path)
    except ApiError as error:
        if error.status in (403, 404):
            return None
        raise
    return found


def _given(sheet: dict[str, Any] | None, lesson_id: str) -> dict[str, list[str]]:
    """Grades already given in this lesson, by student."""
    given: dict[str, list[str]] = {}
    for row in (sheet or {}).get("students", []):
        values = [g["value"] for g in row["grades"] if g.get("lesson_id") == lesson_id]
        if values:
            given[row["student_id"]] = values
    return given


async def _save_grades(
    backend: Backend, current: Session, lesson: dict[str, Any], form: LessonForm, key: str
) -> None:
    """One piece of work for the lesson; grade ids derived from the form's key make a repeated
    submit record nothing twice."""
    if not form.grades:
        return
    marks = [
        {
            "student_id": student,
            "value": value,
            "grade_id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"ezurnals:{key}:grade:{student}")),
        }
        for student, value in sorted(form.grades.items())
    ]
    work = {
        "title": form.work_title or form.topic or "-",
        "kind": form.work_kind,
        "lesson_id": lesson["lesson_id"],
        "given_on": lesson["lesson_date"],
    }
    await backend.call(
        current,
        "POST",
        "grading",
        f"/classes/{lesson['class_id']}/subjects/{lesson['subject_id']}/grades",
        json={"work": work, "marks": marks},
        idempotency_key=f"{key}-grades",
    )


async def _save_record(
    backend: Backend, current: Session, lesson: dict[str, Any], form: LessonForm, key: str
) -> None:
    body = form.record()
    lesson_id = lesson["lesson_id"]
    if not lesson["recorded"]:
        await backend.call(
            current,
            "POST",
            "lessons",
            f"/lessons/{lesson_id}/record",
            json=body,
            idempotency_key=f"{key}-record",
        )
    elif LessonForm.saved(lesson, None).record() != body:
        await backend.call(
            current,
            "POST",
            "lessons",
            f"/lessons/{lesson_id}/corrections",
            json=body,
            idempotency_key=f"{key}-correction",
        )


async def _save_attendance(
    backend: Backend,
    current: Session,
    lesson: dict[str, Any],
    attendance: dict[str, Any],
    form: LessonForm,
    key: str,
) -> None:
    lesson_id = lesson["lesson_id"]
    if not attendance["taken"]:
        marks = [{"student_id": s} for s in sorted(form.absent)]
        await backend.call(
            current,
            "POST",
            "attendance",
            f"/lessons/{lesson_id}/attendance",
            json={"all_present": not marks, "marks": marks},
            idempotency_key=f"{key}-attendance",
        )
        return
    before = _absent(attendance)
    for student in sorted(before ^ form.absent):
        await backend.call(
            current,
            "POST",
            "attendance",
            f"/lessons/{lesson_id}/attendance/corrections",
            json={"student_id": student, "present": student not in form.absent},
            idempotency_key=f"{key}-correction-{student}",
        )
