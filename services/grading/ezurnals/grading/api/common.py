"""What every route needs: the runtime, the caller's access and the command context.

A command holds one pooled connection from its first read to its append: every checkout and
round trip costs the API CPU, so the facts a command decides on are read in as few statements
as the handler can manage, on that connection.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Set
from typing import Any
from uuid import UUID

from fastapi import Request, Response

from ezurnals.grading import handlers, queries
from ezurnals.grading.access import Access
from ezurnals.shared.auth import Principal
from ezurnals.shared.contracts.base import Actor
from ezurnals.shared.eventstore import CommandContext, CommandResult
from ezurnals.shared.http.commands import command_context
from ezurnals.shared.service import Runtime


def runtime_of(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


async def _context(
    request: Request, principal: Principal, staff_roles: Set[str]
) -> tuple[Access, CommandContext]:
    access = Access.of(principal, staff_roles)
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
    """Run a command handler for the caller, on one connection, and answer with its status and
    body; the handler gets ``(runtime, conn, ctx, access, *args)``."""
    runtime = runtime_of(request)
    async with runtime.db.raw() as conn:
        staff = await queries.staff_roles(conn, principal.school_id, principal.person_id)
        access, ctx = await _context(request, principal, staff)
        result = await handler(runtime, conn, ctx, access, *args)
    response.status_code = result.status
    return result.body


async def respond_on_book(
    request: Request,
    principal: Principal,
    response: Response,
    handler: Callable[..., Awaitable[CommandResult]],
    class_id: UUID,
    subject_id: UUID,
    *args: Any,
    lesson_id: UUID | None = None,
    calendar: bool = False,
) -> Any:
    """``respond`` for a command on a class-subject grade book: the caller's staff roles and the
    book's facts (``queries.book_facts``, with the lesson and calendar the command names, the
    school's policy and the book's newer events) come in one statement; the handler gets
    ``(runtime, conn, ctx, access, facts, class_id, subject_id, *args)``."""
    runtime = runtime_of(request)
    async with runtime.db.raw() as conn:
        facts = await queries.book_facts(
            conn,
            principal.school_id,
            principal.person_id,
            class_id,
            subject_id,
            lesson_id=lesson_id,
            calendar=calendar,
            book=handlers.book_to_read(runtime, principal.school_id, class_id, subject_id),
        )
        access, ctx = await _context(request, principal, facts.staff_roles)
        result = await handler(runtime, conn, ctx, access, facts, class_id, subject_id, *args)
    response.status_code = result.status
    return result.body
