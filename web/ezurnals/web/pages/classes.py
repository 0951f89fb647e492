"""The class page for its class teacher and the administration: the class's unexcused absences,
family access letters, monthly statements, report cards and the summary journal as PDFs."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Form, Request, Response

from ezurnals.shared.contracts.school_year import planned_year_of
from ezurnals.web import ui
from ezurnals.web.backend import ApiError, Backend, Session
from ezurnals.web.pages.family import person_name

router = APIRouter(dependencies=[Depends(ui.signed_in)])

PERIODS = ("semester1", "semester2", "year")


def last_month(today: date) -> str:
    """Statements are issued for a month that has ended: the form offers the one just ended."""
    ended = today.replace(day=1) - timedelta(days=1)
    return f"{ended.year:04d}-{ended.month:02d}"


def school_year_of(day: date) -> str:
    """The school year the classes of ``day`` belong to (opened from July)."""
    return planned_year_of(day)


async def display_names(backend: Backend, current: Session, class_id: str) -> dict[str, str]:
    """Names printed on the class's documents: its students and the signed-in person (the class
    teacher signs them). Sent with each request; the reporting service keeps none."""
    students, me = await asyncio.gather(
        backend.call(current, "GET", "identity", f"/classes/{class_id}/students"),
        person_name(backend, current, current.person_id) if current.person_id else _nothing(),
    )
    names = {s["person_id"]: f"{s['first_name']} {s['last_name']}" for s in students}
    if me and current.person_id:
        names[str(current.person_id)] = me
    return names


async def _nothing() -> str:
    return ""


async def _readiness(
    backend: Backend, current: Session, class_id: str, period: str
) -> dict[str, Any] | None:
    try:
        found: dict[str, Any] = await backend.call(
            current, "GET", "reporting", f"/classes/{class_id}/report-cards/{period}"
        )
    except ApiError as error:
        if error.status >= 500 and error.status != 503:
            raise
        return None
    return found


async def class_page(
    request: Request,
    class_id: str | None,
    *,
    period: str = "semester1",
    error: ApiError | None = None,
    status: int = 200,
) -> Response:
    current, backend = ui.session(request), ui.backend(request)
    classes = await backend.call(current, "GET", "identity", "/classes")
    year = school_year_of(ui.local_today(request))
    listed = [c for c in classes if c["school_year"] == year] or classes
    me = str(current.person_id)
    own = (
        [c["class_id"] for c in classes if c["class_teacher_id"] == me]
        if "class_teacher" in current.roles
        else []
    )
    if not ui.is_administration(request):
        listed = [c for c in listed if c["class_id"] in own]
    known = {c["class_id"] for c in listed}
    chosen = (
        class_id
        if class_id in known
        else next((c for c in own if c in known), listed[0]["class_id"] if listed else None)
    )
    if chosen is None:
        return ui.render(request, "class.html", status=status, classes=[], klass=None)
    period = period if period in PERIODS else "semester1"
    students, absences, readiness = await asyncio.gather(
        backend.call(current, "GET", "identity", f"/classes/{chosen}/students"),
        backend.call(current, "GET", "attendance", f"/classes/{chosen}/unexcused-absences"),
        _readiness(backend, current, chosen, period),
    )
    names = {s["person_id"]: f"{s['last_name']} {s['first_name']}" for s in students}
    today = ui.local_today(request)
    return ui.render(
        request,
        "class.html",
        status=status,
        classes=listed,
        klass=next(c for c in listed if c["class_id"] == chosen),
        students=students,
        names=names,
        absences=absences,
        readiness=readiness,
        period=period,
        periods=PERIODS,
        month=request.query_params.get("month") or last_month(today),
        error=error,
    )


@router.get("/class")
async def class_overview(
    request: Request, class_id: str | None = None, period: str = "semester1"
) -> Response:
    return await class_page(request, class_id, period=period)


async def _document(
    request: Request,
    class_id: str,
    service: str,
    path: str,
    filename: str,
    *,
    period: str = "semester1",
    **kwargs: Any,
) -> Response:
    """A PDF from a service, or the class page again saying why there is none."""
    current, backend = ui.session(request), ui.backend(request)
    try:
        found = await backend.call(current, "POST", service, path, raw=True, **kwargs)
    except ApiError as error:
        if error.status >= 500:
            raise
        return await class_page(request, class_id, period=period, error=error, status=error.status)
    return ui.pdf(found.content, filename)


async def _issue(
    request: Request,
    class_id: UUID,
    path: str,
    *,
    done: dict[str, str],
    period: str = "semester1",
    json: dict[str, str] | None = None,
) -> Response:
    """Have reporting issue the class's documents: back to the class page saying so (``done``),
    or saying why not."""
    try:
        await ui.backend(request).call(ui.session(request), "POST", "reporting", path, json=json)
    except ApiError as error:
        if error.status >= 500:
            raise
        return await class_page(
            request, str(class_id), period=period, error=error, status=error.status
        )
    return ui.redirect("/class", class_id=class_id, **done)


@router.post("/class/{class_id}/access-letters")
async def access_letters(
    request: Request, class_id: UUID, deliver: Annotated[str, Form(max_length=5)] = ""
) -> Response:
    """New codes for every student and guardian of the class without an account, one letter
    per family to print; earlier codes stop working."""
    return await _document(
        request,
        str(class_id),
        "identity",
        f"/classes/{class_id}/access-letters",
        "piekluves-vestules.pdf",
        params={"deliver": "true" if deliver == "1" else "false"},
    )


@router.post("/class/{class_id}/statements")
async def statements(
    request: Request,
    class_id: UUID,
    month: Annotated[str, Form(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")],
    action: Annotated[str, Form(pattern=r"^(issue|pdf)$")] = "pdf",
) -> Response:
    """Issue the month's statements of the class (again: unchanged ones stay), or print them."""
    if action == "issue":
        return await _issue(
            request,
            class_id,
            "/statements/runs",
            json={"month": month, "class_id": str(class_id)},
            done={"month": month, "notice": "statements_issued"},
        )
    current, backend = ui.session(request), ui.backend(request)
    names = await display_names(backend, current, str(class_id))
    return await _document(
        request,
        str(class_id),
        "reporting",
        f"/classes/{class_id}/statements/{month}/pdf",
        f"izraksti-{month}.pdf",
        json={"names": names},
    )


@router.post("/class/{class_id}/report-cards")
async def report_cards(
    request: Request,
    class_id: UUID,
    period: Annotated[str, Form(pattern=r"^(semester1|semester2|year)$")],
    action: Annotated[str, Form(pattern=r"^(issue|pdf)$")] = "pdf",
) -> Response:
    """Issue the class's report cards (409 lists the missing grades), or print them."""
    if action == "issue":
        return await _issue(
            request,
            class_id,
            f"/classes/{class_id}/report-cards/{period}",
            period=period,
            done={"period": period, "notice": "cards_issued"},
        )
    current, backend = ui.session(request), ui.backend(request)
    names = await display_names(backend, current, str(class_id))
    return await _document(
        request,
        str(class_id),
        "reporting",
        f"/classes/{class_id}/report-cards/{period}/pdf",
        f"liecibas-{period}.pdf",
        period=period,
        json={"names": names},
    )


@router.post("/class/{class_id}/summary-journal")
async def summary_journal(request: Request, class_id: UUID) -> Response:
    current, backend = ui.session(request), ui.backend(request)
    names = await display_names(backend, current, str(class_id))
    return await _document(
        request,
        str(class_id),
        "reporting",
        f"/classes/{class_id}/summary-journal/pdf",
        "kopsavilkuma-zurnals.pdf",
        json={"names": names},
    )
