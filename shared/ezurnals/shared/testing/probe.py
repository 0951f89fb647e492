"""A tiny service that exercises the spine in tests and benchmarks: one event, one read model.

``ProbeRecorded`` with text ``"poison"`` makes the projection raise, to prove dead-lettering.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import asyncpg
from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from ezurnals.shared.contracts.base import Actor, EventEnvelope, IntegrationEvent, contract
from ezurnals.shared.eventstore import CommandResult
from ezurnals.shared.http.auth import CurrentPrincipal
from ezurnals.shared.http.commands import Decision, command_context, execute
from ezurnals.shared.messaging.projection import Projection
from ezurnals.shared.service import Runtime, ServiceDefinition
from ezurnals.shared.settings import Settings


@contract
class ProbeRecorded(IntegrationEvent):
    service: ClassVar[str] = "probe"
    event_type: ClassVar[str] = "ProbeRecorded"
    schema_version: ClassVar[int] = 1
    n: int
    text: str = ""


class PoisonedEvent(RuntimeError):
    """The probe projection refuses this event on purpose."""


class ProbeTotals(Projection):
    """Per stream: how many events were applied, their sum, and whether versions came in order.

    ``pipelined`` applies a batch with one ``executemany`` (asyncpg pipelines it); without it each
    event is its own statement, like a projection that must read before it writes.
    """

    sources = ("probe",)
    ddl = (
        """CREATE TABLE IF NOT EXISTS probe_totals (
               stream_id TEXT PRIMARY KEY, applied INTEGER NOT NULL, sum_n BIGINT NOT NULL,
               last_version INTEGER NOT NULL, in_order BOOLEAN NOT NULL)""",
    )
    event_types = frozenset({"ProbeRecorded"})
    UPSERT = """INSERT INTO probe_totals AS t (stream_id, applied, sum_n, last_version, in_order)
               VALUES ($1, 1, $2, $3, $3 = 1)
               ON CONFLICT (stream_id) DO UPDATE SET
                   applied = t.applied + 1, sum_n = t.sum_n + excluded.sum_n,
                   in_order = t.in_order AND excluded.last_version = t.last_version + 1,
                   last_version = excluded.last_version"""

    def __init__(self, *, pipelined: bool = True) -> None:
        self.pipelined = pipelined

    async def apply(
        self, conn: asyncpg.Connection, envelope: EventEnvelope, event: IntegrationEvent
    ) -> None:
        await conn.execute(self.UPSERT, *self._row(envelope, event))

    async def apply_batch(
        self, conn: asyncpg.Connection, items: Sequence[tuple[EventEnvelope, IntegrationEvent]]
    ) -> None:
        if not self.pipelined:
            await super().apply_batch(conn, items)
            return
        await conn.executemany(self.UPSERT, [self._row(env, ev) for env, ev in items])

    @staticmethod
    def _row(envelope: EventEnvelope, event: IntegrationEvent) -> tuple[str, int, int]:
        assert isinstance(event, ProbeRecorded)
        if event.text == "poison":
            raise PoisonedEvent(f"probe event {envelope.event_id} is poison")
        return envelope.stream_id, event.n, envelope.stream_version


def _projections(_: Settings) -> list[Projection]:
    return [ProbeTotals()]


class RecordProbe(BaseModel):
    """Append one ProbeRecorded to a stream, expecting it at ``expected_version``."""

    model_config = ConfigDict(extra="forbid")
    expected_version: int = Field(ge=0)
    n: int
    text: str = Field(default="", max_length=200)


class Recorded(BaseModel):
    stream_id: str
    version: int


def _routes() -> list[APIRouter]:
    router = APIRouter(tags=["probe"])

    @router.post("/streams/{stream_id}/events", status_code=201, response_model=Recorded)
    async def record(
        stream_id: str,
        body: RecordProbe,
        request: Request,
        principal: CurrentPrincipal,
        response: Response,
    ) -> Any:
        runtime: Runtime = request.app.state.runtime
        ctx = await command_context(
            request,
            actor=Actor(id=principal.person_id, role=sorted(principal.roles)[0]),
            school_id=principal.school_id,
        )

        async def decide() -> Decision:
            version = body.expected_version + 1
            return Decision(
                stream_id,
                body.expected_version,
                [ProbeRecorded(n=body.n, text=body.text)],
                CommandResult(201, {"stream_id": stream_id, "version": version}),
            )

        result = await execute(runtime.store, ctx, decide)
        response.status_code = result.status
        return result.body

    @router.get("/streams/{stream_id}")
    async def read(stream_id: str, request: Request, _: CurrentPrincipal) -> list[int]:
        runtime: Runtime = request.app.state.runtime
        return [
            ProbeRecorded.model_validate(e.payload).n for e in await runtime.store.load(stream_id)
        ]

    return [router]


PROBE = ServiceDefinition(name="probe", title="probe", projections=_projections, routers=_routes)


class ProbeLatency(Projection):
    """Records when each event was applied, to measure append-to-read-model lag."""

    sources = ("probe",)
    ddl = (
        """CREATE TABLE IF NOT EXISTS probe_latency (
               event_id UUID PRIMARY KEY, recorded_at TIMESTAMPTZ NOT NULL,
               applied_at TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp())""",
    )
    event_types = frozenset({"ProbeRecorded"})

    async def apply(
        self, conn: asyncpg.Connection, envelope: EventEnvelope, event: IntegrationEvent
    ) -> None:
        await conn.execute(
            "INSERT INTO probe_latency (event_id, recorded_at) VALUES ($1, $2)",
            envelope.event_id,
            envelope.recorded_at,
        )
