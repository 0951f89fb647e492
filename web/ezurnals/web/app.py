"""The web app: server-rendered pages over the service APIs, and the APIs themselves proxied.

``create_app({"identity": "http://…", "lessons": …})`` needs identity, lessons, attendance
and reporting; with grading the lesson screen takes grades and families see them.
``serve_web`` runs it with uvicorn.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from zoneinfo import ZoneInfo

import httpx
import structlog
import uvicorn
from fastapi import Depends, FastAPI, Request, Response
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from ezurnals.shared.http.app import RequestContext
from ezurnals.shared.http.server import server_config
from ezurnals.shared.http.text import RefusedText, refuse_control_characters
from ezurnals.web import i18n, pages, proxy, ui
from ezurnals.web.backend import ApiError, Backend, Session, SignInRequired

log = structlog.get_logger(__name__)

REQUIRED_SERVICES = ("identity", "lessons", "attendance", "reporting")

#: Everything the pages load comes from this origin; nothing inline, no framing.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}


def create_app(service_urls: dict[str, str], *, time_zone: str = "Europe/Riga") -> FastAPI:
    missing = [name for name in REQUIRED_SERVICES if name not in service_urls]
    if missing:
        raise ValueError(f"the web app needs the URLs of {', '.join(missing)}")

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        await app.state.backend.close()

    app = FastAPI(
        title="ezurnals web",
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
        # The services' free-text rule, before a page builds a service URL or body from input.
        dependencies=[Depends(refuse_control_characters)],
    )
    app.state.backend = Backend(service_urls)
    app.state.templates = ui.templates()
    app.state.zone = ZoneInfo(time_zone)

    @app.middleware("http")
    async def session_and_language(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        """The session from the cookies, written back when a refresh or sign-in changed it."""
        request.state.session = Session.of(request)
        request.state.language = i18n.language_of(
            request.query_params.get("lang") or request.cookies.get(i18n.LANGUAGE_COOKIE)
        )
        response = await call_next(request)
        request.state.session.write(request, response)
        if not request.url.path.startswith("/api/"):
            response.headers.update(SECURITY_HEADERS)
        if not request.url.path.startswith(("/api/", "/static/")):
            # Pages carry personal data: never kept by the browser or a shared cache.
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    @app.exception_handler(SignInRequired)
    async def sign_in_again(request: Request, exc: SignInRequired) -> Response:
        response = ui.redirect("/sign-in", next=request.url.path)
        request.state.session.end()
        return response

    @app.exception_handler(RefusedText)
    async def refused_text(request: Request, exc: RefusedText) -> Response:
        """As the services answer it for the proxied APIs; a page says which field."""
        if request.url.path.startswith("/api/"):
            return JSONResponse(exc.body(), status_code=422)
        return ui.render(
            request, "error.html", status=422, message_key="control_character", detail=exc.field
        )

    @app.exception_handler(ApiError)
    async def api_error(request: Request, exc: ApiError) -> Response:
        """What a page could not handle: not found (also another family's data), refused, or
        bad input the page passed on (a 4xx, not the 502 of a failing service); an expired staff
        password leads to the form that changes it."""
        if exc.status == 403 and exc.body.get("error") == "password_expired":
            return ui.redirect("/password", next=request.url.path)
        if exc.status in (403, 404):
            key, status = "not_found", 404
        elif exc.status < 500:
            key, status = "invalid_request", 422
        else:
            key, status = "unavailable", 502
        detail = exc.message if exc.field is None else f"{exc.message} ({exc.field})"
        return ui.render(request, "error.html", status=status, message_key=key, detail=detail)

    @app.exception_handler(httpx.HTTPError)
    async def service_down(request: Request, exc: httpx.HTTPError) -> Response:
        log.warning("web.service_unavailable", error=repr(exc), path=request.url.path)
        return ui.render(request, "error.html", status=503, message_key="unavailable")

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok", "service": "web"}

    @app.get("/metrics", include_in_schema=False)
    async def metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    # Outermost: the correlation id is bound (and passed to the APIs, see backend.py) before the
    # pages run; the request's one access event and its latency on /metrics (by route, as the
    # services count theirs) are written after them.
    app.add_middleware(RequestContext, service="web")

    app.mount("/static", StaticFiles(directory=ui.STATIC), name="static")
    for router in pages.routers():
        app.include_router(router)
    app.include_router(proxy.router)
    return app


async def serve_web(
    service_urls: dict[str, str],
    host: str = "127.0.0.1",
    port: int = 8080,
    *,
    forwarded_allow_ips: str = "127.0.0.1",
) -> None:
    """Run the web app until the process is stopped (for ``ezurnals up``)."""
    config = server_config(
        create_app(service_urls), host=host, port=port, forwarded_allow_ips=forwarded_allow_ips
    )
    await uvicorn.Server(config).serve()
