"""HTTP to a running stack for the seeder: bounded concurrency, signed-in sessions, patience
while other services' projections catch up, and an honest count of what went wrong."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

PASSWORD = "Seed-rudens-lapas-2026"
#: Answers that mean "another service has not seen the facts yet" for eventual calls.
EVENTUAL = frozenset({403, 404, 409, 422, 503})
#: Requests in flight per service: below each API's database pool (10 connections), so a
#: handler that checks out a second connection while holding one cannot starve the pool.
PER_SERVICE = 8
#: Answers worth repeating for any command: a lost race on a stream, a briefly busy service.
TRANSIENT = frozenset({409, 503})


class SeedError(Exception):
    """A request that still failed after its retries; already counted in the stats."""


@dataclass
class Stats:
    commands: int = 0
    reads: int = 0
    retries: int = 0
    errors: int = 0
    messages: list[str] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)
    #: Seconds spent in each phase, summed over the schools.
    seconds: defaultdict[str, float] = field(default_factory=lambda: defaultdict(float))

    def fail(self, message: str) -> None:
        self.errors += 1
        if len(self.messages) < 10:
            self.messages.append(message)


@dataclass
class Session:
    """A signed-in person; signs in again when the access token has expired."""

    username: str
    token: str = ""
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


class Stack:
    """The services of one running stack, reached through one pooled client."""

    def __init__(
        self,
        urls: dict[str, str],
        *,
        concurrency: int,
        settle_seconds: float,
        on_command: Callable[[], None] | None = None,
    ) -> None:
        self.urls = urls
        self.http = httpx.AsyncClient(
            timeout=60.0,
            limits=httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency),
        )
        self.gate = asyncio.Semaphore(concurrency)
        per_service = min(concurrency, PER_SERVICE)
        self.gates = {name: asyncio.Semaphore(per_service) for name in urls}
        self.settle_seconds = settle_seconds
        self.stats = Stats()
        self.on_command = on_command

    async def close(self) -> None:
        await self.http.aclose()

    def url(self, service: str, path: str) -> str:
        return f"{self.urls[service]}/api/{service}{path}"

    async def call(
        self,
        service: str,
        method: str,
        path: str,
        who: Session | None = None,
        *,
        eventual: bool = False,
        headers: dict[str, str] | None = None,
        **kw: Any,
    ) -> Any:
        """The JSON answer, or SeedError once the retries are spent (counted, first messages
        kept). ``eventual``: the call depends on facts another service must first project."""
        command = method != "GET"
        sent = dict(headers or {})
        if command:
            sent.setdefault("Idempotency-Key", str(uuid.uuid4()))
        loop = asyncio.get_running_loop()
        deadline = loop.time() + (self.settle_seconds if eventual else 10.0)
        delay = 0.2
        retried_auth = False
        while True:
            if who is not None:
                sent["Authorization"] = f"Bearer {await self._token(who)}"
            try:
                async with self.gate, self.gates[service]:
                    response = await self.http.request(
                        method, self.url(service, path), headers=sent, **kw
                    )
            except httpx.TransportError as exc:
                response = None
                problem = f"{method} {service}{path}: {type(exc).__name__} {exc}"
            if command:
                self.stats.commands += 1
                if self.on_command is not None:
                    self.on_command()
            else:
                self.stats.reads += 1
            if response is not None:
                if response.status_code < 300:
                    return response.json() if response.content else None
                problem = f"{method} {service}{path}: {response.status_code} {response.text[:300]}"
                if response.status_code == 401 and who is not None and not retried_auth:
                    retried_auth = True
                    await self._sign_in(who, stale=sent["Authorization"][7:])
                    continue
                retry = response.status_code in (EVENTUAL if eventual else TRANSIENT)
            else:
                retry = True
            if not retry or loop.time() + delay > deadline:
                self.stats.fail(problem)
                raise SeedError(problem)
            self.stats.retries += 1
            await asyncio.sleep(delay)
            delay = min(delay * 1.5, 2.0)

    async def _token(self, who: Session) -> str:
        if not who.token:
            await self._sign_in(who, stale="")
        return who.token

    async def _sign_in(self, who: Session, stale: str) -> None:
        async with who.lock:
            if who.token and who.token != stale:
                return
            signed = await self.call(
                "identity",
                "POST",
                "/sign-in",
                json={"username": who.username, "password": PASSWORD},
            )
            who.token = signed["access_token"]

    async def activate(self, code: str, username: str) -> Session:
        await self.call("identity", "POST", "/activate", json={"code": code, "password": PASSWORD})
        session = Session(username)
        await self._token(session)
        return session
