"""The diary of a parent's child or a student's own, week by week, and submitting an excuse for
the week's absences."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from datetime import date, timedelta
from typing import Any, get_args
from uuid import UUID

from fastapi import APIRouter, Depends, Request, Response
from starlette.datastructures import UploadFile

from ezurnals.shared.contracts.attendance import DocumentType
from ezurnals.web import ui
from ezurnals.web.backend import ApiError, Backend, Session

router = APIRouter(dependencies=[Depends(ui.signed_in)])

#: Attendance's list, as its contract spells it (rule 4): one list for the form and the service.
DOCUMENT_TYPES: tuple[str, ...] = get_args(DocumentType)
#: Absences a family may still ask to excuse.
EXCUSABLE = frozenset({"unexcused", "rejected"})


def students_of(current: Session) -> list[UUID]:
    """Whose diary this person may open: their children, or themself as a student."""
    found = list(current.children)
    if "student" in current.roles and current.person_id is not None:
        found.insert(0, current.person_id)
    return found


async def person_name(backend: Backend, current: Session, person_id: UUID) -> str:
    path = "/me" if person_id == current.person_id else f"/people/{person_id}"
    try:
        found = await backend.call(current, "GET", "identity", path)
    except ApiError:
        return ""
    data = found.get("personal_data") or {}
    return f"{data.get('first_name', '')} {data.get('last_name', '')}".strip()


def _week(week: str | None, on: date | None, today: date) -> date:
    """The Monday of the week asked for: "2026-W48", any day of it, or this week."""
    if week:
        try:
            year, number = week.split("-W")
            return date.fromisocalendar(int(year), int(number), 1)
        except ValueError:
            pass
    day = on or today
    return day - timedelta(days=day.weekday())


def _iso_week(monday: date) -> str:
    year, number, _ = monday.isocalendar()
    return f"{year:04d}-W{number:02d}"


async def _diary_page(
    request: Request,
    student: UUID | None,
    monday: date,
    *,
    error: ApiError | None = None,
    typed: dict[str, Any] | None = None,
    status: int = 200,
) -> Response:
    current, backend = ui.session(request), ui.backend(request)
    students = students_of(current)
    if not students:
        return ui.render(request, "diary.html", status=status, students=[], names={})
    chosen = student if student in students else students[0]
    week = _iso_week(monday)
    diary, requests, *names = await asyncio.gather(
        backend.call(
            current, "GET", "reporting", f"/students/{chosen}/diary", params={"week": week}
        ),
        backend.call(
            current, "GET", "attendance", "/excuse-requests", params={"student_id": str(chosen)}
        ),
        *(person_name(backend, current, s) for s in students),
    )
    days: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for lesson in diary["lessons"]:
        days[lesson["date"]].append(lesson)
    # A request just submitted reaches the diary through Kafka a moment later; until then the
    # attendance service's own list says which lessons already wait for a decision.
    waiting = {
        lesson_id for r in requests if r["status"] == "submitted" for lesson_id in r["lesson_ids"]
    }
    for lesson in diary["lessons"]:
        mark = lesson["mark"]
        if mark and mark["excuse"] == "unexcused" and lesson["lesson_id"] in waiting:
            mark["excuse"] = "pending"
    excusable = [
        lesson
        for lesson in diary["lessons"]
        if lesson["mark"]
        and lesson["mark"]["counts_as_absence"]
        and lesson["mark"]["excuse"] in EXCUSABLE
    ]
    return ui.render(
        request,
        "diary.html",
        status=status,
        students=students,
        names=dict(zip(students, names, strict=True)),
        student=chosen,
        diary=diary,
        days=sorted(days.items()),
        week=week,
        monday=monday,
        previous_week=_iso_week(monday - timedelta(days=7)),
        next_week=_iso_week(monday + timedelta(days=7)),
        this_week=_iso_week(_week(None, None, ui.local_today(request))),
        excusable=excusable,
        requests=requests,
        document_types=DOCUMENT_TYPES,
        typed=typed or {},
        error=error,
        nonce=ui.nonce(),
    )


@router.get("/diary")
async def diary(
    request: Request,
    student: UUID | None = None,
    week: str | None = None,
    on: date | None = None,
) -> Response:
    monday = _week(week, on, ui.local_today(request))
    return await _diary_page(request, student, monday)


@router.post("/diary/excuse")
async def submit_excuse(request: Request) -> Response:
    """Multipart to the attendance service, with the attachment passed on as it came."""
    current, backend = ui.session(request), ui.backend(request)
    form = await request.form()
    try:
        student = UUID(str(form.get("student", "")))
    except ValueError:
        return ui.render(
            request, "error.html", status=422, message_key="invalid_request", detail="student"
        )
    monday = _week(str(form.get("week", "")), None, ui.local_today(request))
    typed = {
        "lesson_ids": [str(v) for v in form.getlist("lesson_ids")],
        "reason": str(form.get("reason", "")),
        "document_type": str(form.get("document_type", "parent_note")),
    }
    files = {}
    upload = form.get("attachment")
    if isinstance(upload, UploadFile) and upload.filename:
        content = await upload.read()
        if content:
            files["attachment"] = (upload.filename, content, upload.content_type)
    try:
        await backend.call(
            current,
            "POST",
            "attendance",
            "/excuse-requests",
            data={"student_id": str(student), **typed},
            files=files or None,
            idempotency_key=str(form.get("nonce", "")) or None,
        )
    except ApiError as error:
        if error.status >= 500:
            raise
        return await _diary_page(
            request, student, monday, error=error, typed=typed, status=error.status
        )
    return ui.redirect("/diary", student=student, week=_iso_week(monday), notice="excuse_submitted")


def _chosen(current: Session, student: UUID | None) -> tuple[list[UUID], UUID | None]:
    students = students_of(current)
    if not students:
        return students, None
    return students, student if student in students else students[0]


async def _names(backend: Backend, current: Session, students: list[UUID]) -> dict[UUID, str]:
    names = await asyncio.gather(*(person_name(backend, current, s) for s in students))
    return dict(zip(students, names, strict=True))


@router.get("/grades")
async def grades(request: Request, student: UUID | None = None) -> Response:
    """Every grade of the school year by subject, with the final period grades."""
    current, backend = ui.session(request), ui.backend(request)
    students, chosen = _chosen(current, student)
    if chosen is None:
        return ui.render(request, "grades.html", students=[], names={})
    if "grading" not in backend.urls:
        return ui.render(request, "error.html", status=503, message_key="unavailable")
    found, names = await asyncio.gather(
        backend.call(current, "GET", "grading", f"/students/{chosen}/grades"),
        _names(backend, current, students),
    )
    by_subject: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for grade in sorted(found["grades"], key=lambda g: g["given_on"]):
        by_subject[grade["subject_name"] or ""].append(grade)
    periods: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for period in found["period_grades"]:
        periods[period["subject_name"] or ""].append(period)
    return ui.render(
        request,
        "grades.html",
        students=students,
        names=names,
        student=chosen,
        subjects=sorted(set(by_subject) | set(periods)),
        by_subject=by_subject,
        periods=periods,
    )


@router.get("/access-log")
async def access_log(request: Request, student: UUID | None = None, mine: bool = False) -> Response:
    """Who read the child's data, in which service, when (rule 10); the family's own reads
    only when asked for, as they would bury the school's."""
    current, backend = ui.session(request), ui.backend(request)
    students, chosen = _chosen(current, student)
    if chosen is None:
        return ui.render(request, "access_log.html", students=[], names={})
    entries, names = await asyncio.gather(
        backend.call(current, "GET", "identity", f"/people/{chosen}/access-log"),
        _names(backend, current, students),
    )
    me = str(current.person_id)
    own = sum(1 for e in entries if e["actor_id"] == me)
    shown = entries if mine else [e for e in entries if e["actor_id"] != me]
    return ui.render(
        request,
        "access_log.html",
        students=students,
        names=names,
        student=chosen,
        entries=shown[:SHOWN_ACCESSES],
        more=max(0, len(shown) - SHOWN_ACCESSES),
        own=own,
        mine=mine,
        me=me,
    )


#: Accesses listed on the page; the newest come first.
SHOWN_ACCESSES = 200
NOTIFICATION_EVENTS = (
    "absence_recorded",
    "grade_recorded",
    "excuse_decided",
    "statement_ready",
    "absence_threshold",
)
CHANNELS = ("email", "sms")


def _settings_of(form: Any) -> dict[str, Any]:
    """The form as the reporting API's settings: empty fields are absent (None)."""

    def text(name: str) -> str | None:
        value = str(form.get(name, "")).strip()
        return value or None

    threshold = text("absence_threshold")
    return {
        "email": text("email"),
        "phone": text("phone"),
        "channels": [c for c in CHANNELS if c in form.getlist("channels")],
        "events": [e for e in NOTIFICATION_EVENTS if e in form.getlist("events")],
        "absence_threshold": int(threshold) if threshold and threshold.isdigit() else threshold,
        "delivery": text("delivery") or "immediate",
        "digest_at": text("digest_at") or "18:00",
        "quiet_from": text("quiet_from"),
        "quiet_to": text("quiet_to"),
    }


def _settings_page(
    request: Request, settings: dict[str, Any], *, error: ApiError | None = None, status: int = 200
) -> Response:
    return ui.render(
        request,
        "notifications.html",
        status=status,
        settings=settings,
        events=NOTIFICATION_EVENTS,
        channels=CHANNELS,
        error=error,
    )


@router.get("/notifications")
async def notification_settings(request: Request) -> Response:
    current, backend = ui.session(request), ui.backend(request)
    found = await backend.call(current, "GET", "reporting", "/notifications/settings")
    return _settings_page(request, found)


@router.post("/notifications")
async def save_notification_settings(request: Request) -> Response:
    current, backend = ui.session(request), ui.backend(request)
    form = await request.form()
    if form.get("stop") == "1":
        await backend.call(current, "DELETE", "reporting", "/notifications/settings")
        return ui.redirect("/notifications", notice="notifications_stopped")
    settings = _settings_of(form)
    try:
        await backend.call(current, "PUT", "reporting", "/notifications/settings", json=settings)
    except ApiError as error:
        if error.status >= 500:
            raise
        return _settings_page(request, settings, error=error, status=error.status)
    return ui.redirect("/notifications", notice="saved")
