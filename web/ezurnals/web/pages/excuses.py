"""The class teacher's excuse requests: what the families submitted, to accept or reject."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Form, Request, Response

from ezurnals.web import ui
from ezurnals.web.backend import ApiError, Backend, Session
from ezurnals.web.pages.family import person_name
from ezurnals.web.pages.teacher import labels

router = APIRouter(dependencies=[Depends(ui.signed_in)])

#: Lessons looked up per request to show their dates; a longer list shows the count only.
SHOWN_LESSONS = 12


async def _lesson(backend: Backend, current: Session, lesson_id: str) -> dict[str, Any] | None:
    try:
        found: dict[str, Any] = await backend.call(
            current, "GET", "lessons", f"/lessons/{lesson_id}"
        )
    except ApiError:
        return None
    return found


async def _excuses_page(
    request: Request, *, error: ApiError | None = None, status: int = 200
) -> Response:
    current, backend = ui.session(request), ui.backend(request)
    requests, (subjects, _) = await asyncio.gather(
        backend.call(current, "GET", "attendance", "/excuse-requests"),
        labels(backend, current),
    )
    students = sorted({r["student_id"] for r in requests})
    waiting = [r for r in requests if r["status"] == "submitted"]
    wanted = sorted({lid for r in waiting for lid in r["lesson_ids"][:SHOWN_LESSONS]})
    names, lessons = await asyncio.gather(
        asyncio.gather(*(person_name(backend, current, UUID(s)) for s in students)),
        asyncio.gather(*(_lesson(backend, current, lid) for lid in wanted)),
    )
    return ui.render(
        request,
        "excuses.html",
        status=status,
        waiting=waiting,
        decided=[r for r in requests if r["status"] != "submitted"],
        names=dict(zip(students, names, strict=True)),
        lessons={lid: found for lid, found in zip(wanted, lessons, strict=True) if found},
        subjects=subjects,
        shown_lessons=SHOWN_LESSONS,
        error=error,
        nonce=ui.nonce(),
    )


@router.get("/excuses")
async def excuses(request: Request) -> Response:
    return await _excuses_page(request)


@router.post("/excuses/{request_id}/{decision}")
async def decide(
    request: Request,
    request_id: str,
    decision: str,
    reason: Annotated[str, Form(max_length=2000)] = "",
    nonce: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    if decision not in ("accept", "reject"):
        return ui.render(request, "error.html", status=404, message_key="not_found")
    current, backend = ui.session(request), ui.backend(request)
    body = {"reason": reason} if decision == "reject" else None
    try:
        await backend.call(
            current,
            "POST",
            "attendance",
            f"/excuse-requests/{request_id}/{decision}",
            json=body,
            idempotency_key=f"{nonce}-{request_id}" if nonce else None,
        )
    except ApiError as error:
        if error.status >= 500:
            raise
        return await _excuses_page(request, error=error, status=error.status)
    return ui.redirect("/excuses", notice="accepted" if decision == "accept" else "rejected")


@router.get("/excuses/{request_id}/attachment")
async def attachment(request: Request, request_id: str) -> Response:
    """The document, fetched with the signed-in user's token (a link cannot carry one)."""
    current, backend = ui.session(request), ui.backend(request)
    found = await backend.call(
        current, "GET", "attendance", f"/excuse-requests/{request_id}/attachment", raw=True
    )
    return Response(
        found.content,
        media_type=found.headers.get("content-type", "application/octet-stream"),
        headers={"Content-Disposition": "inline", "Cache-Control": "private, no-store"},
    )
