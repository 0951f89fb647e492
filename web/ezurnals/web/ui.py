"""What every page shares: the signed-in session, the language, rendering and redirects."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape

from ezurnals.web import i18n
from ezurnals.web.backend import Backend, Session, SignInRequired

TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"

STAFF = frozenset({"teacher", "class_teacher", "deputy_director", "director", "admin"})
ADMINISTRATION = frozenset({"deputy_director", "director", "admin"})
FAMILY = frozenset({"guardian", "student"})


def templates() -> Environment:
    return Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )


def session(request: Request) -> Session:
    found: Session = request.state.session
    return found


def signed_in(request: Request) -> None:
    """A dependency of every page that shows anyone's data: without a session, sign in first
    (a page that calls no API would otherwise render empty for a stranger)."""
    if not session(request).signed_in:
        raise SignInRequired


def backend(request: Request) -> Backend:
    found: Backend = request.app.state.backend
    return found


def zone(request: Request) -> ZoneInfo:
    found: ZoneInfo = request.app.state.zone
    return found


def local_now(request: Request) -> datetime:
    return datetime.now(zone(request))


def local_today(request: Request) -> date:
    return local_now(request).date()


def forwarded_for(request: Request) -> str:
    """The browser's address for identity's sign-in throttling, which would otherwise see only
    this server's address and lock out the whole school together: the client as this server's
    trusted proxies named it (see shared/http/server.py), never the header as the request
    brought it, so a browser's own ``X-Forwarded-For`` cannot reach identity."""
    return request.client.host if request.client else "unknown"


def language(request: Request) -> str:
    found: str = request.state.language
    return found


def nav(roles: frozenset[str]) -> list[tuple[str, str]]:
    """The menu a person with these roles needs, in the order they use it."""
    items = []
    if roles & STAFF:
        items.append(("my_lessons", "/teacher"))
    if "class_teacher" in roles:
        items.append(("excuses", "/excuses"))
    if roles & ({"class_teacher"} | ADMINISTRATION):
        items.append(("my_class", "/class"))
    if roles & ADMINISTRATION:
        items.append(("administration", "/admin"))
    if roles & FAMILY:
        items += [("diary", "/diary"), ("grades", "/grades")]
    if "guardian" in roles:
        items.append(("notifications", "/notifications"))
    if roles & FAMILY:
        items.append(("access_log", "/access-log"))
    if roles & STAFF:
        items.append(("account", "/account"))
    return items


def home_of(roles: frozenset[str]) -> str:
    items = nav(roles)
    return items[0][1] if items else "/sign-in"


def safe_next(target: str | None, fallback: str) -> str:
    """Only a path on this site, so a sign-in link cannot send anyone elsewhere."""
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return fallback


def is_administration(request: Request) -> bool:
    return bool(session(request).roles & ADMINISTRATION)


def redirect(path: str, **params: Any) -> RedirectResponse:
    query = {k: str(v) for k, v in params.items() if v is not None}
    return RedirectResponse(f"{path}?{urlencode(query)}" if query else path, status_code=303)


def nonce() -> str:
    """A form's idempotency key: a repeated submit of the same form changes nothing twice."""
    return uuid.uuid4().hex


def pdf(content: bytes, filename: str) -> Response:
    """A document to save: never kept in a cache, named for the user's downloads folder."""
    return Response(
        content,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "private, no-store",
        },
    )


def render(request: Request, template: str, *, status: int = 200, **context: Any) -> HTMLResponse:
    lang = language(request)
    words = i18n.translator(lang)
    notice = request.query_params.get("notice")
    current = session(request)
    env: Environment = request.app.state.templates
    html = env.get_template(template).render(
        request=request,
        lang=lang,
        other_lang="en" if lang == "lv" else "lv",
        t=words,
        fdate=partial(i18n.format_date, language=lang),
        ftime=i18n.format_time,
        finstant=partial(i18n.format_instant, language=lang, zone=zone(request)),
        nav=nav(current.roles) if current.signed_in else [],
        signed_in=current.signed_in,
        notice=words(notice) if notice in i18n.MESSAGES[lang] else None,
        path=request.url.path,
        **context,
    )
    return HTMLResponse(html, status_code=status)
