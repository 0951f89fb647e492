"""Every failure becomes a clear JSON answer: 4xx naming the field and the reason, 503 for outages.

Shape: ``{"error": code, "message": text, "field": name|null, "details": {...}}``; validation
errors add ``"errors": [{"field", "reason"}]`` for every bad field, and so does text the free-text
rule refuses (code ``control_character``, see ``ezurnals.shared.text``).
"""

from __future__ import annotations

from typing import Any

import asyncpg
import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ezurnals.shared.db import outage_cause
from ezurnals.shared.domain import DomainError, field_path
from ezurnals.shared.eventstore import ConcurrencyConflict, IdempotencyKeyReused
from ezurnals.shared.http.text import RefusedText
from ezurnals.shared.messaging.consumer import INFRA_ERRORS

log = structlog.get_logger(__name__)


def error_body(
    code: str, message: str, *, field: str | None = None, **extra: Any
) -> dict[str, Any]:
    return {"error": code, "message": message, "field": field, **extra}


def _field_name(loc: tuple[Any, ...]) -> str:
    return field_path(p if isinstance(p, int) else str(p) for p in loc if p != "body")


async def _validation(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [
        {"field": _field_name(tuple(e.get("loc", ()))), "reason": e.get("msg", "invalid")}
        for e in exc.errors()
    ]
    first = errors[0] if errors else {"field": "body", "reason": "invalid request"}
    return JSONResponse(
        status_code=422,
        content=error_body(
            "invalid_request",
            f"{first['field']}: {first['reason']}",
            field=first["field"],
            errors=errors,
        ),
    )


async def _refused_text(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RefusedText)
    return JSONResponse(status_code=422, content=exc.body())


async def _domain(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DomainError)
    return JSONResponse(
        status_code=exc.status,
        content=error_body(exc.code, exc.message, field=exc.field, details=exc.details),
    )


async def _conflict(_: Request, exc: Exception) -> JSONResponse:
    return JSONResponse(status_code=409, content=error_body("version_conflict", str(exc)))


async def _key_reused(_: Request, exc: Exception) -> JSONResponse:
    return JSONResponse(
        status_code=422,
        content=error_body("idempotency_key_reused", str(exc), field="Idempotency-Key"),
    )


async def _unavailable(request: Request, exc: Exception) -> JSONResponse:
    log.warning("http.dependency_unavailable", path=request.url.path, error=repr(exc))
    return JSONResponse(
        status_code=503,
        content=error_body("unavailable", "a dependency is unavailable; retry shortly"),
        headers={"Retry-After": "2"},
    )


async def _http(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = {401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed"}
    return JSONResponse(
        status_code=exc.status_code,
        content=error_body(code.get(exc.status_code, "http_error"), str(exc.detail)),
        headers=getattr(exc, "headers", None),
    )


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    if outage_cause(exc) is not None:  # an outage wrapped in another error
        return await _unavailable(request, exc)
    log.exception("http.unhandled", path=request.url.path)
    return JSONResponse(status_code=500, content=error_body("internal", "internal error"))


class ContainedErrors:
    """An unexpected error answers 500 and the connection stays open for the client's next
    request: Starlette's outermost handler answers and then re-raises, and the server closes a
    keep-alive connection whose request raised, so one bug failed the next request too."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def sending(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, sending)
        except Exception as exc:
            if started:  # half an answer cannot be taken back; the connection must go
                raise
            response = await _unexpected(Request(scope), exc)
            await response(scope, receive, send)


def install_error_handlers(app: FastAPI) -> None:
    """The answers to every error, and (innermost) the error no handler knew."""
    app.add_middleware(ContainedErrors)
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(RefusedText, _refused_text)
    app.add_exception_handler(DomainError, _domain)
    app.add_exception_handler(ConcurrencyConflict, _conflict)
    app.add_exception_handler(IdempotencyKeyReused, _key_reused)
    app.add_exception_handler(StarletteHTTPException, _http)
    for outage in (*INFRA_ERRORS, asyncpg.PostgresConnectionError):
        app.add_exception_handler(outage, _unavailable)
    app.add_exception_handler(Exception, _unexpected)
