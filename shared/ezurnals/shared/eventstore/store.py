"""Append and load event streams; events, outbox rows and the command's result in one transaction.

Optimistic concurrency comes from the ``(stream_id, stream_version)`` key: an append with a stale
expected version collides with the row another writer committed and raises ConcurrencyConflict.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from itertools import pairwise
from typing import Any
from uuid import UUID

import asyncpg

from ezurnals.shared.contracts.base import (
    SYSTEM,
    Actor,
    EventEnvelope,
    IntegrationEvent,
    JsonDict,
    registry,
    utcnow,
)
from ezurnals.shared.db import Database


class ConcurrencyConflict(Exception):
    """Another writer appended to the stream first (answered with 409)."""

    def __init__(self, stream_id: str, expected_version: int) -> None:
        super().__init__(
            f"stream {stream_id!r} changed since version {expected_version}; reload and retry"
        )
        self.stream_id = stream_id
        self.expected_version = expected_version


class DuplicateCommand(Exception):
    """A command with this idempotency key was already carried out; its result is attached."""

    def __init__(self, result: CommandResult) -> None:
        super().__init__("command already carried out")
        self.result = result


class IdempotencyKeyReused(Exception):
    """The same Idempotency-Key came with a different request (answered with 422)."""


@dataclass(frozen=True)
class CommandResult:
    status: int
    body: Any


@dataclass(frozen=True)
class CommandContext:
    """Who asks, in which school, and how to recognise a retry of the same command."""

    actor: Actor = SYSTEM
    school_id: UUID | None = None
    correlation_id: UUID | None = None
    causation_id: UUID | None = None
    idempotency_key: str | None = None
    request_hash: str = ""
    now: datetime = field(default_factory=utcnow)

    @staticmethod
    def hash_request(*parts: Any) -> str:
        return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


InlineProjection = Callable[[asyncpg.Connection, Sequence[EventEnvelope]], Awaitable[None]]

# ``new_events`` returns what an inline projection's CTEs read (see SqlProjection).
_WRITE_EVENTS = """
WITH new_events AS (
    INSERT INTO events (event_id, stream_id, stream_version, event_type, schema_version, school_id,
                        occurred_at, recorded_at, actor, correlation_id, causation_id, payload)
    SELECT * FROM unnest($1::uuid[], $2::text[], $3::int[], $4::text[], $5::int[], $6::uuid[],
                         $7::timestamptz[], $8::timestamptz[], $9::jsonb[], $10::uuid[],
                         $11::uuid[], $12::jsonb[])
    RETURNING event_type, payload
), new_outbox AS (
    INSERT INTO outbox (event_id, topic, key, value, headers)
    SELECT * FROM unnest($13::uuid[], $14::text[], $15::text[], $16::bytea[], $17::jsonb[])
    RETURNING id
)"""
_WRITE_RESULT = """, result AS (
    INSERT INTO command_results (key, request_hash, status, body) VALUES ($18, $19, $20, $21)
)"""
# No NOTIFY here: it takes a server-wide lock at commit that serialises every appending
# transaction (measured: a sixth of append throughput); the relay polls an empty outbox instead.
_FINISH = """
SELECT count(*) FROM new_events"""


def _statements(ctes: str = "") -> tuple[str, str]:
    """The append without and with the command's result, with ``ctes`` after the outbox's."""
    return _WRITE_EVENTS + ctes + _FINISH, _WRITE_EVENTS + ctes + _WRITE_RESULT + _FINISH


#: The append alone, without and with the command's result.
_PLAIN = _statements()

#: The rows of its query tables one event writes, each ``(table, *key)`` from the event's payload;
#: a key shorter than the table's names every row it begins (all of a period's grades, say).
RowsWritten = Callable[[JsonDict], Iterable[tuple[str, ...]]]


def row_of(table: str, *fields: str) -> RowsWritten:
    """The one row of ``table`` an event writes, keyed by the payload's ``fields``."""

    def written(payload: JsonDict) -> list[tuple[str, ...]]:
        return [(table, *(str(payload[f]) for f in fields))]

    return written


def appended(contract: type[IntegrationEvent], table: str) -> str:
    """``FROM … WHERE …`` for a SqlProjection's CTE: each appended ``contract`` event as ``e``
    (``event_type``, ``payload``) and its payload as a row ``r`` of ``table`` (fields by column
    name; a column the payload does not name is null)."""
    return (
        f"FROM new_events e, jsonb_populate_record(NULL::{table}, e.payload) r "
        f"WHERE e.event_type = '{contract.event_type}'"
    )


def _apart(rows: list[tuple[str, ...]]) -> bool:
    """No row written twice: sorted, a key and any key it begins or repeats are neighbours."""
    rows.sort()
    return not any(later[: len(key)] == key for key, later in pairwise(rows))


#: What a SqlProjection's CTEs read when they run apart from the append: a batch's events,
#: upcast, as ``new_events`` (``event_type``, ``payload``).
_FED_EVENTS = """WITH new_events AS (
    SELECT * FROM unnest($1::text[], $2::jsonb[]) AS e(event_type, payload)
)"""


class SqlProjection:
    """An inline projection written once, as SQL: data-modifying CTEs (name → statement) that
    change the query tables from the rows ``new_events`` holds (``event_type``, ``payload`` as
    jsonb). Their text is fixed, so asyncpg prepares each statement once per connection.

    The append's own statement carries them where it can (``fits``), so the append, the
    projection and the command's result are one round trip. Otherwise (``__call__``, in the
    append's transaction) the same CTEs are fed the batch from ``unnest``, in order, in as few
    statements as keep no two events of one statement on one row: the CTEs of a statement do not
    see each other's writes and PostgreSQL does not say which of two changes to one row wins.

    ``writes`` names, for each contract the CTEs handle (at its current schema version), the rows
    an event writes. An event of a handled type at another schema version is upcast first: it
    never rides in the append's statement, which reads the payloads as they are stored.
    """

    def __init__(
        self,
        *,
        ctes: Mapping[str, str],
        writes: Mapping[type[IntegrationEvent], RowsWritten],
    ) -> None:
        body = "".join(f", {name} AS ({sql})" for name, sql in ctes.items())
        self.statements = _statements(body)
        self._fed = _FED_EVENTS + body + "\nSELECT 1"
        self._writes = {(c.event_type, c.schema_version): rows for c, rows in writes.items()}
        self._handled = frozenset(c.event_type for c in writes)

    async def __call__(self, conn: asyncpg.Connection, envelopes: Sequence[EventEnvelope]) -> None:
        """Apply the batch in order, each run of events that write no row twice in a statement."""
        types: list[str] = []
        payloads: list[str] = []
        rows: list[tuple[str, ...]] = []
        for envelope in envelopes:
            event = envelope.parse()
            payload = event.model_dump(mode="json")
            written = self._written(event.event_type, event.schema_version, payload)
            if types and not _apart([*rows, *written]):
                await conn.execute(self._fed, types, payloads)
                types, payloads, rows = [], [], []
            types.append(event.event_type)
            payloads.append(json.dumps(payload))
            rows.extend(written)
        if types:
            await conn.execute(self._fed, types, payloads)

    def _written(self, event_type: str, version: int, payload: JsonDict) -> list[tuple[str, ...]]:
        rows = self._writes.get((event_type, version))
        return [] if rows is None else list(rows(payload))

    def fits(self, envelopes: Sequence[EventEnvelope]) -> bool:
        """Whether the append's own statement can carry the CTEs for this batch."""
        rows: list[tuple[str, ...]] = []
        for e in envelopes:
            if (e.event_type, e.schema_version) in self._writes:
                rows.extend(self._written(e.event_type, e.schema_version, e.payload))
            elif e.event_type in self._handled:
                return False
        return _apart(rows)


_RESULT_ONLY = (
    "INSERT INTO command_results (key, request_hash, status, body) VALUES ($1, $2, $3, $4)"
)


def message_headers(e: EventEnvelope) -> dict[str, str]:
    """Kafka headers: type and version for routing without parsing, and the trace context.

    The W3C ``traceparent`` carries the correlation id as the trace id, so a command and every
    event and projection it causes share one trace across services.
    """
    trace = f"00-{e.correlation_id.hex}-{e.event_id.hex[:16]}-01" if e.correlation_id else ""
    return {
        "event_type": e.event_type,
        "schema_version": str(e.schema_version),
        "correlation_id": str(e.correlation_id or ""),
        "traceparent": trace,
    }


def _same_request(found: tuple[str, CommandResult], request_hash: str) -> CommandResult:
    """The earlier answer under a key, if it was given to the same request."""
    stored_hash, stored = found
    if stored_hash != request_hash:
        raise IdempotencyKeyReused("this Idempotency-Key was already used for a different request")
    return stored


def _record(row: asyncpg.Record) -> EventEnvelope:
    return EventEnvelope(
        event_id=row["event_id"],
        event_type=row["event_type"],
        schema_version=row["schema_version"],
        stream_id=row["stream_id"],
        stream_version=row["stream_version"],
        school_id=row["school_id"],
        occurred_at=row["occurred_at"],
        recorded_at=row["recorded_at"],
        actor=Actor.model_validate(row["actor"]),
        correlation_id=row["correlation_id"],
        causation_id=row["causation_id"],
        payload=row["payload"],
    )


_COLUMNS = (
    "event_id, event_type, schema_version, stream_id, stream_version, school_id, occurred_at, "
    "recorded_at, actor, correlation_id, causation_id, payload"
)


def stream_column(stream_id: str, after_version: str = "0") -> str:
    """One column of another query: the events of a stream (``stream_id`` and ``after_version``
    are SQL, parameters say) as ``[[event_type, schema_version, payload], …]``, so a handler
    reads a short stream with the facts it decides on instead of in a round trip of its own."""
    return f"""coalesce((SELECT jsonb_agg(jsonb_build_array(event_type, schema_version, payload)
                                ORDER BY stream_version)
                         FROM events
                         WHERE stream_id = {stream_id} AND stream_version > {after_version}),
                        '[]')"""


def parse_column(column: Sequence[Sequence[Any]]) -> list[IntegrationEvent]:
    """The events of a ``stream_column``, upcast and parsed, in stream order."""
    return [registry.parse(event_type, version, payload) for event_type, version, payload in column]


class EventStore:
    """The event store of one service; ``topic`` is where its outbox relay publishes."""

    def __init__(self, db: Database, *, topic: str, publish: bool = True) -> None:
        self.db = db
        self.topic = topic
        self.publish = publish

    def envelopes(
        self,
        stream_id: str,
        expected_version: int,
        events: Sequence[IntegrationEvent],
        ctx: CommandContext,
    ) -> list[EventEnvelope]:
        """Wrap decided events in envelopes numbered after ``expected_version``."""
        now = utcnow()
        return [
            EventEnvelope(
                event_type=e.event_type,
                schema_version=e.schema_version,
                stream_id=stream_id,
                stream_version=expected_version + i,
                school_id=ctx.school_id,
                occurred_at=ctx.now,
                recorded_at=now,
                actor=ctx.actor,
                correlation_id=ctx.correlation_id,
                causation_id=ctx.causation_id,
                payload=e.model_dump(mode="json"),
            )
            for i, e in enumerate(events, start=1)
        ]

    async def append(
        self,
        stream_id: str,
        expected_version: int,
        events: Sequence[IntegrationEvent],
        ctx: CommandContext | None = None,
        *,
        result: CommandResult | None = None,
        inline: InlineProjection | None = None,
        conn: asyncpg.Connection | None = None,
    ) -> list[EventEnvelope]:
        """Append ``events`` after ``expected_version``, atomically with their outbox rows and the
        command's ``result`` (stored under ``ctx.idempotency_key``).

        Raises ConcurrencyConflict for a stale version, DuplicateCommand for a repeated key and
        IdempotencyKeyReused for a key that came with another request. ``conn``: a connection
        the caller holds (no transaction open on it), so a command needs one pool checkout.
        """
        ctx = ctx or CommandContext()
        envs = self.envelopes(stream_id, expected_version, events, ctx)
        return await self.append_envelopes(envs, ctx, result=result, inline=inline, conn=conn)

    async def append_envelopes(
        self,
        envs: Sequence[EventEnvelope],
        ctx: CommandContext,
        *,
        result: CommandResult | None = None,
        inline: InlineProjection | None = None,
        conn: asyncpg.Connection | None = None,
    ) -> list[EventEnvelope]:
        """The command's key is not looked up first: its unique constraint refuses a repeat, and
        only then is the earlier answer read (a round trip, not one per command).

        One statement is atomic by itself: the append is a single round trip unless an inline
        projection must run its own statements (one that is not a SqlProjection, or a batch
        that does not fit one), which takes a transaction."""
        args = self._append_args(envs)
        keyed = ctx.idempotency_key is not None and result is not None
        carried = inline if isinstance(inline, SqlProjection) and inline.fits(envs) else None
        append, append_with_result = carried.statements if carried is not None else _PLAIN
        separate = inline if envs and carried is None else None
        async with self._connection(conn) as held:
            try:
                tx = held.transaction() if separate is not None else contextlib.nullcontext()
                async with tx:
                    if keyed:
                        assert result is not None
                        if envs:
                            await held.fetchval(
                                append_with_result,
                                *args,
                                ctx.idempotency_key,
                                ctx.request_hash,
                                result.status,
                                json.dumps(result.body),
                            )
                        else:
                            await held.execute(
                                _RESULT_ONLY,
                                ctx.idempotency_key,
                                ctx.request_hash,
                                result.status,
                                json.dumps(result.body),
                            )
                    elif envs:
                        await held.fetchval(append, *args)
                    if separate is not None:
                        await separate(held, envs)
            except asyncpg.UniqueViolationError as exc:
                # A retry or a concurrent twin of this command may have won on either constraint.
                # Only an append that stores the command's answer can meet its key: a further
                # append of the same command (attendance settling a student afterwards) that
                # lost a race is a conflict, though the key already holds the command's answer.
                if keyed and ctx.idempotency_key is not None:
                    previous = await self._recall(held, ctx.idempotency_key)
                    if previous is not None:
                        raise DuplicateCommand(_same_request(previous, ctx.request_hash)) from None
                if exc.constraint_name == "events_stream_version_key" and envs:
                    raise ConcurrencyConflict(
                        envs[0].stream_id, envs[0].stream_version - 1
                    ) from None
                raise
        return list(envs)

    def _append_args(self, envs: Sequence[EventEnvelope]) -> list[Any]:
        out = [
            e
            for e in envs
            if self.publish and registry.is_published(e.event_type, e.schema_version)
        ]
        headers = [message_headers(e) for e in out]
        return [
            [e.event_id for e in envs],
            [e.stream_id for e in envs],
            [e.stream_version for e in envs],
            [e.event_type for e in envs],
            [e.schema_version for e in envs],
            [e.school_id for e in envs],
            [e.occurred_at for e in envs],
            [e.recorded_at for e in envs],
            [e.actor.model_dump_json() for e in envs],
            [e.correlation_id for e in envs],
            [e.causation_id for e in envs],
            [json.dumps(e.payload) for e in envs],
            [e.event_id for e in out],
            [self.topic for _ in out],
            [e.stream_id for e in out],
            [e.model_dump_json().encode() for e in out],
            [json.dumps(h) for h in headers],
        ]

    async def recall(
        self, key: str, request_hash: str, *, conn: asyncpg.Connection | None = None
    ) -> CommandResult | None:
        """The stored result of an earlier command with this key, if any."""
        async with self._connection(conn) as held:
            found = await self._recall(held, key)
        return None if found is None else _same_request(found, request_hash)

    @staticmethod
    async def _recall(conn: asyncpg.Connection, key: str) -> tuple[str, CommandResult] | None:
        row = await conn.fetchrow(
            "SELECT request_hash, status, body FROM command_results WHERE key = $1", key
        )
        if row is None:
            return None
        return row["request_hash"], CommandResult(row["status"], row["body"])

    @asynccontextmanager
    async def _connection(
        self, conn: asyncpg.Connection | None
    ) -> AsyncIterator[asyncpg.Connection]:
        """The caller's connection, or one from the pool (a checkout costs CPU too)."""
        if conn is not None:
            yield conn
            return
        async with self.db.raw() as pooled:
            yield pooled

    async def load(
        self, stream_id: str, after_version: int = 0, *, conn: asyncpg.Connection | None = None
    ) -> list[EventEnvelope]:
        async with self._connection(conn) as held:
            rows = await held.fetch(
                f"SELECT {_COLUMNS} FROM events WHERE stream_id = $1 AND stream_version > $2 "
                "ORDER BY stream_version",
                stream_id,
                after_version,
            )
        return [_record(r) for r in rows]

    async def load_many(
        self, stream_ids: Sequence[str], *, conn: asyncpg.Connection | None = None
    ) -> dict[str, list[EventEnvelope]]:
        """Several whole streams in one round trip (a decision that needs a lesson and its
        school's policy, say); a stream without events maps to an empty list."""
        async with self._connection(conn) as held:
            rows = await held.fetch(
                f"SELECT {_COLUMNS} FROM events WHERE stream_id = ANY($1::text[]) "
                "ORDER BY stream_id, stream_version",
                list(stream_ids),
            )
        found: dict[str, list[EventEnvelope]] = {s: [] for s in stream_ids}
        for row in rows:
            found[row["stream_id"]].append(_record(row))
        return found

    async def load_after(
        self, after: Mapping[str, int], *, conn: asyncpg.Connection | None = None
    ) -> dict[str, list[EventEnvelope]]:
        """The events of several streams after a version of each, in one round trip (a lesson
        and its school's policy, each caught up from the version the cache keeps)."""
        async with self._connection(conn) as held:
            rows = await held.fetch(
                # LATERAL: each stream by the (stream_id, stream_version) index, as ``load``.
                f"SELECT e.* FROM unnest($1::text[], $2::int[]) AS w(s, v), LATERAL "
                f"(SELECT {_COLUMNS} FROM events WHERE stream_id = w.s AND stream_version > w.v "
                "ORDER BY stream_version) e",
                list(after),
                list(after.values()),
            )
        found: dict[str, list[EventEnvelope]] = {s: [] for s in after}
        for row in rows:
            found[row["stream_id"]].append(_record(row))
        return found

    async def read_all(
        self, after: tuple[int, int] = (0, 0), limit: int = 1000
    ) -> list[tuple[tuple[int, int], EventEnvelope]]:
        """Every event in a stable commit-safe order, paged by a ``(tx_id, position)`` cursor.

        Only transactions older than the snapshot's xmin are read, so no event can later appear
        before the cursor (a reader that tracked ``max(position)`` would skip late commits).
        """
        async with self.db.raw() as conn:
            rows = await conn.fetch(
                f"""SELECT tx_id::text::bigint AS tx, position, {_COLUMNS} FROM events
                    WHERE (tx_id::text::bigint, position) > ($1, $2)
                      AND tx_id < pg_snapshot_xmin(pg_current_snapshot())
                    ORDER BY tx_id, position LIMIT $3""",
                after[0],
                after[1],
                limit,
            )
        return [((r["tx"], r["position"]), _record(r)) for r in rows]

    async def requeue_all(self, *, replace: bool = False) -> int:
        """Put every stored event back into the outbox (a broker that lost its memory).

        ``replace``: first drop what the outbox still holds, with appends held off meanwhile, so
        no event is queued ahead of its stream's earlier ones (a broker lost while running).
        """
        async with self.db.raw() as conn, conn.transaction():
            if replace:
                await conn.execute("LOCK TABLE outbox IN EXCLUSIVE MODE")
                await conn.execute("DELETE FROM outbox")
            status = await conn.execute(
                """INSERT INTO outbox (event_id, topic, key, value, headers)
                   SELECT event_id, $1, stream_id,
                          convert_to(json_build_object(
                              'event_id', event_id, 'event_type', event_type,
                              'schema_version', schema_version, 'stream_id', stream_id,
                              'stream_version', stream_version, 'school_id', school_id,
                              'occurred_at', occurred_at, 'recorded_at', recorded_at,
                              'actor', actor, 'correlation_id', correlation_id,
                              'causation_id', causation_id, 'payload', payload)::text, 'UTF8'),
                          jsonb_build_object(
                              'event_type', event_type,
                              'schema_version', schema_version::text,
                              'correlation_id', coalesce(correlation_id::text, ''),
                              'traceparent', CASE WHEN correlation_id IS NULL THEN ''
                                  ELSE '00-' || replace(correlation_id::text, '-', '') || '-'
                                       || left(replace(event_id::text, '-', ''), 16) || '-01'
                                  END)
                   FROM events WHERE event_type <> ALL($2::text[]) ORDER BY tx_id, position""",
                self.topic,
                registry.unpublished(),
            )
        return int(status.split()[-1])

    async def outbox_status(self) -> tuple[int, float]:
        """(rows waiting, age in seconds of the oldest) — the relay's lag."""
        async with self.db.raw() as conn:
            row = await conn.fetchrow(
                "SELECT count(*) AS n, coalesce(extract(epoch FROM now() - min(created_at)), 0) "
                "AS age FROM outbox"
            )
        assert row is not None
        return int(row["n"]), float(row["age"])
