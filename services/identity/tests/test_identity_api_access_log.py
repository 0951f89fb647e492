"""Access logs span every service: reads elsewhere arrive as PersonalDataRead events (rule 10)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from ezurnals.identity.service import SERVICE
from ezurnals.shared.contracts.audit import PersonalDataRead
from ezurnals.shared.contracts.base import Actor, EventEnvelope
from ezurnals.shared.messaging import kafka
from ezurnals.shared.settings import Settings
from ezurnals.shared.testing.stack import eventually, running_worker


def read_elsewhere(
    service: str, school_id: str, reader: str, subjects: list[str], what: str
) -> EventEnvelope:
    """What another service's AuditedRoute appends and relays for one read."""
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
    api: Any, kit: Any, settings: Settings
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
            "SELECT event_id, stream_id, payload FROM events WHERE event_type = 'PersonalDataRead' "
            "AND actor->>'id' = $1",
            ct,
        )
    assert [(p["payload"]["subject_ids"], p["payload"]["what"]) for p in published] == [
        ([student], "personal_file")
    ]
    assert published[0]["stream_id"].startswith(f"audit-{ct}-")

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
