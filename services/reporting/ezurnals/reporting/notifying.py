"""Sending queued family notifications: load what is due → decide (pure) → send → record.

Each notice is keyed by guardian × source event × channel. Rows are locked while they are sent,
the key goes to ``notification_deliveries`` in the NotificationSent append's transaction, and a
key found there is never sent again (a crash after that append only marks the row).
"""

from __future__ import annotations

import json
import uuid
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol
from zoneinfo import ZoneInfo

import asyncpg
import structlog

from ezurnals.reporting.domain.notifications import (
    MAX_ATTEMPTS,
    SUBJECT,
    Delivery,
    backoff,
    due,
    message,
)
from ezurnals.reporting.queries import Reads
from ezurnals.shared.contracts.base import EventEnvelope
from ezurnals.shared.contracts.reporting import Channel, NotificationSent
from ezurnals.shared.eventstore import CommandContext
from ezurnals.shared.eventstore.store import InlineProjection
from ezurnals.shared.service import Runtime

log = structlog.get_logger(__name__)


class Sender(Protocol):
    async def send(self, to: str, subject: str, body: str, key: str) -> None: ...


PENDING = """SELECT q.guardian_id, q.source_event_id, q.channel, q.school_id, q.student_id,
                    q.kind, q.facts, q.queued_at, q.attempts, p.email, p.phone, p.delivery,
                    p.digest_at, p.quiet_from, p.quiet_to,
                    d.guardian_id IS NOT NULL AS delivered
             FROM notification_queue q
             JOIN notification_preferences p USING (guardian_id, school_id)
             LEFT JOIN notification_deliveries d USING (guardian_id, source_event_id, channel)
             WHERE q.state = 'pending' AND q.channel = ANY ($2::text[])
               AND (q.next_attempt_at IS NULL OR q.next_attempt_at <= $1)
             ORDER BY q.queued_at LIMIT 1000 FOR UPDATE OF q SKIP LOCKED"""
KEYS = (
    "(guardian_id, source_event_id, channel) IN "
    "(SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[]))"
)


def _keys(rows: Sequence[asyncpg.Record]) -> tuple[list[Any], list[Any], list[Any]]:
    return (
        [r["guardian_id"] for r in rows],
        [r["source_event_id"] for r in rows],
        [r["channel"] for r in rows],
    )


def _recording(rows: Sequence[asyncpg.Record]) -> InlineProjection:
    async def record(conn: asyncpg.Connection, envelopes: Sequence[EventEnvelope]) -> None:
        e = NotificationSent.model_validate(envelopes[0].payload)
        await conn.execute(
            "INSERT INTO notification_deliveries "
            "(guardian_id, source_event_id, channel, notification_id, sent_at) "
            "SELECT g, s, c, $4, $5 FROM unnest($1::uuid[], $2::uuid[], $3::text[]) AS k(g, s, c)",
            *_keys(rows),
            e.notification_id,
            e.sent_at,
        )

    return record


async def send_due(runtime: Runtime, now: datetime, senders: dict[Channel, Sender]) -> int:
    """Send what is due now; returns how many messages left."""
    if not senders:
        return 0
    async with runtime.db.raw() as conn:
        zones = {
            r["school_id"]: ZoneInfo(r["time_zone"])
            for r in await Reads(conn, runtime.settings.read_model_schema).fetch(
                "SELECT school_id, time_zone FROM rm.schools"
            )
        }
    sent = 0
    async with runtime.db.raw() as conn, conn.transaction():
        rows = await conn.fetch(PENDING, now, [str(c) for c in senders])
        done = [r for r in rows if r["delivered"]]
        groups: dict[tuple[Any, ...], list[asyncpg.Record]] = defaultdict(list)
        for r in rows:
            zone = zones.get(r["school_id"])
            if r["delivered"] or zone is None:
                continue
            delivery = Delivery(r["delivery"])
            if not due(
                now.astimezone(zone),
                r["queued_at"].astimezone(zone),
                delivery=delivery,
                digest_at=r["digest_at"],
                quiet_from=r["quiet_from"],
                quiet_to=r["quiet_to"],
            ):
                continue
            single = r["source_event_id"] if delivery is Delivery.IMMEDIATE else None
            groups[(r["guardian_id"], r["school_id"], r["channel"], single)].append(r)
        for (_, _, channel, single), batch in groups.items():
            if await _send(
                runtime, conn, now, senders[Channel(channel)], batch, digest=single is None
            ):
                done += batch
                sent += 1
        if done:
            await conn.execute(
                f"UPDATE notification_queue SET state = 'sent' WHERE {KEYS}", *_keys(done)
            )
    return sent


async def _send(
    runtime: Runtime,
    conn: asyncpg.Connection,
    now: datetime,
    sender: Sender,
    batch: list[asyncpg.Record],
    *,
    digest: bool,
) -> bool:
    first = batch[0]
    channel = Channel(first["channel"])
    to = first["email"] if channel is Channel.EMAIL else first["phone"]
    notification_id = uuid.uuid4()
    body = message([(r["kind"], _facts(r["facts"])) for r in batch])
    try:
        if not to:
            raise ValueError(f"no {channel} contact")
        await sender.send(to, SUBJECT, body, str(notification_id))
    except Exception as exc:
        attempts = first["attempts"] + 1
        await conn.execute(
            f"""UPDATE notification_queue SET attempts = attempts + 1,
                    next_attempt_at = $4, last_error = $5,
                    state = CASE WHEN attempts + 1 >= $6 THEN 'failed' ELSE state END
                WHERE {KEYS}""",
            *_keys(batch),
            now + backoff(attempts),
            str(exc)[:500],
            MAX_ATTEMPTS,
        )
        log.warning("notification.failed", channel=str(channel), attempts=attempts, error=str(exc))
        return False
    event = NotificationSent(
        notification_id=notification_id,
        school_id=first["school_id"],
        guardian_id=first["guardian_id"],
        student_id=first["student_id"],
        channel=channel,
        kind="digest" if digest else first["kind"],
        source_event_ids=tuple(r["source_event_id"] for r in batch),
        digest=digest,
        sent_at=now,
    )
    await runtime.store.append(
        f"notification-{notification_id}",
        0,
        [event],
        CommandContext(school_id=first["school_id"], now=now),
        inline=_recording(batch),
    )
    return True


def _facts(raw: Any) -> dict[str, Any]:
    value = json.loads(raw) if isinstance(raw, str) else raw
    assert isinstance(value, dict)
    return value
