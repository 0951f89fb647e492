"""Audited reads on a real PostgreSQL: one PersonalDataReads event per group-commit batch."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pydantic
import pytest

from ezurnals.shared.auth.principal import Principal
from ezurnals.shared.contracts.audit import (
    MAX_READS_PER_EVENT,
    MAX_SUBJECTS_PER_EVENT,
    AuditedRead,
    PersonalDataReads,
)
from ezurnals.shared.contracts.base import SYSTEM, EventEnvelope
from ezurnals.shared.http.audit import AuditLog, read_entries
from ezurnals.shared.service import Runtime
from ezurnals.shared.testing.probe import PROBE
from ezurnals.shared.testing.stack import TestStack

AT = datetime(2025, 10, 6, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
async def runtime(stack: TestStack) -> AsyncIterator[Runtime]:
    settings = await stack.settings(PROBE, database="audit")
    rt = Runtime.create(settings)
    yield rt
    await rt.close()


@pytest.fixture
def log(runtime: Runtime) -> AuditLog:
    return AuditLog(runtime.db, runtime.store, "reporting")


async def events_since(runtime: Runtime, mark: int) -> list[EventEnvelope]:
    async with runtime.db.raw() as conn:
        rows = await conn.fetch(
            "SELECT stream_id FROM events WHERE position > $1 ORDER BY position", mark
        )
    streams = dict.fromkeys(r["stream_id"] for r in rows)
    return [e for s in streams for e in await runtime.store.load(s)]


async def last_event_id(runtime: Runtime) -> int:
    async with runtime.db.raw() as conn:
        found: int = await conn.fetchval("SELECT coalesce(max(position), 0) FROM events")
    return found


def reads_in(envelope: EventEnvelope) -> list[AuditedRead]:
    event = envelope.parse()
    assert isinstance(event, PersonalDataReads) and event.source_service == "reporting"
    return event.reads


def reader(school: uuid.UUID, *roles: str) -> Principal:
    return Principal(uuid.uuid4(), school, frozenset(roles))


async def read(
    log: AuditLog, who: Principal, subjects: list[uuid.UUID], what: str = "diary", **kw: Any
) -> None:
    await log.record(
        who,
        [(s, what) for s in subjects],
        method="GET",
        path=kw.pop("path", f"/api/reporting/students/{subjects[0]}/{what}"),
        at=AT,
        **kw,
    )


async def test_concurrent_reads_are_one_event_naming_every_reader(
    runtime: Runtime, log: AuditLog
) -> None:
    school, other_school = uuid.uuid4(), uuid.uuid4()
    child = uuid.uuid4()
    mother, father = reader(school, "guardian"), reader(school, "guardian")
    teacher = reader(school, "teacher", "class_teacher")
    visitor = reader(other_school, "director")
    correlations = [uuid.uuid4() for _ in range(4)]
    mark = await last_event_id(runtime)

    await asyncio.gather(
        *(
            read(log, who, [child], correlation_id=c)
            for who, c in zip([mother, father, teacher, visitor], correlations, strict=True)
        )
    )

    (envelope,) = await events_since(runtime, mark)
    reads = reads_in(envelope)
    assert [(r.reader_id, r.school_id, r.subject_ids, r.correlation_id) for r in reads] == [
        (mother.person_id, school, [child], correlations[0]),
        (father.person_id, school, [child], correlations[1]),
        (teacher.person_id, school, [child], correlations[2]),
        (visitor.person_id, other_school, [child], correlations[3]),
    ]
    assert reads[2].reader_roles == ["class_teacher", "teacher"]
    # Readers and schools differ: the envelope names none of them, each read keeps its own.
    assert envelope.school_id is None and envelope.actor == SYSTEM
    assert envelope.correlation_id is None
    assert envelope.stream_id.startswith("audit-") and envelope.stream_version == 1
    async with runtime.db.raw() as conn:
        rows = await conn.fetch(
            "SELECT actor_id, what FROM access_audit WHERE subject_id = $1 ORDER BY id", child
        )
        relayed = await conn.fetchval(
            "SELECT count(*) FROM outbox WHERE event_id = $1", envelope.event_id
        )
    assert [(r["actor_id"], r["what"]) for r in rows] == [
        (p.person_id, "diary") for p in (mother, father, teacher, visitor)
    ]
    assert relayed == 1


async def test_one_readers_batch_keeps_its_school_actor_and_correlation_on_the_envelope(
    runtime: Runtime, log: AuditLog
) -> None:
    school = uuid.uuid4()
    teacher = reader(school, "teacher")
    pupils = [uuid.uuid4(), uuid.uuid4()]
    correlation = uuid.uuid4()
    mark = await last_event_id(runtime)

    await log.record(
        teacher,
        [(pupils[0], "grades"), (pupils[1], "grades"), (pupils[0], "absences")],
        method="GET",
        path="/api/reporting/classes/x/journal",
        at=AT,
        correlation_id=correlation,
    )

    (envelope,) = await events_since(runtime, mark)
    assert [(r.what, r.subject_ids) for r in reads_in(envelope)] == [
        ("grades", pupils),
        ("absences", [pupils[0]]),
    ]
    assert envelope.school_id == school and envelope.actor.id == teacher.person_id
    assert envelope.actor.role == "teacher" and envelope.correlation_id == correlation
    assert envelope.occurred_at == AT


async def test_a_large_batch_is_split_into_events_on_one_stream(
    runtime: Runtime, log: AuditLog
) -> None:
    school = uuid.uuid4()
    guardians = [reader(school, "guardian") for _ in range(MAX_READS_PER_EVENT + 5)]
    mark = await last_event_id(runtime)

    await asyncio.gather(*(read(log, g, [uuid.uuid4()]) for g in guardians))

    envelopes = await events_since(runtime, mark)
    assert [e.stream_version for e in envelopes] == [1, 2]
    assert len({e.stream_id for e in envelopes}) == 1
    events = [reads_in(e) for e in envelopes]
    assert [r.reader_id for reads in events for r in reads] == [g.person_id for g in guardians]
    assert [len(reads) for reads in events] == [MAX_READS_PER_EVENT, 5]


async def test_an_event_holds_at_most_so_many_people_unless_one_read_has_more(
    runtime: Runtime, log: AuditLog
) -> None:
    school = uuid.uuid4()
    director = reader(school, "director")
    half = MAX_SUBJECTS_PER_EVENT // 2 + 1
    lists = [[uuid.uuid4() for _ in range(n)] for n in (half, half, MAX_SUBJECTS_PER_EVENT + 1)]
    mark = await last_event_id(runtime)

    await asyncio.gather(*(read(log, director, people) for people in lists))

    events = [reads_in(e) for e in await events_since(runtime, mark)]
    assert [[len(r.subject_ids) for r in reads] for reads in events] == [
        [half],
        [half],
        [MAX_SUBJECTS_PER_EVENT + 1],
    ]


async def test_a_read_the_contract_refuses_fails_only_its_own_request(
    runtime: Runtime, log: AuditLog
) -> None:
    school = uuid.uuid4()
    fine, broken = reader(school, "guardian"), reader(school, "guardian")
    child = uuid.uuid4()
    mark = await last_event_id(runtime)

    outcomes = await asyncio.gather(
        read(log, fine, [child]),
        read(log, broken, [child], path="/" + "x" * 2001),
        return_exceptions=True,
    )

    assert outcomes[0] is None and isinstance(outcomes[1], pydantic.ValidationError)
    (envelope,) = await events_since(runtime, mark)
    assert [r.reader_id for r in reads_in(envelope)] == [fine.person_id]


def test_reads_are_one_per_kind_of_data_without_repeating_a_person() -> None:
    who = reader(uuid.uuid4(), "teacher")
    a, b = uuid.uuid4(), uuid.uuid4()
    reads = read_entries(
        who,
        [(a, "grades"), (b, "grades"), (a, "grades"), (a, "absences")],
        method="GET",
        path="/p",
        at=AT,
    )
    assert [(r.what, r.subject_ids) for r in reads] == [("grades", [a, b]), ("absences", [a])]
