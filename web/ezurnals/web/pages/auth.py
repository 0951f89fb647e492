"""Signing in and out, the language switch, and the start page that sends each user home."""

from __future__ import annotations

import contextlib
from typing import Annotated, Any
from uuid import UUID

import httpx
from fastapi import APIRouter, Form, Request, Response

from ezurnals.web import i18n, ui
from ezurnals.web.backend import ApiError, Backend, Session, SignInRequired

router = APIRouter()


@router.get("/")
async def start(request: Request) -> Response:
    current = ui.session(request)
    if not current.signed_in:
        return ui.redirect("/sign-in")
    return ui.redirect(ui.home_of(current.roles))


@router.get("/sign-in")
async def sign_in_page(request: Request, next: str | None = None) -> Response:
    return ui.render(request, "sign_in.html", next=ui.safe_next(next, ""), username="")


@router.post("/sign-in")
async def sign_in(
    request: Request,
    username: Annotated[str, Form(max_length=200)] = "",
    password: Annotated[str, Form(max_length=200)] = "",
    next: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    backend = ui.backend(request)
    try:
        tokens = await backend.anonymous(
            "POST",
            "identity",
            "/sign-in",
            json={"username": username, "password": password},
            headers={"X-Forwarded-For": ui.forwarded_for(request)},
        )
    except ApiError as refused:
        if refused.status >= 500:
            raise
        return ui.render(
            request,
            "sign_in.html",
            status=401 if refused.status == 401 else 422,
            error="sign_in_failed",
            next=ui.safe_next(next, ""),
            username=username,
        )
    current = ui.session(request)
    current.start(tokens, [])
    if "guardian" in current.roles:
        current.children = await _children(backend, current)
    return ui.redirect(ui.safe_next(next, ui.home_of(current.roles)))


async def _children(backend: Backend, current: Session) -> list[UUID]:
    """The students this guardian is linked to, from the guardian's own data export."""
    me = str(current.person_id)
    export: dict[str, Any] = await backend.call(current, "GET", "identity", f"/people/{me}/export")
    return [
        UUID(tie["student_id"])
        for tie in export.get("guardianship", [])
        if tie.get("guardian_id") == me and not tie.get("restricted")
    ]


@router.post("/sign-out")
async def sign_out(request: Request) -> Response:
    current = ui.session(request)
    if current.signed_in:
        # Signing out here must work even when identity cannot end the session now.
        with contextlib.suppress(ApiError, SignInRequired, httpx.HTTPError):
            await ui.backend(request).call(current, "POST", "identity", "/sign-out")
    current.end()
    return ui.redirect("/sign-in")


@router.get("/lang/{code}")
async def switch_language(request: Request, code: str, next: str | None = None) -> Response:
    response = ui.redirect(ui.safe_next(next, "/"))
    response.set_cookie(
        i18n.LANGUAGE_COOKIE,
        i18n.language_of(code),
        max_age=365 * 24 * 3600,
        samesite="strict",
        httponly=True,
        path="/",
    )
    return response
