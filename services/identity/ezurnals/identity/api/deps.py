"""What every identity route needs: the clock, keys, config, the command context and role checks."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import date, datetime
from uuid import UUID

from fastapi import FastAPI, Request

from ezurnals.identity import queries
from ezurnals.identity.config import IdentityConfig
from ezurnals.identity.keys import LocalVerifier, SigningKeys
from ezurnals.shared.auth.principal import Principal, Role
from ezurnals.shared.contracts.base import Actor, utcnow
from ezurnals.shared.db import Database
from ezurnals.shared.domain import Forbidden, require_seen
from ezurnals.shared.eventstore import CommandContext
from ezurnals.shared.http.commands import command_context
from ezurnals.shared.service import Runtime

Clock = Callable[[], datetime]


@dataclass
class IdentityState:
    config: IdentityConfig
    keys: SigningKeys


class OwnRevocations:
    """Identity refuses a revoked token from the very next request: it reads the revocation from
    its own query tables, written in the same transaction as the command that revoked it."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def is_revoked(
        self, person_id: UUID, session_id: UUID | None, issued_at: float | None
    ) -> bool:
        async with self.db.raw() as conn:
            return await queries.token_revoked(conn, person_id, session_id, issued_at)


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Runs after the spine's lifespan: identity verifies its own tokens with its own keys,
    and checks revocations against its own tables.

    ``app.state.clock`` is what every handler asks for the time; tests replace it.
    """
    config = IdentityConfig()
    keys = SigningKeys(config.keys_dir())
    app.state.identity = IdentityState(config, keys)
    app.state.verifier = LocalVerifier(keys)
    app.state.revocations = OwnRevocations(app.state.runtime.db)
    if not hasattr(app.state, "clock"):
        app.state.clock = utcnow
    yield


def runtime(request: Request) -> Runtime:
    rt: Runtime = request.app.state.runtime
    return rt


def state(request: Request) -> IdentityState:
    st: IdentityState = request.app.state.identity
    return st


def now(request: Request) -> datetime:
    clock: Clock = request.app.state.clock
    return clock()


async def today(request: Request, school_id: UUID) -> date:
    """The school's local date now."""
    async with runtime(request).db.raw() as conn:
        tz = await queries.school_time_zone(conn, school_id)
    return queries.local_day(now(request), tz)


async def context(
    request: Request,
    principal: Principal | None = None,
    *,
    school_id: UUID | None = None,
    role: str | None = None,
    idempotent: bool = True,
) -> CommandContext:
    """``idempotent=False`` for commands whose answer holds a secret that must not be stored."""
    actor = (
        Actor(id=principal.person_id, role=role or _main_role(principal))
        if principal is not None
        else Actor(role=role or "system")
    )
    school = school_id or (principal.school_id if principal else None)
    ctx = await command_context(request, actor=actor, school_id=school)
    ctx = dataclasses.replace(ctx, now=now(request))
    return ctx if idempotent else dataclasses.replace(ctx, idempotency_key=None)


def _main_role(principal: Principal) -> str:
    order = (Role.ADMIN, Role.DIRECTOR, Role.DEPUTY_DIRECTOR, Role.CLASS_TEACHER, Role.TEACHER)
    return next((r for r in order if r in principal.roles), sorted(principal.roles or {"none"})[0])


async def require_role(
    request: Request, principal: Principal, roles: frozenset[str], what: str
) -> frozenset[str]:
    """The roles the caller both claims and holds by an active employment here, or 403."""
    async with runtime(request).db.raw() as conn:
        held = await queries.staff_roles(conn, principal.school_id, principal.person_id)
    granted = held & principal.roles & roles
    if not granted:
        raise Forbidden(f"only {', '.join(sorted(roles))} may {what}", code="role_required")
    return granted


async def require_seen_person(request: Request, principal: Principal, person_id: UUID) -> None:
    """Before a role is checked: a person the caller may not read is missing (the shared rule)."""
    day = await today(request, principal.school_id)
    async with runtime(request).db.raw() as conn:
        await queries.require_readable(conn, principal, person_id, day)


async def require_seen_class(request: Request, principal: Principal, class_id: UUID) -> None:
    """Before a role is checked: a class the caller does not see is missing."""
    day = await today(request, principal.school_id)
    async with runtime(request).db.raw() as conn:
        seen = await queries.may_read_class(conn, principal, class_id, day)
    require_seen(seen, "class", "class_id")


async def require_seen_colleague(request: Request, principal: Principal, person_id: UUID) -> None:
    """A person of the school is seen as a colleague by its staff; families and other schools
    are told there is no such person."""
    async with runtime(request).db.raw() as conn:
        await queries.person_school(conn, principal.school_id, person_id)
        held = await queries.staff_roles(conn, principal.school_id, principal.person_id)
    require_seen(bool(held & principal.roles), "person", "person_id")


async def require_file_keeper(request: Request, principal: Principal, person_id: UUID) -> None:
    """The administration or the class teacher keeps the file; 403 for someone who may read it
    otherwise, and the same 404 as a stranger for anyone else."""
    day = await today(request, principal.school_id)
    async with runtime(request).db.raw() as conn:
        if await queries.may_keep_file(conn, principal, person_id, day):
            return
        readable = await queries.may_read_person(conn, principal, person_id, day)
    require_seen(readable, "person", "person_id")
    raise Forbidden("only the class teacher or the administration keeps this personal file")
