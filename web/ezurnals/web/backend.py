"""Calling the service APIs server-side, as the signed-in user.

The browser never holds a token it could leak to script: the access and refresh tokens live in
HttpOnly, SameSite=Strict cookies, and every page calls the APIs from here with the access token,
refreshing it once when an API answers 401.
"""

from __future__ import annotations

import asyncio
import base64
import json
import time
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

import httpx
from fastapi import Request, Response

from ezurnals.shared.observability.logging import CORRELATION_ID

ACCESS_COOKIE = "ez_at"
REFRESH_COOKIE = "ez_rt"
#: A guardian's children, found once at sign-in (identity has no cheaper way to list them).
CHILDREN_COOKIE = "ez_kids"
SESSION_COOKIES = (ACCESS_COOKIE, REFRESH_COOKIE, CHILDREN_COOKIE)


class SignInRequired(Exception):
    """No session, or identity refused to refresh it: the user must sign in again."""


class ApiError(Exception):
    """A service answered with an error; ``message`` and ``field`` come from its error body."""

    def __init__(self, status: int, body: Any) -> None:
        self.status = status
        self.body = body if isinstance(body, dict) else {}
        self.message = str(self.body.get("message") or self.body.get("detail") or status)
        self.field = self.body.get("field")
        super().__init__(f"{status}: {self.message}")


def _claims(token: str) -> dict[str, Any]:
    """The token's claims, unverified: only for choosing pages. The APIs verify every call."""
    try:
        payload = token.split(".")[1]
        decoded = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
        claims = json.loads(decoded)
    except (IndexError, ValueError):
        return {}
    return claims if isinstance(claims, dict) else {}


@dataclass
class Session:
    """The signed-in user's tokens as the request brought them; ``changed`` after a refresh."""

    access_token: str | None = None
    refresh_token: str | None = None
    children: list[UUID] = field(default_factory=list)
    changed: bool = False
    ended: bool = False
    #: Refresh tokens rotate and a reused one revokes the session: one refresh at a time.
    lock: asyncio.Lock = field(default_factory=asyncio.Lock, repr=False)

    @classmethod
    def of(cls, request: Request) -> Session:
        children = []
        for part in request.cookies.get(CHILDREN_COOKIE, "").split("."):
            try:
                children.append(UUID(part))
            except ValueError:
                continue
        return cls(
            request.cookies.get(ACCESS_COOKIE), request.cookies.get(REFRESH_COOKIE), children
        )

    @property
    def signed_in(self) -> bool:
        return bool(self.access_token or self.refresh_token)

    @property
    def claims(self) -> dict[str, Any]:
        return _claims(self.access_token) if self.access_token else {}

    @property
    def expiring(self) -> bool:
        """The access token is missing or ends within half a minute."""
        return float(self.claims.get("exp") or 0) < time.time() + 30

    @property
    def person_id(self) -> UUID | None:
        sub = self.claims.get("sub")
        return UUID(sub) if sub else None

    @property
    def roles(self) -> frozenset[str]:
        return frozenset(self.claims.get("roles") or ())

    def start(self, tokens: dict[str, Any], children: list[UUID]) -> None:
        self.access_token = tokens["access_token"]
        self.refresh_token = tokens["refresh_token"]
        self.children = children
        self.changed, self.ended = True, False

    def end(self) -> None:
        self.access_token = self.refresh_token = None
        self.children = []
        self.changed, self.ended = True, True

    def write(self, request: Request, response: Response) -> None:
        """Session cookies (no expiry): closing the browser on a shared computer signs out."""
        if not self.changed:
            return
        if self.ended:
            for name in SESSION_COOKIES:
                response.delete_cookie(name, path="/")
            return
        secure = request.url.scheme == "https"
        values = {
            ACCESS_COOKIE: self.access_token or "",
            REFRESH_COOKIE: self.refresh_token or "",
            CHILDREN_COOKIE: ".".join(str(c) for c in self.children),
        }
        for name, value in values.items():
            response.set_cookie(
                name, value, httponly=True, samesite="strict", secure=secure, path="/"
            )


async def _pass_correlation_id(request: httpx.Request) -> None:
    """Every call to an API carries the page request's correlation id, so that the API's access
    event, the events it stores and the consumers that apply them name the same one."""
    correlation = CORRELATION_ID.get()
    if correlation:
        request.headers["X-Correlation-ID"] = correlation


class Backend:
    """One HTTP client per service, at the URLs the app was created with."""

    def __init__(self, service_urls: dict[str, str], timeout: float = 15.0) -> None:
        self.urls = {name: url.rstrip("/") for name, url in service_urls.items()}
        self._clients = {
            name: httpx.AsyncClient(
                base_url=url, timeout=timeout, event_hooks={"request": [_pass_correlation_id]}
            )
            for name, url in self.urls.items()
        }

    def client(self, service: str) -> httpx.AsyncClient:
        return self._clients[service]

    async def close(self) -> None:
        for client in self._clients.values():
            await client.aclose()

    async def anonymous(self, method: str, service: str, path: str, **kwargs: Any) -> Any:
        response = await self.client(service).request(method, f"/api/{service}{path}", **kwargs)
        return _body(response)

    async def call(
        self,
        session: Session,
        method: str,
        service: str,
        path: str,
        *,
        idempotency_key: str | None = None,
        raw: bool = False,
        **kwargs: Any,
    ) -> Any:
        """The API's JSON answer (or the response itself with ``raw``); ApiError on an error."""
        if not session.signed_in:
            raise SignInRequired
        if session.expiring:
            await self.refresh(session, session.access_token)
        used = session.access_token
        response = await self._send(session, method, service, path, idempotency_key, kwargs)
        if response.status_code == 401:
            await self.refresh(session, used)
            response = await self._send(session, method, service, path, idempotency_key, kwargs)
            if response.status_code == 401:
                session.end()
                raise SignInRequired
        if raw and response.status_code < 400:
            return response
        return _body(response)

    async def _send(
        self,
        session: Session,
        method: str,
        service: str,
        path: str,
        idempotency_key: str | None,
        kwargs: dict[str, Any],
    ) -> httpx.Response:
        headers = {"Authorization": f"Bearer {session.access_token}"}
        if idempotency_key:
            headers["Idempotency-Key"] = idempotency_key
        return await self.client(service).request(
            method, f"/api/{service}{path}", headers=headers, **kwargs
        )

    async def refresh(self, session: Session, used: str | None) -> None:
        """New tokens, unless a concurrent call already replaced the access token ``used``."""
        async with session.lock:
            if session.access_token != used and not session.expiring:
                return
            if not session.refresh_token:
                session.end()
                raise SignInRequired
            response = await self.client("identity").post(
                "/api/identity/refresh", json={"refresh_token": session.refresh_token}
            )
            if response.status_code != 200:
                session.end()
                raise SignInRequired
            tokens = response.json()
            session.access_token = tokens["access_token"]
            session.refresh_token = tokens["refresh_token"]
            session.changed = True


def _body(response: httpx.Response) -> Any:
    try:
        body = response.json() if response.content else None
    except ValueError:
        body = None
    if response.status_code >= 400:
        raise ApiError(response.status_code, body)
    return body
