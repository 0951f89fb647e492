"""Signing in (with a one-time code where the account or school uses one) and out, changing an
expired password, the language switch, and the start page that sends each user home."""

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
    totp_code: Annotated[str, Form(max_length=12)] = "",
    totp_secret: Annotated[str, Form(max_length=80)] = "",
    next: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    backend = ui.backend(request)
    body = {"username": username, "password": password}
    code = totp_code.replace(" ", "")
    if code:
        body["totp_code"] = code
    if totp_secret:
        body["totp_secret"] = totp_secret
    try:
        tokens = await backend.anonymous(
            "POST",
            "identity",
            "/sign-in",
            json=body,
            headers={"X-Forwarded-For": ui.forwarded_for(request)},
        )
    except ApiError as refused:
        if refused.status >= 500:
            raise
        enrolment = refused.body.get("error") == "totp_enrolment_required"
        return ui.render(
            request,
            "sign_in.html",
            status=refused.status if refused.status in (401, 403) else 422,
            error="totp_enrol" if enrolment else "sign_in_failed",
            enrolment=refused.body.get("details") if enrolment else None,
            next=ui.safe_next(next, ""),
            username=username,
        )
    current = ui.session(request)
    current.start(tokens, [])
    if (tokens.get("password") or {}).get("status") == "expired":
        return ui.redirect("/password", next=ui.safe_next(next, ""))
    if "guardian" in current.roles:
        current.children = await _children(backend, current)
    return ui.redirect(ui.safe_next(next, ui.home_of(current.roles)))


@router.get("/password")
async def password_page(request: Request, next: str | None = None) -> Response:
    if not ui.session(request).signed_in:
        return ui.redirect("/sign-in")
    return ui.render(request, "password.html", next=ui.safe_next(next, ""))


@router.post("/password")
async def change_password(
    request: Request,
    current_password: Annotated[str, Form(max_length=200)] = "",
    new_password: Annotated[str, Form(max_length=200)] = "",
    repeat_password: Annotated[str, Form(max_length=200)] = "",
    next: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    """The one thing an expired password allows; identity answers with fresh tokens."""
    current, backend = ui.session(request), ui.backend(request)
    if new_password != repeat_password:
        return ui.render(
            request,
            "password.html",
            status=422,
            error_key="passwords_differ",
            next=ui.safe_next(next, ""),
        )
    try:
        tokens = await backend.call(
            current,
            "POST",
            "identity",
            "/password",
            json={"current_password": current_password, "new_password": new_password},
        )
    except ApiError as refused:
        if refused.status >= 500:
            raise
        return ui.render(
            request,
            "password.html",
            status=refused.status,
            error=refused,
            next=ui.safe_next(next, ""),
        )
    current.start(tokens, current.children)
    if "guardian" in current.roles and not current.children:
        current.children = await _children(backend, current)
    return ui.redirect(ui.safe_next(next, ui.home_of(current.roles)), notice="password_changed")


@router.get("/account")
async def account(request: Request) -> Response:
    if not ui.session(request).signed_in:
        return ui.redirect("/sign-in", next="/account")
    return ui.render(request, "account.html", enrolment=None)


@router.post("/account/totp")
async def enable_totp(
    request: Request,
    secret: Annotated[str, Form(max_length=80)] = "",
    code: Annotated[str, Form(max_length=12)] = "",
) -> Response:
    """Without a secret: a fresh one to add to the app. With one: turn TOTP on with its code."""
    current, backend = ui.session(request), ui.backend(request)
    if not secret:
        enrolment = await backend.call(current, "POST", "identity", "/totp/secret")
        return ui.render(request, "account.html", enrolment=enrolment)
    try:
        await backend.call(
            current,
            "POST",
            "identity",
            "/totp",
            json={"secret": secret, "code": code.replace(" ", "")},
        )
    except ApiError as refused:
        if refused.status >= 500:
            raise
        enrolment = {"secret": secret, "otpauth_uri": ""}
        return ui.render(
            request, "account.html", status=refused.status, enrolment=enrolment, error=refused
        )
    return ui.redirect("/account", notice="totp_enabled")


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
