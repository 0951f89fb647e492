"""Access logs span every service: reads elsewhere arrive as PersonalDataReads events, one per
group-commit batch, and older stores' PersonalDataRead events still apply (rule 10)."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from ezurnals.identity.access_log import ReadsElsewhere
from ezurnals.identity.service import SERVICE
from ezurnals.shared.auth.principal import Principal
from ezurnals.shared.contracts.audit import AuditedRead, PersonalDataRead, PersonalDataReads
from ezurnals.shared.contracts.base import Actor, EventEnvelope
from ezurnals.shared.db import Database
from ezurnals.shared.eventstore import EventStore
from ezurnals.shared.http.audit import AuditLog
from ezurnals.shared.messaging import kafka
from ezurnals.shared.messaging.projection import apply_events, install
from ezurnals.shared.settings import Settings
from ezurnals.shared.testing.probe import PROBE
from ezurnals.shared.testing.stack import TestStack, eventually, running_worker

if TYPE_CHECKING:
    from .conftest import Api, Kit


def read_elsewhere(
    service: str, school_id: str, reader: str, subjects: list[str], what: str
) -> EventEnvelope:
    """What another service's AuditedRoute appended and relayed for one read before reads were
    batched: such events stay in stores and topics and must still apply."""
    event = PersonalDataRead(
        source_service=service,
        school_id=uuid.UUID(school_id),
        reader_id=uuid.UUID(reader),
        reader_roles=["class_teacher", "teacher"],
        subject_ids=[uuid.UUID(s) for s in subjects],
        what=what,
        method="GET",
        path=f"/api/{service}/students/{subjects[0]}/{what}",
        read_at=datetime.now(UTC),
    )
    return EventEnvelope(
        event_type=PersonalDataRead.event_type,
        schema_version=PersonalDataRead.schema_version,
        stream_id=f"audit-{reader}-{uuid.uuid4()}",
        stream_version=1,
        school_id=uuid.UUID(school_id),
        actor=Actor(id=uuid.UUID(reader), role="class_teacher"),
        payload=event.model_dump(mode="json"),
    )


async def test_a_guardian_and_the_director_see_reads_made_in_other_services(
    api: Api, kit: type[Kit], settings: Settings
) -> None:
    school = await kit.new_school(api, "Žurnāla skola")
    ct, ct_token = await school.class_teacher("1.a", "Laura", "Strazdiņa")
    _, director_token = await school.staff("Dace", "Krūmiņa", ["director"])
    student = await school.student("Emīls", "Pērkons", "1.a")
    classmate = await school.student("Roberts", "Lapiņš", "1.a")
    guardian = await school.guardian(student, "Sandra", "Pērkone")
    guardian_token = await school.signed_in(guardian)
    assert (await api.call("GET", f"/people/{student}", ct_token)).status_code == 200

    async with api.app.state.runtime.db.raw() as conn:
        published = await conn.fetch(
            "SELECT event_id, stream_id, payload FROM events WHERE event_type = 'PersonalDataReads'"
            " AND actor->>'id' = $1",
            ct,
        )
    assert [
        [(r["reader_id"], r["subject_ids"], r["what"]) for r in p["payload"]["reads"]]
        for p in published
    ] == [[(ct, [student], "personal_file")]]
    assert published[0]["stream_id"].startswith("audit-")

    # Another school's read comes first on the same partition, so it is consumed before the
    # read that the test waits for: its absence from the logs is then a real refusal.
    reads = [
        ("attendance", read_elsewhere("attendance", str(uuid.uuid4()), ct, [student], "diary")),
        (
            "attendance",
            read_elsewhere("attendance", school.school_id, ct, [student, classmate], "absences"),
        ),
        ("grading", read_elsewhere("grading", school.school_id, ct, [classmate], "grades")),
    ]
    producer = kafka.producer(settings)
    await producer.start()
    try:
        async with running_worker(SERVICE, settings):
            for service, envelope in reads:
                await producer.send_and_wait(
                    settings.topic(service),
                    key=f"audit-{ct}".encode(),
                    value=envelope.model_dump_json().encode(),
                )

            async def guardian_log() -> list[dict[str, Any]]:
                log: list[dict[str, Any]] = await api.ok(
                    "GET", f"/people/{student}/access-log", guardian_token
                )
                return log if any(e["what"] == "absences" for e in log) else []

            log = await eventually(guardian_log, what="attendance read in the guardian's log")

            async def staff_audit() -> list[dict[str, Any]]:
                audit: list[dict[str, Any]] = await api.ok(
                    "GET", f"/staff/{ct}/accesses", director_token
                )
                return audit if any(e["what"] == "grades" for e in audit) else []

            audit = await eventually(staff_audit, what="grading read in the director's audit")

            async def own_read_relayed_back() -> bool:
                async with api.app.state.runtime.db.raw() as conn:
                    return bool(
                        await conn.fetchval(
                            "SELECT 1 FROM rm.processed_events WHERE event_id = $1",
                            published[0]["event_id"],
                        )
                    )

            # Identity's own read comes back on its topic; the log must still show it once.
            await eventually(own_read_relayed_back, what="identity's own read consumed")
            log = await api.ok("GET", f"/people/{student}/access-log", guardian_token)
            audit = await api.ok("GET", f"/staff/{ct}/accesses", director_token)
    finally:
        await producer.stop()

    assert sorted((e["actor_id"], e["what"], e["service"]) for e in log) == [
        (ct, "absences", "attendance"),
        (ct, "personal_file", "identity"),
    ]
    assert all(e["subject_id"] == student for e in log)
    absences = next(e for e in log if e["what"] == "absences")
    assert absences["path"] == f"/api/attendance/students/{student}/absences"
    assert absences["actor_roles"] == ["class_teacher", "teacher"]
    stamps = [e["accessed_at"] for e in log]
    assert stamps == sorted(stamps, key=datetime.fromisoformat, reverse=True)

    assert sorted((e["subject_id"], e["what"]) for e in audit) == sorted(
        [
            (student, "personal_file"),
            (student, "absences"),
            (classmate, "absences"),
            (classmate, "grades"),
        ]
    )


async def test_concurrent_reads_elsewhere_are_one_event_and_every_read_shows(
    api: Api, kit: type[Kit], settings: Settings, stack: TestStack
) -> None:
    school = await kit.new_school(api, "Partijas skola")
    ct, _ = await school.class_teacher("1.a", "Ilze", "Ozola")
    student = await school.student("Marta", "Kalniņa", "1.a")
    mother = await school.guardian(student, "Inga", "Kalniņa")
    father = await school.guardian(student, "Jānis", "Kalniņš")
    mother_token = await school.signed_in(mother)
    school_id, child = uuid.UUID(school.school_id), uuid.UUID(student)
    readers = [
        Principal(uuid.UUID(mother), school_id, frozenset({"guardian"})),
        Principal(uuid.UUID(father), school_id, frozenset({"guardian"})),
        Principal(uuid.UUID(ct), school_id, frozenset({"teacher", "class_teacher"})),
    ]

    # Reporting's AuditLog, on a database of its own: the three diary reads arrive together.
    source = await stack.settings(PROBE, database="identity_access_log_reporting")
    db = Database(source.database_url)
    try:
        log = AuditLog(db, EventStore(db, topic=settings.topic("reporting")), "reporting")
        await asyncio.gather(
            *(
                log.record(
                    who,
                    [(child, "diary")],
                    method="GET",
                    path=f"/api/reporting/students/{student}/diary",
                    at=datetime.now(UTC),
                )
                for who in readers
            )
        )
        async with db.raw() as conn:
            outbox = await conn.fetch("SELECT topic, key, value FROM outbox ORDER BY id")
    finally:
        await db.dispose()
    (message,) = outbox
    envelope = EventEnvelope.model_validate_json(message["value"])
    assert envelope.event_type == "PersonalDataReads" and envelope.school_id == school_id
    assert message["topic"] == settings.topic("reporting")

    producer = kafka.producer(settings)
    await producer.start()
    try:
        async with running_worker(SERVICE, settings):
            await producer.send_and_wait(
                message["topic"], key=message["key"].encode(), value=bytes(message["value"])
            )

            async def guardian_log() -> list[dict[str, Any]]:
                log: list[dict[str, Any]] = await api.ok(
                    "GET", f"/people/{student}/access-log", mother_token
                )
                diary = [e for e in log if e["what"] == "diary"]
                return diary if len(diary) == len(readers) else []

            diary = await eventually(guardian_log, what="every batched read in the guardian's log")
    finally:
        await producer.stop()

    assert sorted((e["actor_id"], e["service"], e["subject_id"]) for e in diary) == sorted(
        (str(p.person_id), "reporting", student) for p in readers
    )
    teacher = next(e for e in diary if e["actor_id"] == ct)
    assert teacher["actor_roles"] == ["class_teacher", "teacher"]
    assert teacher["path"] == f"/api/reporting/students/{student}/diary"


def legacy_row(event_id: uuid.UUID, subject: uuid.UUID) -> tuple[Any, ...]:
    now = datetime.now(UTC)
    return (
        event_id,
        "grading",
        uuid.uuid4(),
        uuid.uuid4(),
        ["teacher"],
        subject,
        "g",
        "GET",
        "/",
        now,
    )


async def test_the_access_log_table_is_upgraded_in_place_and_keeps_every_read(
    stack: TestStack,
) -> None:
    db = Database(await stack.database("identity_access_log_upgrade"))
    projection = ReadsElsewhere()
    school, child, old_event = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    try:
        async with db.raw() as conn:
            # The table as workers before read_no created it, with a row in it.
            await conn.execute("CREATE SCHEMA rm")
            await conn.execute(
                """CREATE TABLE rm.personal_data_reads (
                       id BIGSERIAL PRIMARY KEY, event_id UUID NOT NULL, service TEXT NOT NULL,
                       school_id UUID NOT NULL, actor_id UUID NOT NULL,
                       actor_roles TEXT[] NOT NULL, subject_id UUID NOT NULL, what TEXT NOT NULL,
                       method TEXT NOT NULL, path TEXT NOT NULL,
                       accessed_at TIMESTAMPTZ NOT NULL, UNIQUE (event_id, subject_id))"""
            )
            await conn.execute(
                "INSERT INTO rm.personal_data_reads (event_id, service, school_id, actor_id,"
                " actor_roles, subject_id, what, method, path, accessed_at)"
                " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
                *legacy_row(old_event, child),
            )
            for _ in range(2):  # every worker start runs the DDL again
                await install(conn, "rm", [projection])
            keys = await conn.fetch(
                "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'rm'"
                " AND tablename = 'personal_data_reads' AND indexdef LIKE '%UNIQUE%'"
                " ORDER BY indexname"
            )

            mother, father = uuid.uuid4(), uuid.uuid4()
            batch = PersonalDataReads(
                source_service="reporting",
                reads=[
                    AuditedRead(
                        school_id=school,
                        reader_id=who,
                        reader_roles=["guardian"],
                        subject_ids=[child],
                        what="diary",
                        method="GET",
                        path=f"/api/reporting/students/{child}/diary",
                        read_at=datetime.now(UTC),
                    )
                    for who in (mother, father)
                ],
            )
            single = PersonalDataRead(
                source_service="attendance",
                school_id=school,
                reader_id=mother,
                reader_roles=["guardian"],
                subject_ids=[child],
                what="absences",
                method="GET",
                path="/api/attendance/x",
                read_at=datetime.now(UTC),
            )
            items = [
                (
                    EventEnvelope(
                        event_type=e.event_type,
                        schema_version=e.schema_version,
                        stream_id=f"audit-{uuid.uuid4()}",
                        stream_version=1,
                        payload=e.model_dump(mode="json"),
                    ),
                    e,
                )
                for e in (batch, single)
            ]
            assert await apply_events(conn, "rm", "identity", [projection], items) == 2
            rows = await conn.fetch(
                "SELECT event_id, read_no, actor_id, what FROM rm.personal_data_reads"
                " WHERE subject_id = $1 ORDER BY id",
                child,
            )
    finally:
        await db.dispose()

    assert [k["indexname"] for k in keys] == [
        "personal_data_reads_pkey",
        "personal_data_reads_read",
    ]
    assert "(event_id, read_no, subject_id)" in keys[1]["indexdef"]
    assert [(r["event_id"], r["read_no"], r["actor_id"], r["what"]) for r in rows[1:]] == [
        (items[0][0].event_id, 0, mother, "diary"),
        (items[0][0].event_id, 1, father, "diary"),
        (items[1][0].event_id, 0, mother, "absences"),
    ]
    assert (rows[0]["event_id"], rows[0]["read_no"]) == (old_event, 0)
