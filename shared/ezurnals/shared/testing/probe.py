"""A tiny service that exercises the spine in tests and benchmarks: one event, one read model.

``ProbeRecorded`` with text ``"poison"`` makes the projection raise, to prove dead-lettering.
"""

from __future__ import annotations

from typing import ClassVar

import asyncpg
from ezurnals.shared.contracts.base import EventEnvelope, IntegrationEvent, contract
from ezurnals.shared.messaging.projection import Projection
from ezurnals.shared.service import ServiceDefinition
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
    sources = ("probe",)
    ddl = (
        """CREATE TABLE IF NOT EXISTS probe_totals (
               stream_id TEXT PRIMARY KEY, applied INTEGER NOT NULL, sum_n BIGINT NOT NULL,
               last_version INTEGER NOT NULL, in_order BOOLEAN NOT NULL)""",
    )
    event_types = frozenset({"ProbeRecorded"})

    async def apply(
        self, conn: asyncpg.Connection, envelope: EventEnvelope, event: IntegrationEvent
    ) -> None:
        assert isinstance(event, ProbeRecorded)
        if event.text == "poison":
            raise PoisonedEvent(f"probe event {envelope.event_id} is poison")
        await conn.execute(
            """INSERT INTO probe_totals AS t (stream_id, applied, sum_n, last_version, in_order)
               VALUES ($1, 1, $2, $3, $3 = 1)
               ON CONFLICT (stream_id) DO UPDATE SET
                   applied = t.applied + 1, sum_n = t.sum_n + excluded.sum_n,
                   in_order = t.in_order AND excluded.last_version = t.last_version + 1,
                   last_version = excluded.last_version""",
            envelope.stream_id,
            event.n,
            envelope.stream_version,
        )


def _projections(_: Settings) -> list[Projection]:
    return [ProbeTotals()]


PROBE = ServiceDefinition(name="probe", title="probe", projections=_projections)
