"""The free-text rule (``ezurnals.shared.text``) at the API edge: every route of every service.

A FastAPI dependency every route gets from the app factory, so it runs after routing (it knows
the path parameters' names) and after FastAPI has read the body (it reuses the parsed JSON or
form), but before any other dependency or the handler: no text it refuses reaches a command, a
query or PostgreSQL. A refusal is shaped as a validation answer (422, ``errors`` naming each
field as validation names it) with the code ``control_character``, and it is given before the
caller is authenticated, as an unparsable body is.
"""

from __future__ import annotations

from email.message import Message
from typing import Any

from fastapi import Request
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException

from ezurnals.shared.domain import field_path
from ezurnals.shared.text import clean_name, reason, refused_character, refused_fields

FORMS = frozenset({"multipart/form-data", "application/x-www-form-urlencoded"})


class RefusedText(Exception):
    """Text the rule refuses: (field, reason) of each field, named as validation names them."""

    def __init__(self, errors: list[tuple[str, str]]) -> None:
        super().__init__(errors)
        self.errors = errors

    @property
    def field(self) -> str:
        return self.errors[0][0]

    def body(self) -> dict[str, Any]:
        """The answer's JSON: the services' error shape, with every field in ``errors``."""
        field, why = self.errors[0]
        return {
            "error": "control_character",
            "message": f"{field}: {why}",
            "field": field,
            "details": {},
            "errors": [{"field": name, "reason": reason} for name, reason in self.errors],
        }


async def refuse_control_characters(request: Request) -> None:
    """422 naming every path parameter, query parameter and body field holding a refused
    character; a path parameter refuses tab and line breaks too."""
    errors = [
        *_named("path", request.path_params.items(), one_line=True),
        *_named("query", request.query_params.multi_items()),
        *[(field_path(path), why) for path, why in refused_fields(await _body(request))],
    ]
    if errors:
        raise RefusedText(errors)


def _named(location: str, items: Any, *, one_line: bool = False) -> list[tuple[str, str]]:
    """A path parameter is one line: a tab or line break in it is never an id (and no HTTP
    client could pass it on in a URL)."""
    errors = []
    for name, value in items:
        bad = refused_character(name) or (
            refused_character(value, one_line=one_line) if isinstance(value, str) else None
        )
        if bad is not None:
            errors.append((f"{location}.{clean_name(name)}", reason(bad)))
    return errors


async def _body(request: Request) -> Any:
    """The body as the route sees it: decoded JSON, a form's text fields, or text. A body that
    does not decode is left to the route: FastAPI has already refused it where the route reads
    it (400 or 422), and a route that reads no body does not care."""
    try:
        raw = await request.body()
    except RuntimeError:  # FastAPI parsed a form from the stream: it keeps it on the request
        return _fields(await request.form())
    if not raw:
        return None
    message = Message()
    message["content-type"] = request.headers.get("content-type") or "application/json"
    media = message.get_content_type()
    try:
        if media in FORMS:
            return _fields(await request.form())
        if media == "application/json" or media.endswith("+json"):
            return await request.json()
        if message.get_content_maintype() == "text":
            return raw.decode(message.get_content_charset() or "utf-8")
    except (ValueError, LookupError, HTTPException):  # not JSON, not UTF-8, not a form
        return None
    return None


def _fields(form: FormData) -> dict[str, Any]:
    """A form's text fields (files are not text), a repeated name as a list: ``lesson_ids.1``."""
    fields: dict[str, list[str]] = {}
    for name, value in form.multi_items():
        if isinstance(value, str):
            fields.setdefault(name, []).append(value)
    return {name: values[0] if len(values) == 1 else values for name, values in fields.items()}
