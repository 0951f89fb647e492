"""The administration's pages: entry compliance and open lessons (rule 2), safety briefings
(rule 3), and the school's policies (entry deadlines, excuses, passwords). Report cards and
summary journals are on each class's page."""

from __future__ import annotations

import asyncio
import re
import unicodedata
from datetime import date, timedelta
from typing import Any
from uuid import UUID

from fastapi import APIRouter, Depends, Request, Response
from starlette.datastructures import FormData

from ezurnals.shared.auth import STAFF_ROLES, Role
from ezurnals.web import ui
from ezurnals.web.backend import ApiError
from ezurnals.web.pages.family import person_name
from ezurnals.web.pages.teacher import labels

router = APIRouter(dependencies=[Depends(ui.signed_in)])

#: Days the compliance view covers when none are chosen.
DEFAULT_SPAN_DAYS = 30
#: Teachers named on the compliance page; each name is one audited read in identity.
NAMED_TEACHERS = 60
#: The staff roles, in the order the form lists them (rule 9 rotates staff passwords only).
PASSWORD_ROLES = tuple(role.value for role in Role if role in STAFF_ROLES)


def _day(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def name_key(name: str) -> str:
    """A stable key from a display name: "Ugunsdrošība" → "ugunsdrosiba"."""
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    key = re.sub(r"[^a-z0-9]+", "-", plain).strip("-")
    return (key or "x")[:80]


@router.get("/admin")
async def compliance(
    request: Request, first: str | None = None, last: str | None = None
) -> Response:
    """Per teacher and day: lessons entered on time, late, overdue or still open; and the lessons
    still missing their topic or attendance."""
    current, backend = ui.session(request), ui.backend(request)
    last_day = _day(last) or ui.local_today(request)
    first_day = _day(first) or last_day - timedelta(days=DEFAULT_SPAN_DAYS - 1)
    span = {"from": str(first_day), "to": str(last_day)}
    error = None
    try:
        found, still_open = await asyncio.gather(
            backend.call(current, "GET", "reporting", "/administration/compliance", params=span),
            backend.call(current, "GET", "reporting", "/administration/open-lessons", params=span),
        )
    except ApiError as refused:
        if refused.status >= 500 or refused.status in (403, 404):
            raise
        error, found, still_open = refused, {"rows": [], "totals": {}}, []
    (subjects, classes) = await labels(backend, current)
    teachers = sorted(
        {str(r["teacher_id"]) for r in found["rows"] if r["teacher_id"]}
        | {str(x["teacher_id"]) for x in still_open if x["teacher_id"]}
    )[:NAMED_TEACHERS]
    names = await asyncio.gather(*(person_name(backend, current, UUID(t)) for t in teachers))
    return ui.render(
        request,
        "admin.html",
        first=first_day,
        last=last_day,
        compliance=found,
        open_lessons=still_open,
        teachers=dict(zip(teachers, names, strict=True)),
        subjects=subjects,
        classes=classes,
        error=error,
    )


async def _briefings_page(
    request: Request,
    *,
    class_id: str | None = None,
    type_id: str | None = None,
    error: ApiError | None = None,
    status: int = 200,
) -> Response:
    current, backend = ui.session(request), ui.backend(request)
    types, classes = await asyncio.gather(
        backend.call(current, "GET", "lessons", "/briefing-types"),
        backend.call(current, "GET", "identity", "/classes"),
    )
    not_briefed = None
    if class_id and type_id:
        found, students = await asyncio.gather(
            backend.call(
                current,
                "GET",
                "lessons",
                f"/classes/{class_id}/not-briefed",
                params={"briefing_type_id": type_id},
            ),
            backend.call(current, "GET", "identity", f"/classes/{class_id}/students"),
        )
        names = {s["person_id"]: f"{s['last_name']} {s['first_name']}" for s in students}
        not_briefed = [names.get(s, s) for s in found["student_ids"]]
    return ui.render(
        request,
        "admin_briefings.html",
        status=status,
        types=types,
        classes=classes,
        class_id=class_id,
        type_id=type_id,
        not_briefed=not_briefed,
        today=ui.local_today(request),
        error=error,
        nonce=ui.nonce(),
    )


@router.get("/admin/briefings")
async def briefings(
    request: Request, class_id: UUID | None = None, briefing_type_id: UUID | None = None
) -> Response:
    return await _briefings_page(
        request,
        class_id=str(class_id) if class_id else None,
        type_id=str(briefing_type_id) if briefing_type_id else None,
    )


@router.post("/admin/briefings")
async def briefings_action(request: Request) -> Response:
    """Define a briefing type, or record that a class was briefed."""
    current, backend = ui.session(request), ui.backend(request)
    form = await request.form()
    key = str(form.get("nonce", "")) or None
    action = str(form.get("action", ""))
    try:
        if action == "define":
            name = str(form.get("name", "")).strip()
            await backend.call(
                current,
                "POST",
                "lessons",
                "/briefing-types",
                json={"name": name, "name_key": name_key(name)},
                idempotency_key=key,
            )
            notice = "saved"
        else:
            await backend.call(
                current,
                "POST",
                "lessons",
                "/briefings",
                json={
                    "briefing_type_id": str(form.get("briefing_type_id", "")),
                    "class_id": str(form.get("class_id", "")) or None,
                    "conducted_on": str(form.get("conducted_on", "")),
                    "topic": str(form.get("topic", "")).strip(),
                },
                idempotency_key=key,
            )
            notice = "briefing_recorded"
    except ApiError as error:
        if error.status >= 500:
            raise
        return await _briefings_page(request, error=error, status=error.status)
    return ui.redirect("/admin/briefings", notice=notice)


async def _policies_page(
    request: Request, *, error: ApiError | None = None, status: int = 200
) -> Response:
    current, backend = ui.session(request), ui.backend(request)
    deadlines, attendance, passwords = await asyncio.gather(
        backend.call(current, "GET", "lessons", "/deadline-policy"),
        backend.call(current, "GET", "attendance", "/settings"),
        backend.call(current, "GET", "identity", "/password-policies"),
    )
    grading: dict[str, Any] | None = None
    if "grading" in backend.urls:
        grading = await backend.call(current, "GET", "grading", "/settings")
    versions = sorted(deadlines["versions"], key=lambda v: v["effective_from"], reverse=True)
    return ui.render(
        request,
        "admin_policies.html",
        status=status,
        versions=versions,
        attendance=attendance,
        grading=grading,
        password_roles=PASSWORD_ROLES,
        # The form starts from what identity has in force for the first role it lists.
        password_policy=next(p["in_force"] for p in passwords if p["role"] == PASSWORD_ROLES[0]),
        today=ui.local_today(request),
        error=error,
        nonce=ui.nonce(),
    )


@router.get("/admin/policies")
async def policies(request: Request) -> Response:
    return await _policies_page(request)


def _int(value: Any) -> int | str:
    """A number as typed, or the text itself so the service names the field it refuses."""
    text = str(value or "").strip()
    return int(text) if text.isdigit() else text


def _bands(form: FormData) -> list[dict[str, Any]]:
    """The grade bands as the form lists them: the bands of lessons' latest version, each with
    its new time (lessons alone knows how the grades are banded)."""
    return [
        {"first_grade": _int(first), "last_grade": _int(last), "deadline": str(at)}
        for first, last, at in zip(
            form.getlist("first_grade"),
            form.getlist("last_grade"),
            form.getlist("deadline"),
            strict=False,
        )
    ]


@router.post("/admin/policies")
async def set_policy(request: Request) -> Response:
    """A new version of one policy, in force from its date; earlier versions stay."""
    current, backend = ui.session(request), ui.backend(request)
    form = await request.form()
    key = str(form.get("nonce", "")) or None
    which = str(form.get("policy", ""))
    since = str(form.get("effective_from", ""))
    try:
        if which == "deadlines":
            await backend.call(
                current,
                "POST",
                "lessons",
                "/deadline-policy",
                json={
                    "effective_from": since,
                    "deadlines": _bands(form),
                    "consultation_cutoff": str(form.get("consultation_cutoff", "")),
                },
                idempotency_key=key,
            )
        elif which == "excuses":
            thresholds = [
                _int(x) for x in str(form.get("unexcused_thresholds", "")).split(",") if x.strip()
            ]
            await backend.call(
                current,
                "PUT",
                "attendance",
                "/settings/excuse-policy",
                json={
                    "effective_from": since,
                    "parent_note_max_days": _int(form.get("parent_note_max_days")),
                    "unexcused_thresholds": thresholds,
                },
                idempotency_key=key,
            )
        elif which == "passwords":
            await backend.call(
                current,
                "POST",
                "identity",
                "/password-policies",
                json={
                    "role": str(form.get("role", "")),
                    "effective_from": since,
                    "max_age_days": _int(form.get("max_age_days")),
                    "min_length": _int(form.get("min_length")),
                    "require_totp": form.get("require_totp") == "1",
                },
                idempotency_key=key,
            )
        else:
            return ui.render(request, "error.html", status=404, message_key="not_found")
    except ApiError as error:
        if error.status >= 500:
            raise
        return await _policies_page(request, error=error, status=error.status)
    return ui.redirect("/admin/policies", notice="saved")
