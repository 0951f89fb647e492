"""What every route needs: the runtime, the reader, and the pipeline on the app's clock."""

from __future__ import annotations

import dataclasses
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from fastapi import Request

from ezurnals.lessons.access import actor
from ezurnals.lessons.clock import now
from ezurnals.lessons.handlers import pipeline
from ezurnals.lessons.queries import Reader
from ezurnals.shared.auth.principal import Principal
from ezurnals.shared.eventstore import CommandContext
from ezurnals.shared.http.commands import command_context
from ezurnals.shared.pipeline import Result, Returns
from ezurnals.shared.service import Runtime

R = TypeVar("R", bound=Result)


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


async def carry_out(request: Request, principal: Principal, cmd: Returns[R]) -> R:
    """The caller's command through the service's pipeline; the route's status is its answer's
    (a refusal is a DomainError, mapped in ``shared/http/errors.py``)."""
    return await pipeline(runtime_of(request)).handle(cmd, await context(request, principal))
