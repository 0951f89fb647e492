"""Who read whose personal data, and when (rule 10): recorded for every successful read.

A route notes each person whose data it hands out with ``record_read(request, person_ids,
what)``; routers built with ``route_class=AuditedRoute`` write those notes to the service's own
``access_audit`` table once the answer is a success (a refused read reveals nothing, so it is not
an access). The table is created on first use, so any service can adopt this without a migration.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Iterable
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg
from fastapi import Request, Response
from fastapi.routing import APIRoute

from ezurnals.shared.auth.principal import Principal
from ezurnals.shared.contracts.base import utcnow
from ezurnals.shared.db import Database

AUDIT_DDL = (
    """CREATE TABLE IF NOT EXISTS access_audit (
           id BIGSERIAL PRIMARY KEY,
           school_id UUID NOT NULL,
           actor_id UUID NOT NULL,
           actor_roles TEXT[] NOT NULL,
           subject_id UUID NOT NULL,
           what TEXT NOT NULL,
           method TEXT NOT NULL,
           path TEXT NOT NULL,
           accessed_at TIMESTAMPTZ NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS access_audit_subject ON access_audit (subject_id, accessed_at)",
    "CREATE INDEX IF NOT EXISTS access_audit_actor ON access_audit (actor_id, accessed_at)",
)
_LOCK = 7_215_003  # distinct from the migrations (7_215_001) and relay (7_215_002) locks
_ready: set[int] = set()


def record_read(request: Request, person_ids: Iterable[UUID], what: str) -> None:
    """Note that this request hands out ``what`` about these people."""
    notes: list[tuple[UUID, str]] = getattr(request.state, "audit_notes", [])
    notes += [(p, what) for p in person_ids]
    request.state.audit_notes = notes


async def ensure_table(db: Database) -> None:
    if id(db) in _ready:
        return
    async with db.raw() as conn, conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock($1)", _LOCK)
        for statement in AUDIT_DDL:
            await conn.execute(statement)
    _ready.add(id(db))


async def write(
    db: Database,
    principal: Principal,
    notes: Iterable[tuple[UUID, str]],
    *,
    method: str,
    path: str,
    at: datetime,
) -> None:
    rows = [
        (
            principal.school_id,
            principal.person_id,
            sorted(principal.roles),
            subject,
            what,
            method,
            path,
            at,
        )
        for subject, what in dict.fromkeys(notes)
    ]
    if not rows:
        return
    await ensure_table(db)
    async with db.raw() as conn:
        await conn.executemany(
            "INSERT INTO access_audit (school_id, actor_id, actor_roles, subject_id, what, method,"
            " path, accessed_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            rows,
        )


class AuditedRoute(APIRoute):
    """A route that writes the reads its handler noted, after a successful answer."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def audited(request: Request) -> Response:
            response = await handler(request)
            notes = getattr(request.state, "audit_notes", None)
            principal = getattr(request.state, "principal", None)
            if notes and isinstance(principal, Principal) and response.status_code < 400:
                clock = getattr(request.app.state, "clock", utcnow)
                await write(
                    request.app.state.runtime.db,
                    principal,
                    notes,
                    method=request.method,
                    path=request.url.path,
                    at=clock(),
                )
            return response

        return audited


async def accesses(
    db: Database,
    school_id: UUID,
    *,
    subject_ids: Iterable[UUID] | None = None,
    actor_id: UUID | None = None,
    limit: int = 500,
) -> list[dict[str, Any]]:
    """Recorded reads at a school, newest first: of these subjects, or by this actor."""
    await ensure_table(db)
    subjects = list(subject_ids) if subject_ids is not None else None
    async with db.raw() as conn:
        rows: list[asyncpg.Record] = await conn.fetch(
            """SELECT actor_id, actor_roles, subject_id, what, method, path, accessed_at
               FROM access_audit WHERE school_id = $1
                 AND ($2::uuid[] IS NULL OR subject_id = ANY($2))
                 AND ($3::uuid IS NULL OR actor_id = $3)
               ORDER BY accessed_at DESC, id DESC LIMIT $4""",
            school_id,
            subjects,
            actor_id,
            limit,
        )
    return [
        {
            "actor_id": str(r["actor_id"]),
            "actor_roles": list(r["actor_roles"]),
            "subject_id": str(r["subject_id"]),
            "what": r["what"],
            "method": r["method"],
            "path": r["path"],
            "accessed_at": r["accessed_at"].isoformat(),
        }
        for r in rows
    ]
