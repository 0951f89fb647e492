"""The shared directory and lessons projections: each service gets only its parts, and the
facts its access rules read (rolls with dates, the guardian's link and decision, adulthood)
come out right."""

from __future__ import annotations

from datetime import date
from uuid import uuid4

import asyncpg

from ezurnals.shared.contracts import identity as idn
from ezurnals.shared.contracts.base import EventEnvelope, IntegrationEvent
from ezurnals.shared.messaging.directory import Directory, Part
from ezurnals.shared.messaging.lessons_facts import LessonPart, LessonsFacts
from ezurnals.shared.messaging.projection import apply_events, install
from ezurnals.shared.testing.stack import TestStack


class FamilyDirectory(Directory):
    parts = frozenset({Part.ENROLMENTS, Part.GUARDIANSHIPS})


class EveryPart(Directory):
    pass


def envelope(event: IntegrationEvent) -> tuple[EventEnvelope, IntegrationEvent]:
    env = EventEnvelope(
        event_type=event.event_type,
        schema_version=event.schema_version,
        stream_id="school",
        stream_version=1,
        payload=event.model_dump(mode="json"),
    )
    return env, event


def test_a_service_gets_the_tables_and_events_of_its_parts_only() -> None:
    tables = " ".join(FamilyDirectory.ddl)
    assert "enrolments" in tables and "guardianships" in tables
    assert "adult_students" not in tables and "teaching" not in tables
    assert "StudentCameOfAge" not in (FamilyDirectory.event_types or ())
    assert "TeachingAssigned" not in (FamilyDirectory.event_types or ())
    assert "GuardianAccessDecided" in (FamilyDirectory.event_types or ())


async def test_rolls_links_and_adulthood(stack: TestStack) -> None:
    conn = await asyncpg.connect(await stack.database("directory"))
    try:
        school, a, b, anna, mother = uuid4(), uuid4(), uuid4(), uuid4(), uuid4()
        events: list[IntegrationEvent] = [
            idn.StudentEnrolled(
                school_id=school,
                student_id=anna,
                class_id=a,
                school_year="2026/27",
                enrolled_on=date(2026, 9, 1),
            ),
            idn.StudentMoved(
                school_id=school,
                student_id=anna,
                from_class_id=a,
                to_class_id=b,
                school_year="2026/2027",
                moved_on=date(2026, 11, 2),
            ),
            idn.GuardianLinked(
                school_id=school, guardian_id=mother, student_id=anna, linked_on=date(2026, 9, 1)
            ),
            idn.GuardianAccessDecided(
                school_id=school,
                guardian_id=mother,
                student_id=anna,
                keeps_access=False,
                decided_on=date(2027, 1, 5),
            ),
        ]
        projections = [EveryPart(), FamilyDirectory()]
        await install(conn, "rm", projections[:1])
        await install(conn, "other", projections[1:])
        assert await apply_events(conn, "rm", "t", projections[:1], [envelope(e) for e in events])
        await apply_events(conn, "other", "t", projections[1:], [envelope(e) for e in events])
        rolls = await conn.fetch(
            "SELECT class_id, from_day, to_day, left_by, active, school_year "
            "FROM rm.enrolments ORDER BY from_day"
        )
        assert [tuple(r) for r in rolls] == [
            (a, date(2026, 9, 1), date(2026, 11, 1), "moved", False, "2026/2027"),
            (b, date(2026, 11, 2), None, None, True, "2026/2027"),
        ]
        link = await conn.fetchrow("SELECT linked, restricted, keeps_access FROM rm.guardianships")
        assert tuple(link) == (True, False, False)
        assert await conn.fetchval("SELECT adult_since FROM rm.adult_students") == date(2027, 1, 5)
        assert await conn.fetchval("SELECT to_regclass('other.adult_students')") is None
        assert await conn.fetchval("SELECT keeps_access FROM other.guardianships") is False
    finally:
        await conn.close()


def test_lessons_facts_give_a_service_only_its_parts() -> None:
    class Catalog(LessonsFacts):
        parts = frozenset({LessonPart.SUBJECTS, LessonPart.LESSONS})

    tables = " ".join(Catalog.ddl)
    assert "subjects" in tables and "lessons" in tables
    assert "entry_deadline_policies" not in tables
    assert "LessonCancelled" in (Catalog.event_types or ())
    assert "LessonRecorded" not in (Catalog.event_types or ())
