"""Report cards and the summary journal through the API, from finalised grades on the real stack;
and an event reporting cannot apply goes to the dead-letter topic while the agent carries on."""

from __future__ import annotations

import io
import uuid
from collections.abc import AsyncIterator
from datetime import date
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from pypdf import PdfReader

from ezurnals.reporting.service import SERVICE
from ezurnals.shared.contracts import grading as gr
from ezurnals.shared.contracts.base import EventEnvelope, registry
from ezurnals.shared.db import Database
from ezurnals.shared.settings import Settings
from ezurnals.shared.testing.auth import TestIssuer
from ezurnals.shared.testing.stack import TestStack, api_client, eventually, running_worker

from .conftest import Bus, School

P = gr.PeriodKind
NAMES_OF = ("Anna Bērziņa", "Berta Ķēniņa", "Ilze Šķēle", "Jānis Ozoliņš")


@pytest.fixture(scope="module")
async def settings(stack: TestStack, issuer: TestIssuer) -> Settings:
    return await stack.settings(
        SERVICE,
        database="reporting_cards",
        jwks_url=issuer.jwks_url,
        topic_prefix=f"{stack.prefix}cards.",
        consumer_max_attempts=2,
    )


@pytest.fixture(scope="module")
async def db(settings: Settings) -> AsyncIterator[Database]:
    database = Database(settings.database_url)
    yield database
    await database.dispose()


@pytest.fixture(scope="module")
async def school(
    settings: Settings, producer: AIOKafkaProducer, db: Database
) -> AsyncIterator[dict[str, Any]]:
    """A class of two with two subjects; the first semester's grades final except Berta's
    Latvian. Anna missed two lessons in the semester (one excused) and one in February."""
    s = School(Bus(settings, producer))
    await s.register()
    await s.define_year(date(2025, 12, 19))
    await s.hire(s.director, "director")
    latvian = await s.subject("latviesu_valoda", "Latviešu valoda", 105)
    first = await s.lesson(date(2025, 10, 6), 1, topic="Daļskaitļi", no_homework=True)
    second = await s.lesson(date(2025, 10, 7), 1, topic="Procenti", no_homework=True)
    february = await s.lesson(date(2026, 2, 2), 1, topic="Vienādojumi", no_homework=True)
    await s.absence(s.anna, first, date(2025, 10, 6))
    await s.excuse(s.anna, first, date(2025, 10, 6))
    await s.absence(s.anna, second, date(2025, 10, 7))
    await s.absence(s.anna, february, date(2026, 2, 2))
    await s.finalise(s.anna, s.subject_id, P.SEMESTER1, 7)
    await s.finalise(s.anna, latvian, P.SEMESTER1, 8)
    await s.finalise(s.berta, s.subject_id, P.SEMESTER1, 9)
    names = dict(
        zip((str(p) for p in (s.anna, s.berta, s.class_teacher, s.director)), NAMES_OF, strict=True)
    )
    async with running_worker(SERVICE, settings), db.raw() as conn:

        async def projected() -> bool:
            if await conn.fetchval("SELECT to_regclass('rm.absence_excuses')") is None:
                return False
            return (
                await conn.fetchval("SELECT count(*) FROM rm.final_grades") == 3
                and await conn.fetchval("SELECT count(*) FROM rm.attendance_marks") == 3
                and bool(await conn.fetchval("SELECT count(*) FROM rm.absence_excuses"))
                and bool(await conn.fetchval("SELECT count(*) FROM rm.staff"))
                and await conn.fetchval("SELECT count(*) FROM rm.teaching") == 2
            )

        await eventually(projected, timeout=30, what="the semester is projected")
        yield {"s": s, "latvian": latvian, "names": names}


def headers(issuer: TestIssuer, s: School, person: uuid.UUID, *roles: str) -> dict[str, str]:
    return issuer.headers(person, s.school_id, roles)


def pdf_pages(content: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(content)).pages]


async def test_missing_grades_block_issuing_with_the_list(
    settings: Settings, issuer: TestIssuer, school: dict[str, Any]
) -> None:
    s: School = school["s"]
    teacher = headers(issuer, s, s.class_teacher, "teacher", "class_teacher")
    async with api_client(SERVICE, settings, **teacher) as c:
        r = await c.post(f"/api/reporting/classes/{s.class_id}/report-cards/semester1")
        assert r.status_code == 409, r.text
        body = r.json()
        assert body["error"] == "grades_missing" and body["field"] == "period"
        assert body["details"]["missing"] == [
            {
                "student_id": str(s.berta),
                "subject_id": str(school["latvian"]),
                "subject": "Latviešu valoda",
            }
        ]
        ready = (await c.get(f"/api/reporting/classes/{s.class_id}/report-cards/semester1")).json()
        assert (ready["students"], ready["issued"], len(ready["missing"])) == (2, 0, 1)
        pdf = await c.post(
            f"/api/reporting/classes/{s.class_id}/report-cards/semester1/pdf", json={}
        )
        assert pdf.status_code == 409 and pdf.json()["details"]["missing"]
    parent = headers(issuer, s, s.bertas_father, "guardian")
    async with api_client(SERVICE, settings, **parent) as c:
        own = await c.get(
            f"/api/reporting/students/{s.berta}/report-cards/semester1",
            params={"school_year": "2025/2026"},
        )
        assert own.status_code == 409
        assert [m["subject"] for m in own.json()["details"]["missing"]] == ["Latviešu valoda"]
        refused = await c.post(f"/api/reporting/classes/{s.class_id}/report-cards/semester1")
        assert refused.status_code == 404 and refused.json()["field"] == "class_id"
        bad = await c.get(
            f"/api/reporting/students/{s.berta}/report-cards/semester1",
            params={"school_year": "2025/27"},
        )
        assert bad.status_code == 422 and bad.json()["field"] == "school_year"
        unknown = await c.get(
            f"/api/reporting/students/{s.berta}/report-cards/quarter",
            params={"school_year": "2025/2026"},
        )
        assert unknown.status_code == 422 and unknown.json()["field"] == "path.period"


async def test_issued_cards_print_grades_hours_absences_and_signatures(
    settings: Settings, issuer: TestIssuer, school: dict[str, Any], db: Database
) -> None:
    s: School = school["s"]
    await s.finalise(s.berta, school["latvian"], P.SEMESTER1, 6)
    teacher = headers(issuer, s, s.class_teacher, "teacher", "class_teacher")
    async with api_client(SERVICE, settings, **teacher) as c:

        async def issued() -> dict[str, Any] | None:
            r = await c.post(f"/api/reporting/classes/{s.class_id}/report-cards/semester1")
            return r.json() if r.status_code == 200 else None

        first = await eventually(issued, timeout=30, what="the cards could be issued")
        assert (first["school_year"], first["issued"], first["unchanged"]) == ("2025/2026", 2, 0)
        again = await c.post(f"/api/reporting/classes/{s.class_id}/report-cards/semester1")
        assert again.json()["issued"] == 0 and again.json()["unchanged"] == 2
        whole = await c.post(
            f"/api/reporting/classes/{s.class_id}/report-cards/semester1/pdf",
            json={"names": school["names"]},
        )
        assert whole.status_code == 200 and whole.headers["content-type"] == "application/pdf"
        pages = pdf_pages(whole.content)
        assert len(pages) == 2
        assert "Anna Bērziņa" in pages[0] and "Berta Ķēniņa" in pages[1]
        assert "Berta" not in pages[0]
    async with db.raw() as conn:
        events = await conn.fetch(
            "SELECT payload FROM events WHERE event_type = 'ReportCardIssued' ORDER BY position"
        )
    assert sorted(e["payload"]["student_id"] for e in events) == sorted(
        str(x) for x in (s.anna, s.berta)
    )
    assert all(len(e["payload"]["content_sha256"]) == 64 for e in events)
    assert {e["payload"]["issued_by"] for e in events} == {str(s.class_teacher)}

    mother = headers(issuer, s, s.annas_mother, "guardian")
    async with api_client(SERVICE, settings, **mother) as c:
        listed = (await c.get(f"/api/reporting/students/{s.anna}/report-cards")).json()
        assert [(x["school_year"], x["period"], x["version"]) for x in listed] == [
            ("2025/2026", "semester1", 1)
        ]
        card = (
            await c.get(
                f"/api/reporting/students/{s.anna}/report-cards/semester1",
                params={"school_year": "2025/2026"},
            )
        ).json()["report_card"]
        assert [(x["subject"], x["grade"], x["hours"]) for x in card["subjects"]] == [
            ("Latviešu valoda", "8", 105),
            ("Matemātika", "7", 175),
        ]
        assert (card["absences_excused"], card["absences_unexcused"]) == (1, 1)
        r = await c.post(
            f"/api/reporting/students/{s.anna}/report-cards/semester1/pdf",
            params={"school_year": "2025/2026"},
            json={"names": school["names"]},
        )
        assert r.status_code == 200, r.text
        (text,) = pdf_pages(r.content)
        for expected in (
            "Liecība",
            "1. semestris",
            "2025/2026",
            "Anna Bērziņa",
            "7.a",
            "Latviešu valoda",
            "105",
            "Matemātika",
            "175",
            "semestra vērtējums",
            "attaisnotas 1, neattaisnotas 1",
            "kopā 2",
            "Klases audzinātājs: Ilze Šķēle",
            "Direktors: Jānis Ozoliņš",
        ):
            assert expected in text, expected
        other = await c.get(
            f"/api/reporting/students/{s.berta}/report-cards/semester1",
            params={"school_year": "2025/2026"},
        )
        assert other.status_code == 404 and str(s.berta) not in other.text
        klass = await c.post(
            f"/api/reporting/classes/{s.class_id}/report-cards/semester1/pdf", json={}
        )
        assert klass.status_code == 404


async def test_the_year_card_says_gada_or_gala_and_the_summary_journal_prints_the_year(
    settings: Settings, issuer: TestIssuer, school: dict[str, Any]
) -> None:
    s: School = school["s"]
    latvian = school["latvian"]
    await s.finalise(s.anna, s.subject_id, P.FINAL, 8, gr.YearGradeType.GALA)
    await s.finalise(s.anna, latvian, P.ANNUAL, 7, gr.YearGradeType.GADA)
    await s.finalise(s.berta, s.subject_id, P.ANNUAL, 9, gr.YearGradeType.GADA)
    await s.finalise(s.berta, latvian, P.ANNUAL, 3, gr.YearGradeType.GADA)
    await s.finalise(s.berta, latvian, P.EXAM, 4)
    await s.finalise(s.berta, latvian, P.REEXAM, 6)
    director = headers(issuer, s, s.director, "director")
    async with api_client(SERVICE, settings, **director) as c:

        async def issued() -> bool:
            r = await c.post(f"/api/reporting/classes/{s.class_id}/report-cards/year")
            return r.status_code == 200 and r.json()["issued"] == 2

        await eventually(issued, timeout=30, what="the year's cards issued")
        r = await c.post(
            f"/api/reporting/students/{s.anna}/report-cards/year/pdf",
            params={"school_year": "2025/26"},  # the short spelling is read as the long one
            json={"names": school["names"]},
        )
        (text,) = pdf_pages(r.content)
        assert "Gada liecība" in text and "gala vērtējums" in text and "gada vērtējums" in text
        assert "2025/2026. mācību gads" in text
        assert "attaisnotas 1, neattaisnotas 2" in text

        async def journal_complete() -> dict[str, Any] | None:
            body = (await c.get(f"/api/reporting/classes/{s.class_id}/summary-journal")).json()
            cells = [c for row in body["rows"] for c in row["cells"]]
            return body if any(c["reexam"] for c in cells) else None

        journal = await eventually(journal_complete, what="the re-exam is in the journal")
        assert [x["subject"] for x in journal["subjects"]] == ["Latviešu valoda", "Matemātika"]
        rows = {row["student_id"]: row for row in journal["rows"]}
        assert rows[str(s.anna)]["cells"][1]["year_grade_type"] == "gala"
        assert (journal["absences_excused"], journal["absences_unexcused"]) == (1, 2)
        pdf = await c.post(
            f"/api/reporting/classes/{s.class_id}/summary-journal/pdf",
            json={"names": school["names"]},
        )
        assert pdf.status_code == 200
        (page,) = pdf_pages(pdf.content)
        for expected in (
            "Mācību sasniegumu kopsavilkuma žurnāls",
            "7.a klase, 2025/2026",
            "Anna Bērziņa",
            "Berta Ķēniņa",
            "8 g.",
            "3; eks. 4; pēcp. 6",
            "Latviešu valoda",
            "105 st.",
        ):
            assert expected in page, expected
        assert page.index("Anna Bērziņa") < page.index("Berta Ķēniņa")
    parent = headers(issuer, s, s.annas_mother, "guardian")
    async with api_client(SERVICE, settings, **parent) as c:
        r = await c.get(f"/api/reporting/classes/{s.class_id}/summary-journal")
        assert r.status_code == 404


async def test_an_event_reporting_cannot_apply_is_dead_lettered_and_the_agent_carries_on(
    settings: Settings, school: dict[str, Any], db: Database, producer: AIOKafkaProducer
) -> None:
    s: School = school["s"]
    topic = settings.topic("grading")
    await producer.send_and_wait(topic, key=b"broken", value=b"{not json")
    violating = EventEnvelope(
        event_type="GradeFinalized",
        schema_version=1,
        stream_id="broken-contract",
        stream_version=1,
        school_id=s.school_id,
        payload={"student_id": str(s.anna), "value": "7"},
    )
    await s.bus.resend(violating, "grading")
    # Valid by its v1 contract, but no school year: 2025 and 2027 do not follow each other.
    unreadable = EventEnvelope(
        event_type="GradeFinalized",
        schema_version=1,
        stream_id="bad-year",
        stream_version=1,
        school_id=s.school_id,
        payload=registry.model("GradeFinalized", 1)(
            school_id=s.school_id,
            class_id=s.class_id,
            subject_id=s.subject_id,
            school_year="2025/27",
            student_id=s.anna,
            period=P.SEMESTER2,
            scale=gr.ScaleKind.TEN_POINT,
            value="5",
            finalized_at=violating.occurred_at,
        ).model_dump(mode="json"),
    )
    await s.bus.resend(unreadable, "grading")
    await s.finalise(s.anna, s.subject_id, P.SEMESTER2, 9)
    async with db.raw() as conn:

        async def carried_on() -> bool:
            return bool(
                await conn.fetchval(
                    "SELECT count(*) FROM rm.final_grades WHERE period = 'semester2'"
                )
            )

        await eventually(carried_on, timeout=30, what="the next event is applied")

        async def three_letters() -> list[Any]:
            # Partitions are applied independently: the retried event may still be in flight.
            found = await conn.fetch(
                "SELECT event_id, error, attempts FROM dead_letters WHERE topic = $1 ORDER BY id",
                topic,
            )
            return found if len(found) >= 3 else []

        letters = await eventually(three_letters, timeout=30, what="three dead letters")
    assert len(letters) == 3
    # none of the three can be read, so none is retried (the year fails its upcast to v2)
    assert all(letter["event_id"] is None and letter["attempts"] == 1 for letter in letters)
    errors = [letter["error"] for letter in letters]
    assert any("Invalid JSON" in e for e in errors)
    assert any("GradeFinalized" in e and "class_id" in e for e in errors)
    assert any("2025/27" in e for e in errors)
    consumer = AIOKafkaConsumer(
        settings.dead_letter_topic("grading"),
        bootstrap_servers=settings.kafka_bootstrap_servers,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    try:
        found: list[dict[str, bytes]] = []

        async def read_dlt() -> bool:
            batch = await consumer.getmany(timeout_ms=500)
            found.extend(dict(r.headers) for rs in batch.values() for r in rs)
            return len(found) >= 3

        await eventually(read_dlt, what="three messages on the DLT")
    finally:
        await consumer.stop()
    assert all(h["dlt.consumer"] == b"reporting.projections" for h in found)
    assert any(b"2025/27" in h["dlt.error"] for h in found)
