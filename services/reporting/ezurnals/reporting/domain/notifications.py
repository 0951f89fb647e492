"""Family notifications (rule 1): when a queued notice may leave, and what it says.

Pure: times are local to the school; the caller converts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, time, timedelta
from enum import StrEnum
from typing import Any

MAX_ATTEMPTS = 8


class Kind(StrEnum):
    ABSENCE_RECORDED = "absence_recorded"
    GRADE_RECORDED = "grade_recorded"
    EXCUSE_DECIDED = "excuse_decided"
    STATEMENT_READY = "statement_ready"
    ABSENCE_THRESHOLD = "absence_threshold"


class Delivery(StrEnum):
    IMMEDIATE = "immediate"
    DIGEST = "digest"


def in_quiet_hours(at: time, start: time | None, end: time | None) -> bool:
    """Quiet hours may wrap midnight (22:00–07:00); equal ends mean none."""
    if start is None or end is None or start == end:
        return False
    if start < end:
        return start <= at < end
    return at >= start or at < end


def due(
    now: datetime,
    queued_at: datetime,
    *,
    delivery: Delivery,
    digest_at: time,
    quiet_from: time | None,
    quiet_to: time | None,
) -> bool:
    """Whether a notice queued at ``queued_at`` may leave at ``now`` (both local).

    Nothing leaves in quiet hours. A digest leaves once a day at ``digest_at`` with everything
    queued before that moment; later notices wait for the next day's.
    """
    if in_quiet_hours(now.time(), quiet_from, quiet_to):
        return False
    if delivery is Delivery.IMMEDIATE:
        return True
    today = now.replace(hour=digest_at.hour, minute=digest_at.minute, second=0, microsecond=0)
    return now >= today and queued_at < today


def backoff(attempts: int) -> timedelta:
    """30 s, 1 min, 2 min, … at most an hour between attempts."""
    return min(timedelta(seconds=30 * 2 ** max(attempts - 1, 0)), timedelta(hours=1))


def line(kind: str, facts: Mapping[str, Any]) -> str:
    """One notice in Latvian; the child is not named (reporting holds no names)."""
    if kind == Kind.ABSENCE_RECORDED:
        what = "kavējums" if not facts.get("is_late") else "kavēšanās"
        return f"{facts['date']}: reģistrēts {what} ({facts['code']})."
    if kind == Kind.GRADE_RECORDED:
        return f"{facts['date']}: jauns vērtējums {facts['value']} – {facts['work_title']}."
    if kind == Kind.EXCUSE_DECIDED:
        if facts["decision"] == "accepted":
            return "Attaisnojuma iesniegums pieņemts."
        return f"Attaisnojuma iesniegums noraidīts: {facts.get('reason', '')}."
    if kind == Kind.STATEMENT_READY:
        return f"Sekmju un kavējumu izraksts par {facts['month']} ir gatavs."
    return f"Kavējumu skaits šajā mēnesī sasniedza {facts['count']}."


SUBJECT = "E-žurnāls: jaunumi par jūsu bērnu"


def message(items: Sequence[tuple[str, Mapping[str, Any]]]) -> str:
    lines = [line(kind, facts) for kind, facts in items]
    if len(lines) == 1:
        return f"E-žurnāls: {lines[0]}"
    return "E-žurnāls, dienas kopsavilkums:\n" + "\n".join(f"- {x}" for x in lines)
