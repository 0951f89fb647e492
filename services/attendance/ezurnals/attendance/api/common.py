"""What every attendance route needs: the runtime, the time (injectable for tests) and a
command context that carries both the caller and that time."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from fastapi import Request, Response

from ezurnals.shared.auth import Principal
from ezurnals.shared.contracts.base import Actor, utcnow
from ezurnals.shared.eventstore import CommandContext, CommandResult
from ezurnals.shared.http.commands import command_context
from ezurnals.shared.service import Runtime

C = TypeVar("C")
Handler = Callable[[Runtime, CommandContext, Principal, C], Awaitable[CommandResult]]


def runtime_of(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


def now(request: Request) -> dt.datetime:
    """``app.state.clock`` when a test sets one, else the wall clock (UTC)."""
    clock = getattr(request.app.state, "clock", None)
    return clock() if clock is not None else utcnow()


async def context(request: Request, principal: Principal, role: str) -> CommandContext:
    """``role`` is the capacity the caller acts in (teacher, class_teacher, guardian …)."""
    ctx = await command_context(
        request, actor=Actor(id=principal.person_id, role=role), school_id=principal.school_id
    )
    return dataclasses.replace(ctx, now=now(request))


async def answer(
    request: Request,
    principal: Principal,
    response: Response,
    role: str,
    handler: Handler[C],
    cmd: C,
) -> Any:
    """Run ``handler`` for the caller acting as ``role`` and give its result as the response."""
    ctx = await context(request, principal, role)
    result = await handler(runtime_of(request), ctx, principal, cmd)
    response.status_code = result.status
    return result.body
