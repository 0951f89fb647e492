"""A projection written as plain SQL statements per event, so a batch pipelines them.

Each ``on_<EventType>`` returns the statements for one event without reading anything, which is
what lets ``apply_batch`` send a run of same-shaped statements as one ``executemany`` while keeping
the events' order.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import asyncpg

from ezurnals.shared.contracts.base import EventEnvelope, IntegrationEvent
from ezurnals.shared.messaging.projection import Projection

Statement = tuple[str, tuple[Any, ...]]


class StatementProjection(Projection):
    def statements(self, envelope: EventEnvelope, event: IntegrationEvent) -> list[Statement]:
        handler = getattr(self, f"on_{envelope.event_type}")
        result: list[Statement] = handler(envelope, event)
        return result

    async def apply(
        self, conn: asyncpg.Connection, envelope: EventEnvelope, event: IntegrationEvent
    ) -> None:
        for sql, args in self.statements(envelope, event):
            await conn.execute(sql, *args)

    async def apply_batch(
        self, conn: asyncpg.Connection, items: Sequence[tuple[EventEnvelope, IntegrationEvent]]
    ) -> None:
        runs: list[tuple[str, list[tuple[Any, ...]]]] = []
        for envelope, event in items:
            for sql, args in self.statements(envelope, event):
                if runs and runs[-1][0] is sql:
                    runs[-1][1].append(args)
                else:
                    runs.append((sql, [args]))
        for sql, rows in runs:
            if len(rows) == 1:
                await conn.execute(sql, *rows[0])
            else:
                await conn.executemany(sql, rows)
