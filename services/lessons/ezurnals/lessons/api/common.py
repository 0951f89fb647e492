"""What every route needs: the runtime, the reader, and a command context on the app's clock."""

from __future__ import annotations

import dataclasses
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import Request, Response

from ezurnals.lessons.access import actor
from ezurnals.lessons.clock import now
from ezurnals.lessons.queries import Reader
from ezurnals.shared.auth.principal import Principal
from ezurnals.shared.eventstore import CommandContext, CommandResult
from ezurnals.shared.http.commands import command_context
from ezurnals.shared.service import Runtime


def runtime_of(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


def reader_of(request: Request) -> Reader:
    return Reader.of(runtime_of(request))


async def context(request: Request, principal: Principal) -> CommandContext:
    """The caller's command, in their school, at the app's current time."""
    ctx = await command_context(request, actor=actor(principal), school_id=principal.school_id)
    return dataclasses.replace(ctx, now=now(request))


async def today(request: Request, school_id: Any) -> tuple[ZoneInfo, Any]:
    """The school's zone and its local date now."""
    zone = await reader_of(request).zone(school_id)
    return zone, now(request).astimezone(zone).date()


def answer(result: CommandResult, response: Response) -> Any:
    response.status_code = result.status
    return result.body
