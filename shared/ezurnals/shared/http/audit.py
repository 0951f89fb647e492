"""Who read whose personal data, and when (rule 10): recorded for every successful read.

A route notes each person whose data it hands out with ``record_read(request, person_ids,
what)``; routers built with ``route_class=AuditedRoute`` write those notes to the service's own
``access_audit`` table once the answer is a success (a refused read reveals nothing, so it is not
an access), before the answer leaves. The table is created on first use, so any service can adopt
this without a migration.

The reads of concurrent requests are written together (see ``AuditLog``): one transaction with
their ``access_audit`` rows and ONE ``PersonalDataReads`` event per batch (a very large batch is
split), on a fresh stream so the append never conflicts. The outbox relay
publishes it on the service's topic, and identity collects the reads into the guardians' access
logs and the director's staff audit without reading any other service's database. One event per
batch rather than per read: every event costs an outbox row, a relay send, broker storage and a
claim in each consumer, which at a thousand reads a second was most of the CPU a read cost.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable, Coroutine, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg
from fastapi import Request, Response
from fastapi.routing import APIRoute

from ezurnals.shared.auth.principal import Principal
from ezurnals.shared.contracts.audit import (
    MAX_READS_PER_EVENT,
    MAX_SUBJECTS_PER_EVENT,
    AuditedRead,
    PersonalDataReads,
)
from ezurnals.shared.contracts.base import SYSTEM, Actor, EventEnvelope, new_event_id, utcnow
from ezurnals.shared.db import Database
from ezurnals.shared.eventstore import CommandContext, EventStore

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
_INSERT = (
    "INSERT INTO access_audit (school_id, actor_id, actor_roles, subject_id, what, method, path,"
    " accessed_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
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


def _rows(
    principal: Principal, notes: Iterable[tuple[UUID, str]], method: str, path: str, at: datetime
) -> list[tuple[Any, ...]]:
    return [
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


def read_entries(
    principal: Principal,
    notes: Iterable[tuple[UUID, str]],
    *,
    method: str,
    path: str,
    at: datetime,
    correlation_id: UUID | None = None,
) -> list[AuditedRead]:
    """One read per kind of data handed out, naming every person it was read about.

    Validated here, per request, so a read the contract refuses fails its own request instead of
    the batch it would have joined."""
    subjects: dict[str, dict[UUID, None]] = {}
    for subject, what in notes:
        subjects.setdefault(what, {})[subject] = None
    roles = sorted(principal.roles)
    return [
        AuditedRead(
            school_id=principal.school_id,
            reader_id=principal.person_id,
            reader_roles=roles,
            subject_ids=list(people),
            what=what,
            method=method,
            path=path,
            read_at=at,
            correlation_id=correlation_id,
        )
        for what, people in subjects.items()
    ]


def _shared(values: Iterable[Any], default: Any) -> Any:
    """The value all items share, else ``default``."""
    distinct = set(values)
    return distinct.pop() if len(distinct) == 1 else default


def _chunks(reads: Sequence[AuditedRead]) -> list[list[AuditedRead]]:
    """Consecutive runs of at most ``MAX_READS_PER_EVENT`` reads and (unless one read alone has
    more) ``MAX_SUBJECTS_PER_EVENT`` people."""
    chunks: list[list[AuditedRead]] = []
    subjects = 0
    for read in reads:
        n = len(read.subject_ids)
        if (
            not chunks
            or len(chunks[-1]) >= MAX_READS_PER_EVENT
            or subjects + n > MAX_SUBJECTS_PER_EVENT
        ):
            chunks.append([])
            subjects = 0
        chunks[-1].append(read)
        subjects += n
    return chunks


def batch_envelopes(
    store: EventStore, service: str, reads: Sequence[AuditedRead]
) -> list[EventEnvelope]:
    """``PersonalDataReads`` events for a batch of reads (one unless it is large), on one fresh
    stream.

    The envelope's school, actor and correlation id are those every read in the event shares, else
    none (system actor): one event per batch rather than per school or reader, because an API
    serving many schools would otherwise be back to about one event per read. Each read keeps its
    own school, reader and correlation id in the payload."""
    stream = f"audit-{new_event_id()}"
    envelopes: list[EventEnvelope] = []
    for version, chunk in enumerate(_chunks(reads)):
        ctx = CommandContext(
            actor=_shared(
                (Actor(id=r.reader_id, role=min(r.reader_roles, default="system")) for r in chunk),
                SYSTEM,
            ),
            school_id=_shared((r.school_id for r in chunk), None),
            correlation_id=_shared((r.correlation_id for r in chunk), None),
            now=min(r.read_at for r in chunk),
        )
        event = PersonalDataReads(source_service=service, reads=chunk)
        envelopes += store.envelopes(stream, version, [event], ctx)
    return envelopes


@dataclass
class _Pending:
    rows: list[tuple[Any, ...]]
    reads: list[AuditedRead]
    done: asyncio.Future[None]


class AuditLog:
    """Writes the reads of concurrent requests together (group commit).

    Every audited answer waits until its reads are committed, so nothing is handed out
    unrecorded; but while one transaction is being written, the reads of the requests arriving
    meanwhile gather and go in the next one, with one event for the whole batch. At a few hundred
    reads a second that is one commit (and one fsync) and one published event per batch instead
    of two commits and an event per read.
    """

    def __init__(self, db: Database, store: EventStore, service: str) -> None:
        self.db = db
        self.store = store
        self.service = service
        self._queue: list[_Pending] = []
        self._writer: asyncio.Task[None] | None = None

    async def record(
        self,
        principal: Principal,
        notes: Iterable[tuple[UUID, str]],
        *,
        method: str,
        path: str,
        at: datetime,
        correlation_id: UUID | None = None,
    ) -> None:
        notes = list(notes)
        rows = _rows(principal, notes, method, path, at)
        if not rows:
            return
        reads = read_entries(
            principal, notes, method=method, path=path, at=at, correlation_id=correlation_id
        )
        pending = _Pending(rows, reads, asyncio.get_running_loop().create_future())
        self._queue.append(pending)
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write_queued())
        await asyncio.shield(pending.done)

    async def _write_queued(self) -> None:
        await ensure_table(self.db)
        while self._queue:
            batch, self._queue = self._queue, []
            try:
                await self.store.append_envelopes(
                    batch_envelopes(self.store, self.service, [r for p in batch for r in p.reads]),
                    CommandContext(),
                    inline=functools.partial(_insert_rows, [r for p in batch for r in p.rows]),
                )
            except BaseException as exc:
                for p in batch:
                    if not p.done.done():
                        p.done.set_exception(exc)
                if not isinstance(exc, Exception):
                    raise
            else:
                for p in batch:
                    if not p.done.done():
                        p.done.set_result(None)


async def _insert_rows(rows: list[tuple[Any, ...]], conn: asyncpg.Connection, _: object) -> None:
    await conn.executemany(_INSERT, rows)


class AuditedRoute(APIRoute):
    """A route that writes the reads its handler noted, after a successful answer."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def audited(request: Request) -> Response:
            response = await handler(request)
            notes = getattr(request.state, "audit_notes", None)
            principal = getattr(request.state, "principal", None)
            if notes and isinstance(principal, Principal) and response.status_code < 400:
                correlation = getattr(request.state, "correlation_id", None)
                log: AuditLog = request.app.state.audit
                await log.record(
                    principal,
                    notes,
                    method=request.method,
                    path=request.url.path,
                    at=getattr(request.app.state, "clock", utcnow)(),
                    correlation_id=UUID(correlation) if correlation else None,
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
    async with db.raw() as conn:
        rows = await accesses_in(
            conn, "access_audit", school_id, subject_ids=subject_ids, actor_id=actor_id, limit=limit
        )
    return [entry(r) for r in rows]


async def accesses_in(
    conn: asyncpg.Connection,
    table: str,
    school_id: UUID,
    *,
    subject_ids: Iterable[UUID] | None = None,
    actor_id: UUID | None = None,
    limit: int = 500,
) -> list[asyncpg.Record]:
    """Rows of ``table`` (a trusted name of a table with ``access_audit``'s columns), newest first:
    for a service that also keeps reads recorded elsewhere."""
    subjects = list(subject_ids) if subject_ids is not None else None
    rows: list[asyncpg.Record] = await conn.fetch(
        f"""SELECT * FROM {table} WHERE school_id = $1
              AND ($2::uuid[] IS NULL OR subject_id = ANY($2))
              AND ($3::uuid IS NULL OR actor_id = $3)
            ORDER BY accessed_at DESC, id DESC LIMIT $4""",
        school_id,
        subjects,
        actor_id,
        limit,
    )
    return rows


def entry(r: asyncpg.Record) -> dict[str, Any]:
    """One recorded read as the access-log endpoints show it."""
    return {
        "actor_id": str(r["actor_id"]),
        "actor_roles": list(r["actor_roles"]),
        "subject_id": str(r["subject_id"]),
        "what": r["what"],
        "method": r["method"],
        "path": r["path"],
        "accessed_at": r["accessed_at"].isoformat(),
    }
