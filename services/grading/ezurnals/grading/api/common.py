"""What every route needs: the runtime, the caller's access and the command context."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import Request, Response

from ezurnals.grading import queries
from ezurnals.grading.access import Access
from ezurnals.shared.auth import Principal
from ezurnals.shared.contracts.base import Actor
from ezurnals.shared.eventstore import CommandContext, CommandResult
from ezurnals.shared.http.commands import command_context
from ezurnals.shared.service import Runtime


def runtime_of(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


async def access_of(request: Request, principal: Principal) -> Access:
    """The caller in the roles their token claims and identity confirms."""
    async with runtime_of(request).db.raw() as conn:
        staff = await queries.staff_roles(conn, principal.school_id, principal.person_id)
    return Access.of(principal, staff)


async def context_of(request: Request, principal: Principal) -> tuple[Access, CommandContext]:
    access = await access_of(request, principal)
    role = access.callers[0].role.value if access.callers else "unknown"
    ctx = await command_context(
        request, actor=Actor(id=principal.person_id, role=role), school_id=principal.school_id
    )
    return access, ctx


async def respond(
    request: Request,
    principal: Principal,
    response: Response,
    handler: Callable[..., Awaitable[CommandResult]],
    *args: Any,
) -> Any:
    """Run a command handler for the caller and answer with its status and body."""
    access, ctx = await context_of(request, principal)
    result = await handler(runtime_of(request), ctx, access, *args)
    response.status_code = result.status
    return result.body
